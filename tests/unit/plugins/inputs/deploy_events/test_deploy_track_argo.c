/* Deploy tracking of Argo Rollouts (the real captured Rollout objects of
 * the fixtures): canary steps and weights, blue-green, aborts, degraded
 * rollouts, undo from ReplicaSet history and the controller's own writes. */
#include "deploy_track_harness.h"

/* The real Argo Rollouts objects (fixtures), each after a "before" state
 * (previous image, fully rolled out) seen in the list. */
static char *argo_before(const char *rel, const char *image, const char *image_before, const char *hash,
			 const char *stable)
{
	char *j = fixture_json(rel);
	j = subst(j, image, image_before);
	char a[128], b[128];
	snprintf(a, sizeof a, "\"currentPodHash\":\"%s\"", hash);
	snprintf(b, sizeof b, "\"currentPodHash\":\"%s\"", stable);
	return subst(j, a, b);
}

static void test_argo_canary(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1572238400)); /* after everything the list shows */
	const char *rel = "k8s-api/argo-rollouts/canary/canary-rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:does-not-exist", "argoproj/rollouts-demo:blue",
				   "65fb5ffc84", "877894d5b");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	reset();
	char *real = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, real, false, false);
	/* Started at creationTimestamp (no managedFields), failed at the condition's time. */
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary failed");
	CHECK_PT(0, EPOCH(1571983638), 20, -1);
	CHECK_PT(1, EPOCH(1572238375), 20, 254737.0);
	CHECK_STR(pts[1].ns, "jesse-test");
	CHECK_STR(pts[1].message, "ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.");
	CHECK_STR(pts[1].image, "argoproj/rollouts-demo:does-not-exist");
	CHECK_STR(pts[1].version, "does-not-exist");
	CHECK_INT(pts[1].revision, 31);
	CHECK_INT(pts[1].replicas, 5);
	CHECK_INT(pts[1].updated, 1);
	CHECK_INT(pts[1].available, 5);
	CHECK_INT(pts[1].unavailable, 0);
	free(real);
	hg_track_free(t);
}

/* The canary fixture made healthy and walked through its steps: setWeight
 * 20, pause, 40 ... 80, then fully promoted. */
static void test_argo_canary_steps(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1571900000));
	const char *rel = "k8s-api/argo-rollouts/canary/canary-rollout.yaml";
	char *j = fixture_json(rel);
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "has timed out progressing.", "is progressing.");
	now_ns = EPOCH(1572238400);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing");
	CHECK_PT(0, EPOCH(1571983638), 20, -1);
	CHECK_PT(1, EPOCH(1572238375), 20, -1);
	j = subst(j, "\"currentStepIndex\":0", "\"currentStepIndex\":3");
	feed(t, KOBJ_ROLLOUT, j, false, false); /* pause with duration after setWeight 40 */
	CHECK_INT(npts, 2);
	j = subst(j, "\"currentStepIndex\":3", "\"currentStepIndex\":8");
	now_ns = EPOCH(1572238500);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/canary-demo canary promoted");
	CHECK_PT(2, EPOCH(1572238500), 80, -1); /* all steps done; no time in the object: when seen */
	j = subst(j, "\"stableRS\":\"877894d5b\"", "\"stableRS\":\"65fb5ffc84\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:52:55Z\"", "\"lastUpdateTime\":\"2019-10-28T04:55:00Z\"");
	j = subst(j, "\"reason\":\"ReplicaSetUpdated\"", "\"reason\":\"NewReplicaSetAvailable\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(3), "Rollout/canary-demo canary completed");
	CHECK_PT(3, EPOCH(1572238500), 100, 254862.0);
	now_ns = AT(5000);
	free(j);
	hg_track_free(t);
}

/* status.phase Degraded fails the rollout; with traffic routing the
 * weight is the one in status.canary.weights. */
static void test_argo_degraded_and_weights(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1572238400));
	char *j = fixture_json("k8s-api/argo-rollouts/canary/canary-rollout.yaml");
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "\"canary\":{},\"stableRS\"",
		  "\"canary\":{\"weights\":{\"canary\":{\"podTemplateHash\":\"65fb5ffc84\",\"weight\":35},"
		  "\"stable\":{\"podTemplateHash\":\"877894d5b\",\"weight\":65}}},\"stableRS\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing");
	CHECK_PT(0, EPOCH(1571983638), 35, -1);
	CHECK_PT(1, EPOCH(1572238375), 35, -1);
	j = subst(j, "\"currentStepIndex\":0,", "\"currentStepIndex\":0,\"phase\":\"Degraded\",");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/canary-demo canary failed");
	CHECK_PT(2, EPOCH(1572238375), 35, 254737.0);
	free(j);
	hg_track_free(t);
}

