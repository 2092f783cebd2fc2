/* Deploy tracking across lists and leaders: re-lists after a gone watch,
 * clock skew, a new leader re-listing, deletions, started points waiting for
 * a revision number, many and long names, and the memory per tracked object. */
#include "deploy_track_harness.h"

/* The watch of Deployments ends with 410 Gone and lists again while the
 * ReplicaSet watch already delivered the new ReplicaSet: the Deployment's
 * newest state comes in one event. A new revision, not a rollback. */
static void test_relist_after_gone(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "gone", .image = "shop/gone:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	feed_rs(t, "shop", "gone-66f7c", "Deployment", "gone", "shop/gone:2.0,fluent/fluent-bit:3.0", 2,
		"deployment.kubernetes.io/revision");
	d.image = "shop/gone:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated",
	d.t_spec = 10, d.t_cond = 12;
	feed_dep(t, &d, LIST);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 20;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/gone rolling started; Deployment/gone rolling progressing; Deployment/gone rolling completed");
	CHECK_PT(2, AT(20), -1, 10.0);
	hg_track_free(t);
}

/* The condition's time (the controller's clock) before the spec write's
 * (the API server's): the duration is 0, never negative. */
static void test_clock_skew(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "skew", .image = "shop/skew:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/skew:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.t_spec = 60, d.t_cond = 58;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/skew rolling started; Deployment/skew rolling completed");
	CHECK_PT(1, AT(58), -1, 0.0);
	hg_track_free(t);
}

/* A new leader lists objects. Phases older than the previous leader's
 * recorded-until time are not emitted again, but a rollout under way goes
 * on and its end gets the duration from its real start; rollouts after that
 * time are emitted from the list; watch events are always new. */
static void test_relist_by_new_leader(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(100));
	struct dep mid = { .ns = "shop", .name = "mid", .image = "shop/mid:2.0", .gen = 2, .rev = 2, .observed = 2,
			   .replicas = 3, .updated = 1, .available = 2, .reason = "ReplicaSetUpdated",
			   .t_spec = 50, .t_cond = 60 };
	feed_dep(t, &mid, LIST);
	struct dep late = { .ns = "shop", .name = "late", .image = "shop/late:2.0", .gen = 2, .rev = 2, .observed = 2,
			    .replicas = 3, .updated = 1, .available = 2, .reason = "ReplicaSetUpdated",
			    .t_spec = 110, .t_cond = 120 };
	feed_dep(t, &late, LIST);
	CHECK_STR(seq(), "Deployment/late rolling started; Deployment/late rolling progressing");
	CHECK_PT(0, AT(110), -1, -1);
	CHECK_PT(1, AT(120), -1, -1);

	mid.updated = 3, mid.available = 3, mid.reason = "NewReplicaSetAvailable", mid.t_cond = 130;
	feed_dep(t, &mid, WATCH);
	CHECK_STR(seq_from(2), "Deployment/mid rolling completed");
	CHECK_PT(2, AT(130), -1, 80.0);

	/* Created and seen on the watch, with API times before skip_before: emitted. */
	struct dep fresh = { .ns = "shop", .name = "fresh", .image = "shop/fresh:1.0", .gen = 1, .rev = 1,
			     .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			     .t_spec = 20, .t_cond = 30 };
	feed_dep(t, &fresh, WATCH);
	CHECK_STR(seq_from(3), "Deployment/fresh rolling started; Deployment/fresh rolling completed");
	CHECK_PT(4, AT(30), -1, 10.0);
	hg_track_free(t);

	/* kind's real coredns Deployment (created 04:14:45, available 04:15:05). */
	char *list = fixture_slurp("k8s-api/deployments/kind-v1.36-deploymentlist-kube-system.json");
	char *item = strstr(list, "{\"metadata\":{\"name\":\"coredns\"");
	CHECK(item != NULL);
	if (!item)
		return;
	char *end = strrchr(item, ']'); /* the list's "]}" */
	if (end)
		*end = '\0';
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1781496886)); /* recorded past its creation: only the end is new */
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_STR(seq(), "Deployment/coredns rolling completed");
	CHECK_PT(0, EPOCH(1781496905), -1, 20.0);
	CHECK_STR(pts[0].ns, "kube-system");
	CHECK_STR(pts[0].image, "registry.k8s.io/coredns/coredns:v1.14.2");
	CHECK_STR(pts[0].version, "v1.14.2");
	CHECK_INT(pts[0].revision, 1);
	CHECK_INT(pts[0].replicas, 2);
	CHECK_INT(pts[0].available, 2);
	CHECK_STR(pts[0].message, "ReplicaSet \"coredns-589f44dc88\" has successfully progressed.");
	hg_track_free(t);
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1781496906));
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_INT(npts, 0);
	hg_track_free(t);
	reset();
	t = hg_track_new(on_point, NULL); /* no earlier leader: everything the list shows */
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_STR(seq(), "Deployment/coredns rolling started; Deployment/coredns rolling completed");
	CHECK_PT(0, EPOCH(1781496885), -1, -1);
	hg_track_free(t);
	free(list);
}

