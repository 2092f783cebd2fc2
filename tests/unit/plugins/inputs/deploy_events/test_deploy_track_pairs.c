/* Deploy tracking of Deployment pairs: canary and blue-green by track
 * labels and Service selectors, abandoned canaries, objects out of order, and
 * blue-green in place. */
#include "deploy_track_harness.h"

/* A canary Deployment (track=canary) beside the stable one behind Service
 * api: the deploy is the Service's; the weight is canary pods over all pods. */
static void test_canary_pair(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"stable\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	CHECK_INT(npts, 0);

	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 0, .reason = "ReplicaSetUpdated",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	CHECK_PT(0, AT(10), 25, -1); /* 1 canary pod of 4 */
	CHECK_PT(1, AT(12), 25, -1);
	CHECK_STR(pts[0].image, "shop/api:2.0");
	CHECK_STR(pts[0].ns, "shop");
	CHECK_INT(pts[1].replicas, 1);
	ca.available = 1, ca.reason = "NewReplicaSetAvailable", ca.t_cond = 20;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 2);

	/* Promotion: the stable Deployment takes the canary's image; promoted
	 * waits for the stable's new revision number, timed at its spec write. */
	st.image = "shop/api:2.0", st.gen = 2, st.t_spec = 100;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	st.rev = 2, st.reason = "NewReplicaSetCreated", st.t_cond = 100;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(2), "Service/api canary promoted");
	CHECK_PT(2, AT(100), 100, -1);
	CHECK_INT(pts[2].revision, 2);
	CHECK_STR(pts[2].image, "shop/api:2.0");
	st.observed = 2, st.updated = 1, st.reason = "ReplicaSetUpdated", st.t_cond = 101;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 3);
	st.updated = 3, st.reason = "NewReplicaSetAvailable", st.t_cond = 130;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(3), "Service/api canary completed");
	CHECK_PT(3, AT(130), 100, 120.0);
	CHECK_INT(pts[3].revision, 2);
	CHECK_STR(pts[3].message, "ReplicaSet \"api-2\" has successfully progressed.");
	/* The canary is scaled away afterwards: no deploy. */
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 140;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 4);

	/* The next canary fails its progress deadline. */
	ca.image = "shop/api:3.0", ca.gen = 3, ca.rev = 2, ca.observed = 3, ca.replicas = 1, ca.updated = 1,
	ca.reason = "ReplicaSetUpdated", ca.t_spec = 200, ca.t_cond = 201;
	feed_dep(t, &ca, WATCH);
	ca.reason = "ProgressDeadlineExceeded", ca.cstatus = "False", ca.t_cond = 801;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(4), "Service/api canary started; Service/api canary progressing; Service/api canary failed");
	CHECK_PT(4, AT(200), 25, -1);
	CHECK_PT(6, AT(801), 25, 601.0);
	CHECK_STR(pts[6].message, "ReplicaSet \"api-canary-2\" has timed out progressing.");
	/* ... and is scaled to 0: nothing more (it failed; it is not promoted). */
	ca.gen = 4, ca.observed = 4, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.cstatus = NULL,
	ca.reason = "NewReplicaSetAvailable", ca.t_spec = 900, ca.t_cond = 900;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(7), "Service/api canary rolled_back");
	CHECK_PT(7, AT(900), 0, 700.0);
	hg_track_free(t);
}

