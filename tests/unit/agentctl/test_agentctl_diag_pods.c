/* The diagnosis of a stuck install-stack rollout (agentctl/stack_diag.c),
 * pods that are placed but do not run: images that cannot be pulled (the
 * registries' own answers), crash loops and OOM kills, no pod IP for the
 * sandbox, agent pods on NotReady nodes; the cluster name and an install
 * with nothing to say. The harness: stack_diag_harness.h. */
#include "check.h"
#include "stack_diag_harness.h"

static void test_image_pull(void)
{
	/* The unpublished default: one sentence for the image, not one per pod. */
	struct stack_diag_in in = {.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "False",
				 "{`name`:`agent`,`image`:`docker.io/heliograph/agent:0.1.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ErrImagePull`,`message`:`" PULL_DOCKERHUB "`}}}") ","
		       AGENT_POD("heliograph-agent-b", "n2", "False",
				 "{`name`:`agent`,`image`:`docker.io/heliograph/agent:0.1.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ImagePullBackOff`,`message`:`Back-off pulling image "
				 "\\`docker.io/heliograph/agent:0.1.0\\``}}}"));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "The agent pod heliograph-agent-a for node n1 cannot pull docker.io/heliograph/agent:0.1.0"));
	CHECK(said(&d, 0, "nobody publishes that image"));
	CHECK(said(&d, 0, "scripts/ecr-push.sh"));
	CHECK(said(&d, 0, "--agent-image"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* The ghcr.io default before its version is released: the package does
	 * not exist, which ghcr.io answers with 403 (containerd's resolver
	 * message, as in LeoMartinDev/voy issue 3 for a private package). */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "False",
				 "{`name`:`agent`,`image`:`ghcr.io/heliograph/agent:0.1.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ErrImagePull`,`message`:`rpc error: code = Unknown desc = failed to "
				 "pull and unpack image \\`ghcr.io/heliograph/agent:0.1.0\\`: failed to resolve reference "
				 "\\`ghcr.io/heliograph/agent:0.1.0\\`: unexpected status from HEAD request to "
				 "https://ghcr.io/v2/heliograph/agent/manifests/0.1.0: 403 Forbidden`}}}"));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "cannot pull ghcr.io/heliograph/agent:0.1.0 (container agent): ghcr.io does not have it"));
	CHECK(said(&d, 0, "403 Forbidden"));
	CHECK(said(&d, 0, "release workflow publishes it when this version is tagged"));
	CHECK(said(&d, 0, "scripts/ecr-push.sh"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* In its back-off the status says only "Back-off pulling image"; of the
	 * kubelet's Failed events the latest is "Error: ImagePullBackOff", the
	 * one that says why is the earlier "Failed to pull image". */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "False",
				 "{`name`:`agent`,`image`:`ghcr.io/heliograph/agent:0.1.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ImagePullBackOff`,`message`:`Back-off pulling image "
				 "\\`ghcr.io/heliograph/agent:0.1.0\\``}}}"));
	in.events = LIST(PULL_FAILED_EVENT("2026-12-07T03:00:00Z", "Failed to pull image \\`ghcr.io/heliograph/agent:0.1.0\\`: "
					   "rpc error: code = Unknown desc = failed to pull and unpack image: 403 Forbidden") ","
			 PULL_FAILED_EVENT("2026-12-07T03:00:00Z", "Error: ErrImagePull") ","
			 PULL_FAILED_EVENT("2026-12-07T03:00:02Z", "Error: ImagePullBackOff"));
	d = run(&in);
	CHECK_INT(d.n, 1);
	/* quoted without the event's and gRPC's wrapping */
	CHECK(said(&d, 0, "ghcr.io does not have it (\"failed to pull and unpack image: 403 Forbidden\")"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* ECR, tag not pushed: the back-off message names only the image; the
	 * Failed event has the registry's answer. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "False",
				 "{`name`:`agent`,`image`:`" ECR "/heliograph/agent:0.2.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ImagePullBackOff`,`message`:`Back-off pulling image \\`" ECR
				 "/heliograph/agent:0.2.0\\``}}}"));
	in.events = LIST("{`involvedObject`:{`kind`:`Pod`,`name`:`heliograph-agent-a`,`uid`:`u-heliograph-agent-a`,"
			 "`fieldPath`:`spec.containers{agent}`},`reason`:`Failed`,`type`:`Warning`,`lastTimestamp`:"
			 "`2026-12-07T03:00:00Z`,`message`:`Failed to pull image \\`" ECR "/heliograph/agent:0.2.0\\`: "
			 "rpc error: code = NotFound desc = failed to pull and unpack image \\`" ECR
			 "/heliograph/agent:0.2.0\\`: failed to resolve reference \\`" ECR
			 "/heliograph/agent:0.2.0\\`: " ECR "/heliograph/agent:0.2.0: not found`}");
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, ECR " has no such image or tag"));
	CHECK(said(&d, 0, "aws ecr describe-images"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* ECR refusing the node role. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "False",
				 "{`name`:`agent`,`image`:`" ECR "/heliograph/agent:0.2.0`,`ready`:false,`state`:"
				 "{`waiting`:{`reason`:`ErrImagePull`,`message`:`failed to pull and unpack image \\`" ECR
				 "/heliograph/agent:0.2.0\\`: failed to resolve reference \\`" ECR "/heliograph/agent:0.2.0"
				 "\\`: unexpected status from HEAD request to https://" ECR
				 "/v2/heliograph/agent/manifests/0.2.0: 403 Forbidden`}}}"));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "ECR refused the node's credentials"));
	CHECK(said(&d, 0, "AmazonEC2ContainerRegistryReadOnly"));
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_crash_and_oom(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.pods = LIST(STACK_POD_RUN(
		"{`name`:`influxdb`,`ready`:false,`restartCount`:4,`state`:{`waiting`:{`reason`:`CrashLoopBackOff`,"
		"`message`:`back-off 40s restarting failed container=influxdb pod=heliograph-stack-5d9c7-x2x_monitoring"
		"(u-stack)`}},`lastState`:{`terminated`:{`exitCode`:1,`reason`:`Error`}}},"
		"{`name`:`grafana`,`ready`:false,`restartCount`:2,`state`:{`waiting`:{`reason`:`CrashLoopBackOff`,"
		"`message`:`back-off 20s restarting failed container=grafana pod=heliograph-stack-5d9c7-x2x_monitoring"
		"(u-stack)`}},`lastState`:{`terminated`:{`exitCode`:137,`reason`:`OOMKilled`}}}"));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 2);
	CHECK(said(&d, 0, "Container influxdb of the stack pod heliograph-stack-5d9c7-x2x keeps crashing (last exit code 1, Error)"));
	CHECK(said(&d, 0, "`kubectl -n monitoring logs heliograph-stack-5d9c7-x2x -c influxdb --previous`"));
	CHECK(said(&d, 1, "Container grafana of the stack pod heliograph-stack-5d9c7-x2x was killed for going over its "
			  "memory limit of 192Mi (OOMKilled)"));
	CHECK(said(&d, 1, "`kubectl -n monitoring set resources deployment/heliograph-stack -c grafana --limits=memory=384Mi`"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Between two back-offs: just exited, or running again and not ready. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(STACK_POD_RUN(
		"{`name`:`influxdb`,`ready`:false,`restartCount`:1,`state`:{`terminated`:{`exitCode`:3,`reason`:`Error`}},"
		"`lastState`:{`terminated`:{`exitCode`:3,`reason`:`Error`}}},"
		"{`name`:`grafana`,`ready`:false,`restartCount`:2,`state`:{`running`:{`startedAt`:`2026-12-07T02:00:00Z`}},"
		"`lastState`:{`terminated`:{`exitCode`:2,`reason`:`Error`}}}"));
	d = run(&in);
	CHECK_INT(d.n, 2);
	CHECK(said(&d, 0, "Container influxdb of the stack pod heliograph-stack-5d9c7-x2x keeps crashing (last exit code 3, Error)"));
	CHECK(said(&d, 1, "Container grafana of the stack pod heliograph-stack-5d9c7-x2x keeps crashing (last exit code 2, Error)"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Not a crash loop: the first exit (no restart yet), a restarted
	 * container that is ready, one that exited 0 (an init container). */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pods = LIST(STACK_POD_RUN(
		"{`name`:`influxdb`,`ready`:false,`restartCount`:0,`state`:{`terminated`:{`exitCode`:3,`reason`:`Error`}}},"
		"{`name`:`grafana`,`ready`:true,`restartCount`:1,`state`:{`running`:{}},"
		"`lastState`:{`terminated`:{`exitCode`:2,`reason`:`Error`}}},"
		"{`name`:`data-owner`,`ready`:false,`restartCount`:1,`state`:{`terminated`:{`exitCode`:0,`reason`:`Completed`}}}"));
	d = run(&in);
	CHECK_INT(d.n, 0);
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_sandbox_ip(void)
{
	struct stack_diag_in in = {.ns = "monitoring", .cluster = "demo"};
	/* Scheduled, the sandbox not made: Pending, ContainerCreating. */
	in.pods = LIST("{`metadata`:{`name`:`heliograph-stack-5d9c7-x2x`,`namespace`:`monitoring`,`uid`:`u-stack`,"
		       "`ownerReferences`:[{`kind`:`ReplicaSet`,`name`:`heliograph-stack-5d9c7`}]},`spec`:{`nodeName`:"
		       "`n1`,`containers`:[{`name`:`influxdb`}]},`status`:{`phase`:`Pending`,`conditions`:[{`type`:"
		       "`PodScheduled`,`status`:`True`},{`type`:`Ready`,`status`:`False`}],`containerStatuses`:[{`name`:"
		       "`influxdb`,`ready`:false,`state`:{`waiting`:{`reason`:`ContainerCreating`}}}]}}");
	in.all_pods = LIST(SYS_POD("aws-node-a", "n1", "0", "true") "," SYS_POD("kube-proxy-a", "n1", "0", "true") ","
			   SYS_POD("coredns-a", "n1", "70Mi", "false") "," SYS_POD("coredns-b", "n1", "70Mi", "false") ","
			   "{`metadata`:{`name`:`heliograph-stack-5d9c7-x2x`,`namespace`:`monitoring`},`spec`:{`nodeName`:"
			   "`n1`},`status`:{`phase`:`Pending`}}"); /* itself: no IP yet */
	in.events = LIST("{`involvedObject`:{`kind`:`Pod`,`name`:`heliograph-stack-5d9c7-x2x`,`uid`:`u-stack`},`reason`:"
			 "`FailedCreatePodSandBox`,`type`:`Warning`,`lastTimestamp`:`2026-12-07T03:00:00Z`,`message`:"
			 "`Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
			 "sandbox \\`14bffa77\\`: plugin type=\\`aws-cni\\` name=\\`aws-cni\\` failed (add): add cmd: "
			 "failed to assign an IP address to container`}");
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "cannot start on node n1: the VPC CNI has no pod IP left on that node"));
	CHECK(said(&d, 0, "the pod-network pods there hold them: coredns-a, coredns-b."));
	CHECK(said(&d, 0, "ENABLE_PREFIX_DELEGATION=true"));
	hg_stack_diags_free(&d);
	/* Once the sandbox is made, the old event says nothing. */
	yajl_tree_free(in.events);
	in.events = LIST("{`involvedObject`:{`kind`:`Pod`,`name`:`heliograph-stack-5d9c7-x2x`,`uid`:`u-stack`},`reason`:"
			 "`FailedCreatePodSandBox`,`lastTimestamp`:`2026-12-07T03:00:00Z`,`message`:`... failed to assign "
			 "an IP address to container`},{`involvedObject`:{`kind`:`Pod`,`name`:`heliograph-stack-5d9c7-x2x`,"
			 "`uid`:`u-stack`},`reason`:`Pulling`,`lastTimestamp`:`2026-12-07T03:00:09Z`,`message`:`Pulling`}");
	d = run(&in);
	CHECK_INT(d.n, 0);
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_notready(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) ","
			"{`metadata`:{`name`:`n2`},`status`:{`conditions`:[{`type`:`Ready`,`status`:`Unknown`,`reason`:"
			"`NodeStatusUnknown`,`message`:`Kubelet stopped posting node status.`}]}}");
	in.pods = LIST(AGENT_POD("heliograph-agent-b", "n2", "False",
				 "{`name`:`agent`,`ready`:false,`state`:{`running`:{}}}"));
	struct stack_diags d = {0};
	CHECK_INT(hg_stack_diag_notready(&in, &d), 1);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Node n2 is NotReady (\"Kubelet stopped posting node status.\"): its agent pod "
			  "heliograph-agent-b is not waited for"));
	CHECK(said(&d, 0, "`kubectl delete node n2`"));
	hg_stack_diags_clear(&d);
	CHECK_INT(hg_stack_diagnose(&in, &d), 0); /* said once, by hg_stack_diag_notready */
	hg_stack_diags_free(&d);
	free_in(&in);

	yajl_val ds = J("{`metadata`:{`generation`:1},`status`:{`observedGeneration`:1,`desiredNumberScheduled`:2,"
			"`updatedNumberScheduled`:2,`numberAvailable`:1}}");
	char msg[200];
	CHECK_INT(hg_stack_rollout_state_skip("DaemonSet", ds, 0, msg, sizeof msg), 0);
	CHECK_INT(hg_stack_rollout_state_skip("DaemonSet", ds, 1, msg, sizeof msg), 1);
	CHECK_STR(msg, "1 of 2 nodes available (1 on NotReady nodes not waited for)");
	yajl_tree_free(ds);
}