static void test_argo_bluegreen(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1572100000));
	const char *rel = "k8s-api/argo-rollouts/blue-green/bluegreen-rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:green", "argoproj/rollouts-demo:blue", "74b948fccb",
				   "6cbccd9f99");
	before = subst(before, "\"lastUpdateTime\":\"2019-10-28T04:50:20Z\"", "\"lastUpdateTime\":\"2019-10-20T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	/* The real object: paused for promotion (BlueGreenPause). */
	char *j = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/bluegreen-demo bluegreen started; Rollout/bluegreen-demo bluegreen progressing");
	CHECK_PT(0, EPOCH(1572060214), -1, -1);
	CHECK_PT(1, EPOCH(1572238220), -1, -1);
	CHECK_STR(pts[1].message, "Rollout is paused");
	CHECK_STR(pts[1].version, "green");
	CHECK_INT(pts[1].revision, 11);
	/* Promoted: the active selector moves to the new pods. */
	j = subst(j, "\"activeSelector\":\"6cbccd9f99\"", "\"activeSelector\":\"74b948fccb\"");
	now_ns = EPOCH(1572238300);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/bluegreen-demo bluegreen promoted");
	CHECK_PT(2, EPOCH(1572238300), -1, -1);
	j = subst(j, "\"stableRS\":\"6cbccd9f99\"", "\"stableRS\":\"74b948fccb\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:50:20Z\",\"message\":\"Rollout is paused\",\"reason\":\"RolloutPaused\","
		     "\"status\":\"Unknown\"",
		  "\"lastUpdateTime\":\"2019-10-28T04:51:40Z\",\"message\":\"Rollout has completed\","
		  "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(3), "Rollout/bluegreen-demo bluegreen completed");
	CHECK_PT(3, EPOCH(1572238300), -1, 178086.0);
	now_ns = AT(5000);
	free(j);
	hg_track_free(t);
}

static void test_argo_aborted(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1600765790));
	const char *rel = "k8s-api/argo-rollouts/rollout-aborted/rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:yellow", "argoproj/rollouts-demo:red", "db976bc44",
				   "7d84d44bb8");
	before = subst(before, "\"abort\":true,", "");
	before = subst(before, "\"lastUpdateTime\":\"2020-09-22T09:10:04Z\"", "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	char *j = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* Failed at abortedAt (09:10:05), not at the condition's 09:10:04. */
	CHECK_STR(seq(), "Rollout/rollout-background-analysis canary started; Rollout/rollout-background-analysis canary failed");
	CHECK_PT(0, EPOCH(1600765786), 10, -1);
	CHECK_PT(1, EPOCH(1600765805), 10, 19.0);
	CHECK_STR(pts[1].ns, "default");
	CHECK_STR(pts[1].message, "metric \"web\" assessed Failed due to failed (1) > failureLimit (0)");
	CHECK_STR(pts[1].version, "yellow");
	free(j);
	hg_track_free(t);
}

/* Argo: kubectl argo rollouts undo to a template known only from the
 * Rollout's ReplicaSets (listed first, owner kind Rollout): rolled_back. */
static void test_argo_undo_from_replicaset_history(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1572300000));
	feed_rs(t, "jesse-test", "canary-demo-877894d5b", "Rollout", "canary-demo", "argoproj/rollouts-demo:blue", 30,
		"rollout.argoproj.io/revision");
	feed_rs(t, "jesse-test", "canary-demo-65fb5ffc84", "Rollout", "canary-demo",
		"argoproj/rollouts-demo:does-not-exist", 31, "rollout.argoproj.io/revision");
	/* Listed fully rolled out at revision 31 (does-not-exist). */
	char *j = fixture_json("k8s-api/argo-rollouts/canary/canary-rollout.yaml");
	j = subst(j, "\"stableRS\":\"877894d5b\"", "\"stableRS\":\"65fb5ffc84\"");
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	feed(t, KOBJ_ROLLOUT, j, false, true);
	CHECK_INT(npts, 0);
	/* The undo: the blue template again (generation 430), written at 04:59:30... */
	j = subst(j, "argoproj/rollouts-demo:does-not-exist", "argoproj/rollouts-demo:blue");
	j = subst(j, "\"generation\":429", "\"generation\":430");
	j = subst(j, "\"creationTimestamp\":\"2019-10-25T06:07:18Z\"",
		  "\"creationTimestamp\":\"2019-10-25T06:07:18Z\",\"managedFields\":[{\"manager\":\"kubectl-argo-rollouts\","
		  "\"operation\":\"Update\",\"apiVersion\":\"argoproj.io/v1alpha1\",\"time\":\"2019-10-28T04:59:30Z\"}]");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* ... the controller sees it: the blue pods come up ... */
	j = subst(j, "\"observedGeneration\":\"429\"", "\"observedGeneration\":\"430\"");
	j = subst(j, "\"currentPodHash\":\"65fb5ffc84\"", "\"currentPodHash\":\"877894d5b\"");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"31\"", "\"rollout.argoproj.io/revision\":\"32\"");
	j = subst(j, "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:52:55Z\"", "\"lastUpdateTime\":\"2019-10-28T05:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* ... and become stable. */
	j = subst(j, "\"stableRS\":\"65fb5ffc84\"", "\"stableRS\":\"877894d5b\"");
	j = subst(j, "\"reason\":\"ReplicaSetUpdated\"", "\"reason\":\"NewReplicaSetAvailable\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T05:00:00Z\"", "\"lastUpdateTime\":\"2019-10-28T05:01:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing; "
			 "Rollout/canary-demo canary rolled_back");
	/* At the spec write, once the controller numbered revision 32: its weight. */
	CHECK_PT(0, EPOCH(1572238770), 20, -1);
	CHECK_INT(pts[0].revision, 32);
	CHECK_STR(pts[0].image, "argoproj/rollouts-demo:blue");
	CHECK_PT(1, EPOCH(1572238800), 20, -1);
	CHECK_PT(2, EPOCH(1572238860), 100, 90.0);
	CHECK_INT(pts[2].revision, 32);
	CHECK_STR(pts[2].image, "argoproj/rollouts-demo:blue");
	free(j);
	hg_track_free(t);
}