/* Deleted mid-rollout: nothing more; created again: a new deploy. */
static void test_deleted(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "tmp", .image = "shop/tmp:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/tmp:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated",
	d.t_spec = 10, d.t_cond = 11;
	feed_dep(t, &d, WATCH);
	delete_dep(t, &d);
	delete_dep(t, &d); /* twice: no effect */
	CHECK_STR(seq(), "Deployment/tmp rolling started; Deployment/tmp rolling progressing");
	/* The same name created again, at 2.0: its first rollout. */
	struct dep n = { .ns = "shop", .name = "tmp", .image = "shop/tmp:2.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = 100, .t_cond = 108 };
	feed_dep(t, &n, WATCH);
	CHECK_STR(seq_from(2), "Deployment/tmp rolling started; Deployment/tmp rolling completed");
	CHECK_PT(3, AT(108), -1, 8.0);
	/* A deleted object never seen: ignored. */
	struct dep ghost = n;
	ghost.name = "ghost";
	delete_dep(t, &ghost);
	feed_svc(t, "ghost", "{\"app\":\"ghost\"}", NULL, 0, true, WATCH);
	CHECK_INT(npts, 4);
	hg_track_free(t);
}

/* Many workloads in one tracker; object names longer than the fields. */
static void test_many_and_long_names(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	char names[40][32];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "w%02d", i);
		struct dep d = { .ns = "bulk", .name = names[i], .image = "bulk/w:1", .gen = 1, .rev = 1, .observed = 1,
				 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
				 .t_spec = -100, .t_cond = -90 };
		feed_dep(t, &d, LIST);
	}
	for (int i = 0; i < 40; i += 13) {
		struct dep d = { .ns = "bulk", .name = names[i], .image = "bulk/w:2", .gen = 2, .rev = 2, .observed = 2,
				 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
				 .t_spec = i, .t_cond = i + 5 };
		feed_dep(t, &d, WATCH);
	}
	CHECK_STR(seq(), "Deployment/w00 rolling started; Deployment/w00 rolling completed; "
			 "Deployment/w13 rolling started; Deployment/w13 rolling completed; "
			 "Deployment/w26 rolling started; Deployment/w26 rolling completed; "
			 "Deployment/w39 rolling started; Deployment/w39 rolling completed");
	CHECK_PT(5, AT(31), -1, 5.0);
	hg_track_free(t);
}

/* started names the revision being rolled out: it waits for the controller
 * to number it (keeping the time of the spec write), for every strategy, as
 * does a canary pair's promoted (the stable's spec write);
 * when the number does not come, started is still emitted once, with what
 * is known: at the fifth state counting the spec write's, at a state 30 s
 * or more after it was seen, at the next template, at a deletion, at a
 * flush, before any other phase. A spec write a re-list shows from before
 * skip_before stays skipped. */