/* The cluster name the fixes quote, from the kubeconfig context's cluster:
 * EKS's ARN, eksctl's names (with and without the user), and none for
 * another kind of cluster. */
static const struct {
	const char *context, *name;
} clusters[] = {
	{ "arn:aws:eks:us-east-1:123456789012:cluster/demo", "demo" },
	{ "admin@free-tier.eu-west-1.eksctl.io", "free-tier" },
	{ "free-tier.eu-west-1.eksctl.io", "free-tier" },
	{ "kind-kind", "" },
};

static void test_misc(void)
{
	char b[64];
	for (size_t i = 0; i < sizeof clusters / sizeof clusters[0]; i++) {
		int before = check_failures;
		hg_stack_diag_cluster_name(clusters[i].context, b, sizeof b);
		CHECK_STR(b, clusters[i].name);
		CHECK_ROW(before, clusters[i].context);
	}

	/* All ready and bound: nothing to say, no cluster-wide lists needed. */
	struct stack_diag_in in = {.ns = "monitoring"};
	in.pods = LIST(AGENT_POD("heliograph-agent-a", "n1", "True", "{`name`:`agent`,`ready`:true,`state`:{`running`:{}}}"));
	in.pvcs = LIST(PVC_BOUND("pv1"));
	CHECK(!hg_stack_diag_trouble(&in));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 0);
	hg_stack_diags_free(&d);
	free_in(&in);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_image_pull),
		CHECK_CASE(test_crash_and_oom),
		CHECK_CASE(test_sandbox_ip),
		CHECK_CASE(test_notready),
		CHECK_CASE(test_misc),
	};
	return CHECK_RUN(argc, argv, cases);
}
