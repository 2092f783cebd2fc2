/* The diagnosis of a stuck install-stack rollout (agentctl/stack_diag.c),
 * the stack pod the scheduler cannot place: no free pod slot, not enough
 * memory, no node labelled (or the labelled one NotReady), and a PreBind
 * failure that is the claims' doing. Objects shaped as the API server
 * returns them in, one sentence with its fix per problem out (the harness:
 * stack_diag_harness.h). Volumes: test_agentctl_diag_volumes.c; containers
 * and nodes: test_agentctl_diag_pods.c. */
#include "check.h"
#include "stack_diag_harness.h"

static void test_too_many_pods(void)
{
	struct stack_diag_in in = {.ns = "monitoring", .cluster = "demo"};
	in.nodes = LIST(READY_NODE("ip-10-0-1-5", "us-east-1a", STACK_LBL) "," READY_NODE("ip-10-0-2-9", "us-east-1b", ""));
	in.all_pods = LIST(SYS_POD("aws-node-a", "ip-10-0-1-5", "0", "true") "," SYS_POD("kube-proxy-a", "ip-10-0-1-5", "0", "true") ","
			   SYS_POD("coredns-a", "ip-10-0-1-5", "70Mi", "false") "," SYS_POD("web-a", "ip-10-0-1-5", "0", "false"));
	in.pods = LIST(STACK_POD_UNSCHED("0/2 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node "
					 "affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims "
					 "found for incoming pod, 1 Preemption is not helpful for scheduling."));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1); /* the stack node is labelled and ready: no label sentence */
	CHECK(said(&d, 0, "The stack pod heliograph-stack-5d9c7-x2x cannot be scheduled: no node it may run on has a free pod slot"));
	CHECK(said(&d, 0, "node ip-10-0-1-5 has 4 of 4 taken: aws-node-a, kube-proxy-a, coredns-a, web-a"));
	CHECK(said(&d, 0, "placement plan counted a free slot"));
	CHECK(said(&d, 0, "aws eks update-addon --cluster-name demo --addon-name coredns --configuration-values '{\"replicaCount\":1}'"));
	CHECK(!strstr(d.v[0].text, "ip-10-0-2-9")); /* not a node the pod may use */
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_memory(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL));
	in.all_pods = LIST(SYS_POD("coredns-a", "n1", "70Mi", "false") "," SYS_POD("big", "n1", "230Mi", "false"));
	in.pods = LIST(STACK_POD_UNSCHED("0/2 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's "
					 "node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption "
					 "victims found for incoming pod, 1 Preemption is not helpful for scheduling."));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "asks for 374Mi of memory requests"));
	CHECK(said(&d, 0, "node n1 has 263Mi of its 563Mi allocatable unrequested, the largest requests there: big 230Mi, coredns-a 70Mi)"));
	CHECK(said(&d, 0, "--cluster-name CLUSTER")); /* no cluster name known */
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_no_stack_label(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", "") "," READY_NODE("n2", "us-east-1a", ""));
	in.pods = LIST(STACK_POD_UNSCHED("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
					 "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "no node has that label"));
	CHECK(said(&d, 0, "`kubectl label node n1 heliograph.io/stack=true`"));
	CHECK(said(&d, 0, "Re-run install-stack"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Labelled, but NotReady. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(NODE("n1", "us-east-1a", STACK_LBL, "Unknown") "," READY_NODE("n2", "us-east-1a", ""));
	in.pods = LIST(STACK_POD_UNSCHED("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 "
					 "node(s) had untolerated taint {node.kubernetes.io/unreachable: }."));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "that node, n1, is NotReady"));
	CHECK(said(&d, 0, "`kubectl label node n1 heliograph.io/stack-`"));
	hg_stack_diags_free(&d);
	free_in(&in);
}

/* The scheduler's PreBind failure while the EBS driver cannot create the
 * volumes is the claims' doing: their sentence says it, the pod adds none. */
static void test_prebind(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL));
	in.pods = LIST(STACK_POD_UNSCHED("running PreBind plugin \\`VolumeBinding\\`: binding volumes: provisioning "
					 "failed for PVC \\`influxdb-data\\`"));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 0);
	hg_stack_diags_free(&d);
	free_in(&in);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_too_many_pods),
		CHECK_CASE(test_memory),
		CHECK_CASE(test_no_stack_label),
		CHECK_CASE(test_prebind),
	};
	return CHECK_RUN(argc, argv, cases);
}