static void test_started_waits_for_revision(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "slow", .image = "shop/slow:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	/* The controller is slow: the spec write and four more states without a number. */
	d.image = "shop/slow:1.1", d.gen = 2, d.t_spec = 10;
	for (int i = 0; i < 4; i++)
		feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_INT(pts[0].revision, 1); /* what is known */
	CHECK_STR(pts[0].image, "shop/slow:1.1");
	d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 20;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 30;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started; Deployment/slow rolling progressing; "
			 "Deployment/slow rolling completed"); /* no second started */
	CHECK_INT(pts[2].revision, 2);

	/* The next state 30 s after the spec write was seen. */
	reset();
	d.image = "shop/slow:1.2", d.gen = 3, d.t_spec = 100;
	now_ns = AT(100);
	feed_dep(t, &d, WATCH);
	now_ns = AT(129);
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	now_ns = AT(130);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(100), -1, -1);
	CHECK_INT(pts[0].revision, 2);

	/* Another template before the number: the first one's started as it
	 * was written, the second waits for the number the controller gives. */
	reset();
	now_ns = AT(5000);
	d.image = "shop/slow:1.3", d.gen = 4, d.t_spec = 200;
	feed_dep(t, &d, WATCH);
	d.image = "shop/slow:1.4", d.gen = 5, d.t_spec = 201;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(200), -1, -1);
	CHECK_STR(pts[0].image, "shop/slow:1.3");
	CHECK_INT(pts[0].revision, 2);
	d.rev = 3, d.reason = "NewReplicaSetCreated", d.t_cond = 202;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(1), "Deployment/slow rolling started");
	CHECK_PT(1, AT(201), -1, -1);
	CHECK_STR(pts[1].image, "shop/slow:1.4");
	CHECK_INT(pts[1].revision, 3);

	/* Deleted before the number; flushed (leadership lost) before it. */
	reset();
	d.image = "shop/slow:1.5", d.gen = 6, d.t_spec = 300;
	feed_dep(t, &d, WATCH);
	delete_dep(t, &d);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_INT(pts[0].revision, 3);
	struct dep f = { .ns = "shop", .name = "flush", .image = "shop/flush:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &f, LIST);
	f.image = "shop/flush:2.0", f.gen = 2, f.t_spec = 400;
	feed_dep(t, &f, WATCH);
	CHECK_INT(npts, 1);
	hg_track_flush(t);
	hg_track_flush(t);
	CHECK_STR(seq_from(1), "Deployment/flush rolling started");
	CHECK_PT(1, AT(400), -1, -1);
	f.rev = 2, f.observed = 2, f.t_cond = 410;
	feed_dep(t, &f, WATCH);
	CHECK_STR(seq_from(1), "Deployment/flush rolling started; Deployment/flush rolling completed");
	hg_track_free(t);

	/* A new leader's list shows a spec write from before skip_before: numbered later, still skipped. */
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(100));
	struct dep l = { .ns = "shop", .name = "listed", .image = "shop/listed:2.0", .gen = 2, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = 90, .t_cond = -590 };
	feed_dep(t, &l, LIST);
	l.rev = 2, l.observed = 2, l.updated = 1, l.reason = "ReplicaSetUpdated", l.t_cond = 110;
	feed_dep(t, &l, WATCH);
	CHECK_STR(seq(), "Deployment/listed rolling progressing");
	hg_track_free(t);

	/* A canary pair: the Service's started names the canary's new revision. */
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"stable\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:1.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 0, .updated = 0, .available = 0, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &ca, LIST);
	ca.image = "shop/api:2.0", ca.gen = 2, ca.replicas = 1, ca.t_spec = 10;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 0);
	ca.rev = 2, ca.reason = "NewReplicaSetCreated", ca.t_cond = 11;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started");
	CHECK_PT(0, AT(10), 25, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "shop/api:2.0");
	ca.observed = 2, ca.updated = 1, ca.reason = "ReplicaSetUpdated", ca.t_cond = 12;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	/* Promoted: the stable's spec write, then its number and completion in one state. */
	st.image = "shop/api:2.0", st.gen = 2, st.t_spec = 30;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	st.rev = 2, st.observed = 2, st.t_cond = 40;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(2), "Service/api canary promoted; Service/api canary completed");
	CHECK_PT(2, AT(30), 100, -1);
	CHECK_INT(pts[2].revision, 2);
	CHECK_PT(3, AT(40), 100, 30.0);
	/* The next canary deleted before its number: started, then rolled_back. */
	ca.image = "shop/api:3.0", ca.gen = 3, ca.t_spec = 50;
	feed_dep(t, &ca, WATCH);
	now_ns = AT(60);
	delete_dep(t, &ca);
	now_ns = AT(5000);
	CHECK_STR(seq_from(4), "Service/api canary started; Service/api canary rolled_back");
	CHECK_PT(4, AT(50), 25, -1);
	CHECK_INT(pts[4].revision, 2);
	CHECK_STR(pts[4].image, "shop/api:3.0");
	CHECK_PT(5, AT(60), 0, 10.0);
	hg_track_free(t);

	/* A blue-green pair: the new color's revision. */
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "bg", "{\"app\":\"bg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "bg-blue", .image = "shop/bg:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"bg\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	struct dep green = blue;
	green.name = "bg-green", green.labels = "{\"app\":\"bg\",\"color\":\"green\"}";
	feed_dep(t, &blue, LIST);
	feed_dep(t, &green, LIST);
	green.image = "shop/bg:2.0", green.gen = 2, green.t_spec = 10;
	feed_dep(t, &green, WATCH);
	CHECK_INT(npts, 0);
	green.rev = 2, green.observed = 2, green.updated = 1, green.reason = "ReplicaSetUpdated", green.t_cond = 12;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq(), "Service/bg bluegreen started; Service/bg bluegreen progressing");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].version, "2.0");
	hg_track_free(t);
}