/* Argo writes the new pod hash and revision after the user's spec change,
 * at the same generation and once it has observed it: one deploy, one
 * started (when the revision is numbered, timed at the spec write), and
 * nothing read from the status the controller has not updated yet (no
 * promoted/completed on the spec write). */
static void test_argo_controller_writes(void)
{
	reset();
	struct track *t = hg_track_new(on_point, NULL);
	hg_track_set_skip_before(t, EPOCH(1600765790));
	const char *rel = "k8s-api/argo-rollouts/rollout-aborted/rollout.yaml";
	char *j = fixture_json(rel);
	/* Before: red, generation 14, stable, observed. */
	j = subst(j, "\"abort\":true,", "");
	j = subst(j, "\"currentPodHash\":\"db976bc44\"", "\"currentPodHash\":\"7d84d44bb8\"");
	j = subst(j, "argoproj/rollouts-demo:yellow", "argoproj/rollouts-demo:red");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"2\"", "\"rollout.argoproj.io/revision\":\"1\"");
	j = subst(j, "\"generation\":15", "\"generation\":14");
	j = subst(j, "\"observedGeneration\":\"15\"", "\"observedGeneration\":\"14\"");
	j = subst(j, "\"message\":\"metric \\\"web\\\" assessed Failed due to failed (1) > failureLimit (0)\",\"reason\":\"RolloutAborted\","
		     "\"status\":\"False\"",
		  "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-22T09:10:04Z\"", "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, true);
	CHECK_INT(npts, 0);
	/* The user's write at 09:09:48: the yellow template, generation 15; the status is the old one. */
	j = subst(j, "argoproj/rollouts-demo:red", "argoproj/rollouts-demo:yellow");
	j = subst(j, "\"generation\":14", "\"generation\":15");
	j = subst(j, "\"creationTimestamp\":\"2020-09-22T09:09:46Z\"",
		  "\"creationTimestamp\":\"2020-09-22T09:09:46Z\",\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\","
		  "\"operation\":\"Update\",\"apiVersion\":\"argoproj.io/v1alpha1\",\"time\":\"2020-09-22T09:09:48Z\"}]");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_INT(npts, 0); /* started waits for revision 2 */
	/* The controller: observed 15, new pod hash, revision 2, the canary pod coming up. */
	j = subst(j, "\"observedGeneration\":\"14\"", "\"observedGeneration\":\"15\"");
	j = subst(j, "\"currentPodHash\":\"7d84d44bb8\"", "\"currentPodHash\":\"db976bc44\"");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"1\"", "\"rollout.argoproj.io/revision\":\"2\"");
	j = subst(j, "\"readyReplicas\":1,", "\"readyReplicas\":1,\"updatedReplicas\":1,");
	j = subst(j, "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\"",
		  "\"message\":\"Rollout is progressing\",\"reason\":\"ReplicaSetUpdated\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"", "\"lastUpdateTime\":\"2020-09-22T09:09:50Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/rollout-background-analysis canary started; "
			 "Rollout/rollout-background-analysis canary progressing");
	CHECK_PT(0, EPOCH(1600765788), 10, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "argoproj/rollouts-demo:yellow");
	CHECK_PT(1, EPOCH(1600765790), 10, -1);
	CHECK_INT(pts[1].revision, 2);
	CHECK_STR(pts[1].message, "Rollout is progressing");
	/* Promoted and stable at 09:10:30. */
	j = subst(j, "\"stableRS\":\"7d84d44bb8\"", "\"stableRS\":\"db976bc44\"");
	j = subst(j, "\"message\":\"Rollout is progressing\",\"reason\":\"ReplicaSetUpdated\"",
		  "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-22T09:09:50Z\"", "\"lastUpdateTime\":\"2020-09-22T09:10:30Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/rollout-background-analysis canary promoted; "
			       "Rollout/rollout-background-analysis canary completed");
	CHECK_PT(2, EPOCH(1600765830), 100, -1);
	CHECK_PT(3, EPOCH(1600765830), 100, 42.0);
	free(j);
	hg_track_free(t);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_argo_canary),
		CHECK_CASE(test_argo_canary_steps),
		CHECK_CASE(test_argo_degraded_and_weights),
		CHECK_CASE(test_argo_bluegreen),
		CHECK_CASE(test_argo_aborted),
		CHECK_CASE(test_argo_undo_from_replicaset_history),
		CHECK_CASE(test_argo_controller_writes),
	};
	return CHECK_RUN(argc, argv, cases);
}
