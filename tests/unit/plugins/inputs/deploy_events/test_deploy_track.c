/* Deploy tracking of Deployments (plugins/inputs/deploy_events/track.c):
 * classification, the exact phase sequence and times of rolling and big-bang
 * deploys, failures, rollbacks, rollouts that never finish and restarts. */
#include "deploy_track_harness.h"

static void test_names(void)
{
	CHECK_INT(hg_track_strategy_parse("bigbang"), ST_BIGBANG);
	CHECK_INT(hg_track_strategy_parse("big-bang"), ST_BIGBANG);
	CHECK_INT(hg_track_strategy_parse("recreate"), ST_BIGBANG);
	CHECK_INT(hg_track_strategy_parse("rolling"), ST_ROLLING);
	CHECK_INT(hg_track_strategy_parse("canary"), ST_CANARY);
	CHECK_INT(hg_track_strategy_parse("bluegreen"), ST_BLUEGREEN);
	CHECK_INT(hg_track_strategy_parse("blue-green"), ST_BLUEGREEN);
	CHECK_INT(hg_track_strategy_parse("Canary"), ST_CANARY); /* the annotation is typed: plugins/common/deploy_strategy.c */
	CHECK_INT(hg_track_strategy_parse(""), -1);
	CHECK_STR(hg_track_strategy_name(ST_BLUEGREEN), "bluegreen");
	CHECK_STR(hg_track_phase_name(PH_ROLLED_BACK), "rolled_back");
	CHECK_STR(hg_track_phase_name(PH_PROMOTED), "promoted");
}

/* kubectl set image on a RollingUpdate Deployment, every write the
 * deployment controller makes as its own watch event: the spec write (old
 * status, observedGeneration behind), the controller's update that sets the
 * new revision annotation, progress, completion; then a resync and a scale,
 * which are no deploys. started waits for the new revision's number and
 * keeps the time of the spec write. */
static void test_rolling(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "web", .image = "registry.example/shop/web:1.0", .gen = 1, .rev = 1,
			 .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST); /* running before: recorded by an earlier leader */
	CHECK_INT(npts, 0);

	d.image = "registry.example/shop/web:1.1", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0); /* the controller has not numbered the new revision yet: started waits */

	/* The controller's update: revision 2, NewReplicaSetCreated, observedGeneration still 1. */
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 11;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started");
	CHECK_PT(0, AT(10), -1, -1); /* the time of the spec write */
	CHECK_STR(pts[0].ns, "shop");
	CHECK_STR(pts[0].message, "");
	CHECK_STR(pts[0].image, "registry.example/shop/web:1.1");
	CHECK_STR(pts[0].version, "1.1");
	CHECK_INT(pts[0].revision, 2); /* the revision being rolled out, as on completed */

	d.observed = 2, d.updated = 1, d.available = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 15;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started; Deployment/web rolling progressing");
	CHECK_PT(1, AT(15), -1, -1);
	CHECK_INT(pts[1].revision, 2);
	CHECK_INT(pts[1].updated, 1);
	CHECK_STR(pts[1].message, "ReplicaSet \"web-2\" is progressing.");

	d.updated = 2, d.t_cond = 25;
	feed_dep(t, &d, WATCH);
	d.updated = 3, d.reason = "NewReplicaSetAvailable", d.t_cond = 42;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started; Deployment/web rolling progressing; "
			 "Deployment/web rolling completed");
	CHECK_PT(2, AT(42), -1, 32.0);
	CHECK_STR(pts[2].kind, "Deployment");
	CHECK_STR(pts[2].message, "ReplicaSet \"web-2\" has successfully progressed.");
	CHECK_INT(pts[2].revision, 2);
	CHECK_INT(pts[2].replicas, 3);
	CHECK_INT(pts[2].updated, 3);
	CHECK_INT(pts[2].available, 3);
	CHECK_INT(pts[2].unavailable, 0);
	CHECK_STR(pts[2].image, "registry.example/shop/web:1.1"); /* the first container's */

	/* The same state again (a resync), then a scale to 5: no deploy. */
	feed_dep(t, &d, WATCH);
	d.gen = 3, d.replicas = 5, d.t_spec = 100;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.updated = 5, d.available = 3, d.unavailable = 2, d.reason = "ReplicaSetUpdated", d.t_cond = 101;
	feed_dep(t, &d, WATCH);
	d.available = 5, d.unavailable = 0, d.reason = "NewReplicaSetAvailable", d.t_cond = 110;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);
	hg_track_free(t);
}