/* A canary abandoned before promotion: scaled to 0, or deleted. */
static void test_canary_abandoned(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "cart", "{\"app\":\"cart\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "cart", .image = "shop/cart:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 9, .updated = 9, .available = 9, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep ca = { .ns = "shop", .name = "cart-canary", .image = "shop/cart:2.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"cart\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 15 };
	feed_dep(t, &ca, WATCH);
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 70;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/cart canary started; Service/cart canary progressing; Service/cart canary rolled_back");
	CHECK_PT(0, AT(10), 10, -1);
	CHECK_PT(1, AT(15), 10, -1);
	CHECK_PT(2, AT(70), 0, 60.0);

	/* Up again with a new image, then kubectl delete: rolled_back when the deletion is seen. */
	ca.image = "shop/cart:2.1", ca.gen = 3, ca.rev = 2, ca.observed = 3, ca.replicas = 1, ca.updated = 1,
	ca.available = 1, ca.t_spec = 100, ca.t_cond = 104;
	feed_dep(t, &ca, WATCH);
	now_ns = AT(160);
	delete_dep(t, &ca);
	now_ns = AT(5000);
	CHECK_STR(seq_from(3), "Service/cart canary started; Service/cart canary progressing; Service/cart canary rolled_back");
	CHECK_PT(5, AT(160), 0, 60.0);
	/* Deleted objects give nothing more; the stable is tracked on its own again. */
	delete_dep(t, &ca);
	st.image = "shop/cart:1.1", st.gen = 2, st.rev = 2, st.observed = 2, st.t_spec = 300, st.t_cond = 320;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(6), "Deployment/cart rolling started; Deployment/cart rolling completed");
	hg_track_free(t);
}

/* Out of order: a canary Deployment seen before its Service or before the
 * stable one is tracked on its own (kind Deployment); once both are known
 * the next canary is the Service's. */
static void test_canary_out_of_order(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep ca = { .ns = "shop", .name = "pay-canary", .image = "shop/pay:2.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 0, .reason = "ReplicaSetUpdated",
			  .labels = "{\"app\":\"pay\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 11 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Deployment/pay-canary canary started; Deployment/pay-canary canary progressing");
	CHECK_PT(0, AT(10), 0, -1);
	feed_svc(t, "pay", "{\"app\":\"pay\"}", NULL, 20, false, WATCH);
	struct dep st = { .ns = "shop", .name = "pay", .image = "shop/pay:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	CHECK_INT(npts, 2);
	/* The stable deleted: the canary's next image is its own deploy again. */
	delete_dep(t, &st);
	ca.image = "shop/pay:2.0.1", ca.gen = 2, ca.rev = 2, ca.observed = 2, ca.t_spec = 30, ca.t_cond = 31;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(2), "Deployment/pay-canary canary started; Deployment/pay-canary canary progressing");
	/* The stable back: the next canary is the Service's. */
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(4), "Deployment/pay rolling started; Deployment/pay rolling completed");
	ca.image = "shop/pay:2.1", ca.gen = 3, ca.rev = 3, ca.observed = 3, ca.t_spec = 50, ca.t_cond = 51;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(6), "Service/pay canary started; Service/pay canary progressing");
	CHECK_PT(6, AT(50), 25, -1);
	hg_track_free(t);
}

/* Around a canary pair: a hotfix of the stable that is not the canary's
 * image is no promotion; the canary scaled away after promotion is no
 * rollback; the stable failing after promotion fails the deploy; another
 * Deployment behind the Service annotated rolling, one without the
 * Service's labels, and one of the same labels in another namespace are
 * deploys of their own. */