/* Bytes the program holds on the heap: what the tracker's entries cost. */
static size_t heap_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#elif !defined(HAVE_MEMCHECK)
	return 0;
#else
#ifdef HAVE_MEMCHECK
	if (RUNNING_ON_VALGRIND) { /* its malloc: the blocks a leak check finds */
		unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
		VALGRIND_DO_QUICK_LEAK_CHECK;
		VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
		return leaked + dubious + reachable + suppressed;
	}
#endif
	/* Plain glibc: no exact measure (mallinfo counts the chunks in its
	 * per-thread cache as in use, up to ~200 KB): counts only. */
	return 0;
#endif
}

/* n Deployment + Service + ReplicaSet sets in namespace shop, named c<from>..; deleted: their deletions. */
static void churn_sets(struct track *t, int from, int n, bool deleted)
{
	for (int i = from; i < from + n; i++) {
		char name[64], labels[128], sel[128], rs[80];
		snprintf(name, sizeof name, "churn-app-%04d", i);
		snprintf(labels, sizeof labels, "{\"app\":\"%s\",\"app.kubernetes.io/part-of\":\"churn\"}", name);
		snprintf(sel, sizeof sel, "{\"app\":\"%s\"}", name);
		snprintf(rs, sizeof rs, "%s-5d8f6c7b9", name);
		struct dep d = { .ns = "shop", .name = name, .image = "registry.example.com/shop/churn-app:1.0.0", .gen = 1,
				 .rev = 1, .observed = 1, .replicas = 2, .updated = 2, .available = 2,
				 .reason = "NewReplicaSetAvailable", .labels = labels, .t_spec = i, .t_cond = i + 5 };
		if (!deleted) {
			reset(); /* each new Deployment is a deploy (started, completed): not kept */
			feed_svc(t, name, sel, NULL, i, false, WATCH);
			rs_event(t, "shop", rs, "Deployment", name, "registry.example.com/shop/churn-app:1.0.0,fluent/fluent-bit:3.0",
				 1, "deployment.kubernetes.io/revision", false);
			feed_dep(t, &d, WATCH);
		} else {
			/* The order the garbage collector gives: the Deployment, then its ReplicaSet. */
			feed_svc(t, name, sel, NULL, i, true, WATCH);
			delete_dep(t, &d);
			rs_event(t, "shop", rs, "Deployment", name, "registry.example.com/shop/churn-app:1.0.0,fluent/fluent-bit:3.0",
				 1, "deployment.kubernetes.io/revision", true);
		}
	}
}

static void check_count(struct track *t, size_t workloads, size_t services)
{
	size_t w, sv, p;
	hg_track_count(t, &w, &sv, &p);
	CHECK_INT((int64_t)w, (int64_t)workloads);
	CHECK_INT((int64_t)sv, (int64_t)services);
	CHECK_INT((int64_t)p, 0);
}

/* Each tracked Deployment and Service costs at most 1 KiB, and deleting
 * them gives it back: creating and deleting 1,000 sets beside 10 that stay
 * leaves the heap where the first round left it (bytes where the build can
 * count them exactly: ASan, valgrind; entries always). Also: a ReplicaSet whose
 * owner is never seen is forgotten at its deletion. */