/* Recreate, and the heliograph.io/strategy annotation over the Deployment's own strategy. */
static void test_bigbang_and_annotation(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep bb = { .ns = "shop", .name = "bb", .image = "shop/bb:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable", .recreate = true,
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &bb, LIST);
	bb.image = "shop/bb:2.0", bb.gen = 2, bb.rev = 2, bb.t_spec = 20;
	feed_dep(t, &bb, WATCH);
	/* Recreate: every old pod goes first. */
	bb.observed = 2, bb.updated = 0, bb.available = 0, bb.reason = "ReplicaSetUpdated", bb.t_cond = 21;
	feed_dep(t, &bb, WATCH);
	bb.updated = 2, bb.available = 2, bb.reason = "NewReplicaSetAvailable", bb.t_cond = 50;
	feed_dep(t, &bb, WATCH);
	CHECK_STR(seq(), "Deployment/bb bigbang started; Deployment/bb bigbang progressing; Deployment/bb bigbang completed");
	CHECK_PT(0, AT(20), -1, -1);
	CHECK_PT(1, AT(21), -1, -1);
	CHECK_INT(pts[1].available, 0);
	CHECK_INT(pts[1].unavailable, 2); /* replicas - available when the API leaves it out */
	CHECK_PT(2, AT(50), -1, 30.0);
	CHECK_STR(pts[2].version, "2.0");

	/* A RollingUpdate Deployment annotated bigbang; one annotated canary (weight 0 until done). */
	reset();
	struct dep lg = { .ns = "shop", .name = "legacy", .image = "shop/legacy:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .ann = "\"heliograph.io/strategy\":\"bigbang\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &lg, LIST);
	lg.image = "shop/legacy:2.0", lg.gen = 2, lg.rev = 2, lg.t_spec = 30;
	feed_dep(t, &lg, WATCH);
	lg.observed = 2, lg.t_cond = 40;
	feed_dep(t, &lg, WATCH); /* completes at once: no progressing seen */
	CHECK_STR(seq(), "Deployment/legacy bigbang started; Deployment/legacy bigbang completed");
	CHECK_PT(1, AT(40), -1, 10.0);

	reset();
	struct dep ca = { .ns = "shop", .name = "solo", .image = "shop/solo:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .ann = "\"heliograph.io/strategy\":\"canary\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &ca, LIST);
	ca.image = "shop/solo:2.0", ca.gen = 2, ca.rev = 2, ca.t_spec = 60;
	feed_dep(t, &ca, WATCH);
	ca.observed = 2, ca.updated = 1, ca.available = 0, ca.reason = "ReplicaSetUpdated", ca.t_cond = 61;
	feed_dep(t, &ca, WATCH);
	ca.available = 1, ca.reason = "NewReplicaSetAvailable", ca.t_cond = 70;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Deployment/solo canary started; Deployment/solo canary progressing; Deployment/solo canary completed");
	CHECK_PT(0, AT(60), 0, -1);
	CHECK_PT(1, AT(61), 0, -1);
	CHECK_PT(2, AT(70), 100, 10.0);
	hg_track_free(t);
}

/* A rollout that hits its progress deadline, then kubectl rollout undo:
 * one deploy, started, progressing, failed, rolled_back. */
static void test_failed_then_undo(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "fail", .image = "shop/fail:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/fail:2.0", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 10;
	feed_dep(t, &d, WATCH);
	d.observed = 2, d.updated = 1, d.available = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 12;
	feed_dep(t, &d, WATCH);
	d.reason = "ProgressDeadlineExceeded", d.cstatus = "False", d.t_cond = 612;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/fail rolling started; Deployment/fail rolling progressing; Deployment/fail rolling failed");
	CHECK_PT(2, AT(612), -1, 602.0);
	CHECK_STR(pts[2].message, "ReplicaSet \"fail-2\" has timed out progressing.");
	CHECK_INT(pts[2].updated, 1);
	/* Still stuck: nothing more. */
	d.t_cond = 700;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);

	/* kubectl rollout undo: the 1.0 template comes back as revision 3. */
	d.image = "shop/fail:1.0", d.gen = 3, d.t_spec = 720;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.cstatus = NULL, d.reason = "NewReplicaSetCreated", d.t_cond = 720;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 721;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);
	d.updated = 3, d.reason = "NewReplicaSetAvailable", d.t_cond = 750;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/fail rolling started; Deployment/fail rolling progressing; Deployment/fail rolling failed; "
			 "Deployment/fail rolling rolled_back");
	CHECK_PT(3, AT(750), -1, 740.0);
	CHECK_INT(pts[3].revision, 3);
	CHECK_STR(pts[3].image, "shop/fail:1.0");
	CHECK_STR(pts[3].message, "ReplicaSet \"fail-3\" has successfully progressed.");
	hg_track_free(t);
}