static void test_canary_pair_edges(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep wk = { .ns = "shop", .name = "api-worker", .image = "shop/worker:1.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"role\":\"worker\"}",
			  .ann = "\"heliograph.io/strategy\":\"rolling\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &wk, LIST);
	struct dep gone = { .ns = "shop", .name = "api-v0", .image = "shop/api:0.9", .gen = 1, .rev = 1, .observed = 1,
			    .replicas = 4, .updated = 4, .available = 4, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"api\",\"release\":\"v0\"}", .t_spec = -900, .t_cond = -890 };
	feed_dep(t, &gone, LIST);
	delete_dep(t, &gone); /* its pods no longer count */
	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 14 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	CHECK_PT(0, AT(10), 20, -1); /* 1 of 1 + 3 + 1 (the worker is selected too) */

	/* A hotfix of the stable during the canary: not the canary's image. */
	st.image = "shop/api:1.0.1", st.gen = 2, st.rev = 2, st.observed = 2, st.t_spec = 20, st.t_cond = 25;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	/* The annotated worker rolls on its own meanwhile. */
	wk.image = "shop/worker:1.1", wk.gen = 2, wk.rev = 2, wk.observed = 2, wk.t_spec = 30, wk.t_cond = 35;
	feed_dep(t, &wk, WATCH);
	CHECK_STR(seq_from(2), "Deployment/api-worker rolling started; Deployment/api-worker rolling completed");
	CHECK_PT(3, AT(35), -1, 5.0);

	/* Promotion; the canary scaled away before the stable is done: still promoted. */
	st.image = "shop/api:2.0", st.gen = 3, st.rev = 3, st.observed = 2, st.t_spec = 40;
	feed_dep(t, &st, WATCH);
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 41;
	feed_dep(t, &ca, WATCH);
	st.observed = 3, st.updated = 1, st.reason = "ReplicaSetUpdated", st.t_cond = 42;
	feed_dep(t, &st, WATCH);
	st.reason = "ProgressDeadlineExceeded", st.cstatus = "False", st.t_cond = 642;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(4), "Service/api canary promoted; Service/api canary failed");
	CHECK_PT(4, AT(40), 100, -1);
	CHECK_PT(5, AT(642), 100, 632.0);
	CHECK_STR(pts[5].message, "ReplicaSet \"api-3\" has timed out progressing.");

	/* Same labels, other namespace: not behind Service shop/api. */
	struct dep other = ca;
	other.ns = "other", other.gen = 1, other.rev = 1, other.observed = 1, other.replicas = 1, other.updated = 1,
	other.available = 1, other.t_spec = 700, other.t_cond = 705;
	feed_dep(t, &other, WATCH);
	CHECK_STR(seq_from(6), "Deployment/api-canary canary started; Deployment/api-canary canary completed");
	CHECK_STR(pts[6].ns, "other");
	hg_track_free(t);

	/* Blue-green Service: a Deployment with its app label but no color is not one of the pair;
	 * a new color created scaled to 0 starts nothing. */
	reset();
	t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "bg", "{\"app\":\"bg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep mig = { .ns = "shop", .name = "bg-migrate", .image = "shop/bg-migrate:1.0", .gen = 1, .rev = 1,
			   .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			   .labels = "{\"app\":\"bg\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &mig, WATCH);
	CHECK_STR(seq(), "Deployment/bg-migrate rolling started; Deployment/bg-migrate rolling completed");
	struct dep gr = { .ns = "shop", .name = "bg-green", .image = "shop/bg:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 0, .updated = 0, .available = 0, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"bg\",\"color\":\"green\"}", .t_spec = 20, .t_cond = 21 };
	feed_dep(t, &gr, WATCH);
	CHECK_INT(npts, 2);
	hg_track_free(t);
}

/* Two Deployments (color blue, green) behind Service shopbg: green comes
 * up, the selector switches to it (promoted, completed), switches back
 * (rolled_back), and forward again (a new deploy). */