static void test_memory_per_object_and_freeing(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	/* The test build's AddressSanitizer, or valgrind, count the bytes exactly; else only entries. */
	bool exact = heap_bytes() > 0;
	churn_sets(t, 0, 10, false); /* the ones that stay */
	check_count(t, 10, 10);
	size_t base = heap_bytes();
	churn_sets(t, 100, 1000, false);
	check_count(t, 1010, 1010);
	size_t full = heap_bytes();
	double per_set = (double)(full - base) / 1000;
	if (exact) {
		printf("tracker: %.0f bytes per Deployment+Service+ReplicaSet set (2 tracked objects)\n", per_set);
		CHECK(per_set / 2 <= 1024);
		CHECK(per_set > 200); /* the measure sees the entries */
	}
	CHECK_STR(seq(), "Deployment/churn-app-1099 rolling started; Deployment/churn-app-1099 rolling completed");
	churn_sets(t, 100, 1000, true);
	CHECK_INT(npts, 2); /* deletions of finished deploys: nothing */
	check_count(t, 10, 10);
	size_t after1 = heap_bytes();
	/* What stays: the hash tables' buckets and arrays, sized for the peak. */
	if (exact) {
		printf("tracker: %zu bytes before, %zu with 1,000 sets more, %zu after deleting them\n", base, full, after1);
		CHECK(after1 < base + 64 * 1024);
	}
	for (int round = 0; round < 3; round++) {
		churn_sets(t, 2000 + round * 1000, 1000, false);
		churn_sets(t, 2000 + round * 1000, 1000, true);
	}
	check_count(t, 10, 10);
	size_t after4 = heap_bytes();
	if (exact) {
		printf("tracker: %zu bytes after 3 more rounds\n", after4);
		CHECK(after4 <= after1 + 1024); /* the parsed object kept by feed() varies by its strings */
	}
	/* The 10 still tracked: a rollout of one of them is a deploy. */
	reset();
	struct dep d = { .ns = "shop", .name = "churn-app-0003", .image = "registry.example.com/shop/churn-app:1.1.0",
			 .gen = 2, .rev = 2, .observed = 2, .replicas = 2, .updated = 2, .available = 2,
			 .reason = "NewReplicaSetAvailable",
			 .labels = "{\"app\":\"churn-app-0003\",\"app.kubernetes.io/part-of\":\"churn\"}", .t_spec = 5000,
			 .t_cond = 5010 };
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/churn-app-0003 rolling started; Deployment/churn-app-0003 rolling completed");
	/* ReplicaSets of an owner never seen (a Rollout while Argo is not watched): forgotten at their deletion. */
	for (int i = 0; i < 200; i++) {
		char rs[32];
		snprintf(rs, sizeof rs, "orphan-%d-7c9d", i);
		rs_event(t, "shop", rs, "Rollout", rs, "shop/orphan:1", 1, "rollout.argoproj.io/revision", false);
	}
	check_count(t, 210, 10);
	for (int i = 0; i < 200; i++) {
		char rs[32];
		snprintf(rs, sizeof rs, "orphan-%d-7c9d", i);
		rs_event(t, "shop", rs, "Rollout", rs, "shop/orphan:1", 1, "rollout.argoproj.io/revision", true);
	}
	check_count(t, 10, 10);
	if (exact)
		CHECK(heap_bytes() <= after4 + 1024);
	/* A ReplicaSet of a present Deployment deleted (history cleanup): the Deployment stays. */
	rs_event(t, "shop", "churn-app-0003-5d8f6c7b9", "Deployment", "churn-app-0003", "x:1", 1,
		 "deployment.kubernetes.io/revision", true);
	check_count(t, 10, 10);
	hg_track_free(t);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_relist_after_gone),
		CHECK_CASE(test_clock_skew),
		CHECK_CASE(test_relist_by_new_leader),
		CHECK_CASE(test_deleted),
		CHECK_CASE(test_many_and_long_names),
		CHECK_CASE(test_started_waits_for_revision),
		CHECK_CASE(test_memory_per_object_and_freeing),
	};
	return CHECK_RUN(argc, argv, cases);
}