/* A new leader: the ReplicaSets are listed before their Deployment, which
 * runs revision 2; kubectl rollout undo brings back revision 1's template,
 * known only from its ReplicaSet: a deploy that ends rolled_back. A later
 * new image is a normal deploy. */
static void test_undo_from_replicaset_history(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	feed_rs(t, "shop", "api-7d4b9c", "Deployment", "api", "shop/api:1.0,fluent/fluent-bit:3.0", 1,
		"deployment.kubernetes.io/revision");
	feed_rs(t, "shop", "api-5f6d8e", "Deployment", "api", "shop/api:1.1,fluent/fluent-bit:3.0", 2,
		"deployment.kubernetes.io/revision");
	struct dep d = { .ns = "shop", .name = "api", .image = "shop/api:1.1", .gen = 2, .rev = 2, .observed = 2,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -300, .t_cond = -290 };
	feed_dep(t, &d, LIST);
	CHECK_INT(npts, 0);
	/* The controller reuses revision 1's ReplicaSet and renumbers it 3; its
	 * watch delivers that before the Deployment's watch delivers the undo. */
	feed_rs(t, "shop", "api-7d4b9c", "Deployment", "api", "shop/api:1.0,fluent/fluent-bit:3.0", 3,
		"deployment.kubernetes.io/revision");
	d.image = "shop/api:1.0", d.gen = 3, d.t_spec = 100;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.reason = "NewReplicaSetCreated", d.t_cond = 100;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 105;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 130;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/api rolling started; Deployment/api rolling progressing; Deployment/api rolling rolled_back");
	CHECK_PT(0, AT(100), -1, -1);
	CHECK_PT(2, AT(130), -1, 30.0);

	/* 1.2 was never deployed: completed. */
	d.image = "shop/api:1.2", d.gen = 4, d.t_spec = 200;
	feed_dep(t, &d, WATCH);
	d.rev = 4, d.observed = 4, d.updated = 2, d.t_cond = 230;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(3), "Deployment/api rolling started; Deployment/api rolling completed");
	CHECK_PT(4, AT(230), -1, 30.0);
	hg_track_free(t);
}

/* A rollout that never finishes (the new pods never become ready and the
 * progress deadline is far): started and progressing only, however many
 * status updates follow; the next revision is a deploy of its own, timed
 * from its own start. */