static void test_bluegreen_pair(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "shopbg-blue", .image = "shop/bg:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"shopbg\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &blue, LIST);
	CHECK_INT(npts, 0);
	struct dep green = { .ns = "shop", .name = "shopbg-green", .image = "shop/bg:2.0", .gen = 1, .rev = 1,
			     .observed = 1, .replicas = 3, .updated = 3, .available = 1, .reason = "ReplicaSetUpdated",
			     .labels = "{\"app\":\"shopbg\",\"color\":\"green\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &green, WATCH);
	green.available = 3, green.reason = "NewReplicaSetAvailable", green.t_cond = 30;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq(), "Service/shopbg bluegreen started; Service/shopbg bluegreen progressing");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_STR(pts[0].version, "2.0");

	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"green\"}", NULL, 60, false, WATCH);
	CHECK_STR(seq_from(2), "Service/shopbg bluegreen promoted; Service/shopbg bluegreen completed");
	CHECK_PT(2, AT(60), -1, -1);
	CHECK_PT(3, AT(60), -1, 50.0);
	CHECK_STR(pts[3].image, "shop/bg:2.0");
	CHECK_STR(pts[3].ns, "shop");

	/* Switched back to blue. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, 90, false, WATCH);
	CHECK_STR(seq_from(4), "Service/shopbg bluegreen rolled_back");
	CHECK_PT(4, AT(90), -1, 80.0);
	CHECK_STR(pts[4].image, "shop/bg:1.0");

	/* And to green again: traffic moves to the new version, a deploy. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"green\"}", NULL, 120, false, WATCH);
	CHECK_STR(seq_from(5), "Service/shopbg bluegreen started; Service/shopbg bluegreen promoted; "
			       "Service/shopbg bluegreen completed");
	CHECK_PT(5, AT(120), -1, -1);
	CHECK_PT(7, AT(120), -1, 0.0);
	/* Back to blue: that deploy is rolled back. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, 150, false, WATCH);
	CHECK_STR(seq_from(8), "Service/shopbg bluegreen rolled_back");
	CHECK_PT(8, AT(150), -1, 30.0);

	/* A new green that fails before any switch. */
	green.image = "shop/bg:3.0", green.gen = 2, green.rev = 2, green.observed = 2, green.available = 2,
	green.reason = "ReplicaSetUpdated", green.t_spec = 200, green.t_cond = 201;
	feed_dep(t, &green, WATCH);
	green.reason = "ProgressDeadlineExceeded", green.cstatus = "False", green.t_cond = 801;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq_from(9), "Service/shopbg bluegreen started; Service/shopbg bluegreen progressing; "
			       "Service/shopbg bluegreen failed");
	CHECK_PT(11, AT(801), -1, 601.0);
	hg_track_free(t);
}

/* Selectors on "version", or on "slot" with the annotation; a switch to a
 * value no Deployment has yet; a deleted Service. */
static void test_bluegreen_selectors(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "cat", "{\"app\":\"cat\",\"version\":\"v1\"}", NULL, -3000, false, LIST);
	/* A switch to v2 before any v2 Deployment exists: the Service's own namespace. */
	feed_svc(t, "cat", "{\"app\":\"cat\",\"version\":\"v2\"}", NULL, 40, false, WATCH);
	CHECK_STR(seq(), "Service/cat bluegreen started; Service/cat bluegreen promoted");
	CHECK_PT(0, AT(40), -1, -1);
	CHECK_PT(1, AT(40), -1, -1);
	CHECK_STR(pts[0].ns, "shop");
	CHECK_STR(pts[1].ns, "shop");
	CHECK_STR(pts[1].image, "");

	/* "slot" only counts with the annotation. */
	reset();
	feed_svc(t, "dog", "{\"app\":\"dog\",\"slot\":\"a\"}", NULL, -3000, false, LIST);
	feed_svc(t, "dog", "{\"app\":\"dog\",\"slot\":\"b\"}", NULL, 50, false, WATCH);
	CHECK_INT(npts, 0);
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"a\"}", "\"heliograph.io/strategy\":\"bluegreen\"", -3000, false,
		 LIST);
	struct dep b = { .ns = "shop", .name = "eel-b", .image = "shop/eel:2.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .labels = "{\"app\":\"eel\",\"slot\":\"b\"}", .t_spec = 60, .t_cond = 65 };
	feed_dep(t, &b, WATCH);
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"b\"}", "\"heliograph.io/strategy\":\"bluegreen\"", 70, false, WATCH);
	CHECK_STR(seq(), "Service/eel bluegreen started; Service/eel bluegreen progressing; Service/eel bluegreen promoted; "
			 "Service/eel bluegreen completed");
	CHECK_PT(3, AT(70), -1, 10.0);

	/* Service deleted: its Deployments are tracked on their own. */
	reset();
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"b\"}", NULL, 80, true, WATCH);
	b.image = "shop/eel:2.1", b.gen = 2, b.rev = 2, b.observed = 2, b.t_spec = 90, b.t_cond = 95;
	feed_dep(t, &b, WATCH);
	CHECK_STR(seq(), "Deployment/eel-b rolling started; Deployment/eel-b rolling completed");
	hg_track_free(t);
}