static void test_never_finishes(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "stuck", .image = "shop/stuck:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 4, .updated = 4, .available = 4, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/stuck:2.0", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	d.rev = 2, d.observed = 2, d.updated = 1, d.available = 3, d.unavailable = 2, d.reason = "ReplicaSetUpdated",
	d.t_cond = 12;
	for (int i = 0; i < 20; i++) {
		now_ns = AT(20 + i);
		feed_dep(t, &d, WATCH);
	}
	CHECK_STR(seq(), "Deployment/stuck rolling started; Deployment/stuck rolling progressing");
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_INT(pts[1].unavailable, 2);

	d.image = "shop/stuck:2.1", d.gen = 3, d.t_spec = 1000;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.observed = 3, d.updated = 4, d.available = 4, d.unavailable = 0, d.reason = "NewReplicaSetAvailable",
	d.t_cond = 1010;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(2), "Deployment/stuck rolling started; Deployment/stuck rolling completed");
	CHECK_PT(2, AT(1000), -1, -1);
	CHECK_PT(3, AT(1010), -1, 10.0);
	now_ns = AT(5000);
	hg_track_free(t);
}

/* progressDeadlineSeconds: 2147483647 turns progress checking off and the
 * controller drops the Progressing condition: the replica counts decide,
 * times are when the change was seen, and a re-list by a new leader does
 * not record again what happened before it. */
static void test_no_progress_deadline(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(100));
	struct dep d = { .ns = "shop", .name = "nodl", .image = "shop/nodl:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 3, .updated = 3, .available = 3, .t_spec = -600 };
	now_ns = AT(150);
	feed_dep(t, &d, LIST);
	CHECK_STR(seq(), "");
	/* Listed mid-rollout, started after the earlier leader's last record: new. */
	struct dep n = { .ns = "shop", .name = "nodl2", .image = "shop/nodl2:2.0", .gen = 2, .rev = 2, .observed = 2,
			 .replicas = 3, .updated = 1, .available = 3, .t_spec = 120 };
	feed_dep(t, &n, LIST);
	CHECK_STR(seq(), "Deployment/nodl2 rolling started; Deployment/nodl2 rolling progressing");
	CHECK_PT(0, AT(120), -1, -1);
	CHECK_PT(1, AT(150), -1, -1);

	d.image = "shop/nodl:2.0", d.gen = 2, d.t_spec = 200;
	now_ns = AT(201);
	feed_dep(t, &d, WATCH);
	/* maxSurge 1, maxUnavailable 0: 3 old pods still available, 1 updated: not done. */
	d.rev = 2, d.observed = 2, d.updated = 1;
	now_ns = AT(210);
	feed_dep(t, &d, WATCH);
	d.updated = 3;
	now_ns = AT(240);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(2), "Deployment/nodl rolling started; Deployment/nodl rolling progressing; "
			       "Deployment/nodl rolling completed");
	CHECK_PT(2, AT(200), -1, -1);
	CHECK_PT(3, AT(210), -1, -1);
	CHECK_PT(4, AT(240), -1, 40.0);
	CHECK_STR(pts[4].message, "");
	now_ns = AT(5000);
	hg_track_free(t);
}

/* kubectl rollout restart: the template changes (an annotation), not the
 * images; the deploy starts when the controller numbers the new revision,
 * timed from the restart's write. */
static void test_restart(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "rs", .image = "shop/rs:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.gen = 2, d.t_spec = 30;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 31;
	feed_dep(t, &d, WATCH);
	d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 32;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 50;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/rs rolling started; Deployment/rs rolling progressing; Deployment/rs rolling completed");
	CHECK_PT(0, AT(30), -1, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_PT(2, AT(50), -1, 20.0);
	hg_track_free(t);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_names),
		CHECK_CASE(test_rolling),
		CHECK_CASE(test_bigbang_and_annotation),
		CHECK_CASE(test_failed_then_undo),
		CHECK_CASE(test_undo_from_replicaset_history),
		CHECK_CASE(test_never_finishes),
		CHECK_CASE(test_no_progress_deadline),
		CHECK_CASE(test_restart),
	};
	hg_track_free(NULL);
	return CHECK_RUN(argc, argv, cases);
}