/* The live color's Deployment updated in place (no selector switch) is a
 * deploy of the pair: started, progressing, completed; bringing back an
 * earlier template, rolled_back; failing, failed. A later switch is its own
 * deploy, and switching back rolls back the switch, not the in-place one. */
static void test_bluegreen_inplace(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "web-blue", .image = "shop/web:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"web\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	struct dep green = blue;
	green.name = "web-green", green.labels = "{\"app\":\"web\",\"color\":\"green\"}";
	feed_dep(t, &blue, LIST);
	feed_dep(t, &green, LIST);
	CHECK_INT(npts, 0);

	/* blue (live) gets 1.1: spec write, the controller numbers it, rolls, completes. */
	blue.image = "shop/web:1.1", blue.gen = 2, blue.t_spec = 10;
	feed_dep(t, &blue, WATCH);
	CHECK_INT(npts, 0); /* waiting for the revision number */
	blue.rev = 2, blue.observed = 2, blue.updated = 1, blue.reason = "ReplicaSetUpdated", blue.t_cond = 12;
	feed_dep(t, &blue, WATCH);
	blue.updated = 3, blue.reason = "NewReplicaSetAvailable", blue.t_cond = 40;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq(), "Service/web bluegreen started; Service/web bluegreen progressing; "
			 "Service/web bluegreen completed");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_PT(2, AT(40), -1, 30.0);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "shop/web:1.1");
	CHECK_STR(pts[2].version, "1.1");
	/* A state of it with nothing new: nothing. */
	feed_dep(t, &blue, WATCH);
	CHECK_INT(npts, 3);

	/* Back to 1.0 in place (kubectl rollout undo): rolled_back. */
	blue.image = "shop/web:1.0", blue.gen = 3, blue.rev = 3, blue.observed = 3, blue.t_spec = 100, blue.t_cond = 110;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq_from(3), "Service/web bluegreen started; Service/web bluegreen rolled_back");
	CHECK_PT(4, AT(110), -1, 10.0);

	/* 1.2 in place never becomes available. */
	blue.image = "shop/web:1.2", blue.gen = 4, blue.rev = 4, blue.observed = 4, blue.updated = 1,
	blue.reason = "ReplicaSetUpdated", blue.t_spec = 200, blue.t_cond = 201;
	feed_dep(t, &blue, WATCH);
	blue.reason = "ProgressDeadlineExceeded", blue.cstatus = "False", blue.t_cond = 801;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq_from(5), "Service/web bluegreen started; Service/web bluegreen progressing; "
			       "Service/web bluegreen failed");
	CHECK_PT(7, AT(801), -1, 601.0);

	/* green (idle) rolls 2.0 out, the selector switches to it, then back. */
	green.image = "shop/web:2.0", green.gen = 2, green.rev = 2, green.observed = 2, green.t_spec = 900,
	green.t_cond = 905;
	feed_dep(t, &green, WATCH);
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"green\"}", NULL, 920, false, WATCH);
	CHECK_STR(seq_from(8), "Service/web bluegreen started; Service/web bluegreen progressing; "
			       "Service/web bluegreen promoted; Service/web bluegreen completed");
	CHECK_PT(11, AT(920), -1, 20.0);
	CHECK_STR(pts[11].image, "shop/web:2.0");
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"blue\"}", NULL, 950, false, WATCH);
	CHECK_STR(seq_from(12), "Service/web bluegreen rolled_back");
	CHECK_PT(12, AT(950), -1, 50.0);
	CHECK_INT(npts, 13);
	hg_track_free(t);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_canary_pair),
		CHECK_CASE(test_canary_abandoned),
		CHECK_CASE(test_canary_out_of_order),
		CHECK_CASE(test_canary_pair_edges),
		CHECK_CASE(test_bluegreen_pair),
		CHECK_CASE(test_bluegreen_selectors),
		CHECK_CASE(test_bluegreen_inplace),
	};
	return CHECK_RUN(argc, argv, cases);
}
