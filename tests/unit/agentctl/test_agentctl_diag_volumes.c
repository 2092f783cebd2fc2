/* The diagnosis of a stuck install-stack rollout (agentctl/stack_diag.c),
 * the stack's volumes: node storage or EBS volumes where the stack may not
 * run (label elsewhere, node gone, zone's node cordoned), no node labelled
 * with the volumes placed, and claims that stay Pending (no class, no CSI
 * driver, no IAM role, a class that does not exist). The harness:
 * stack_diag_harness.h. */
#include "check.h"
#include "stack_diag_harness.h"

static void test_volume_conflict(void)
{
	/* Node storage on n2, the label on n1. */
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) "," READY_NODE("n2", "us-east-1a", ""));
	in.pvcs = LIST(PVC_BOUND("heliograph-monitoring-influxdb-data"));
	in.pvs = LIST(PV_ON_NODE("heliograph-monitoring-influxdb-data", "n2"));
	in.pods = LIST(STACK_POD_UNSCHED(VOL_CONFLICT));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "volume heliograph-monitoring-influxdb-data (claim influxdb-data) is on node n2's own disk"));
	CHECK(said(&d, 0, "may only run on n1 (labelled heliograph.io/stack=true)"));
	CHECK(said(&d, 0, "`kubectl label node n1 heliograph.io/stack-` and `kubectl label node n2 heliograph.io/stack=true`"));
	CHECK(!strstr(d.v[0].text, "no longer exists"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* The volume's node was replaced. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL));
	in.pvcs = LIST(PVC_BOUND("heliograph-monitoring-influxdb-data"));
	in.pvs = LIST(PV_ON_NODE("heliograph-monitoring-influxdb-data", "n-old"));
	in.pods = LIST(STACK_POD_UNSCHED(VOL_CONFLICT));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Node n-old no longer exists"));
	CHECK(said(&d, 0, "`kubectl -n monitoring delete pvc influxdb-data` and `kubectl delete pv heliograph-monitoring-influxdb-data`"));
	CHECK(!strstr(d.v[0].text, "label node n-old")); /* no label to move to a node that is gone */
	hg_stack_diags_free(&d);
	free_in(&in);

	/* An EBS volume in another zone. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) "," READY_NODE("n2", "us-east-1b", ""));
	in.pvcs = LIST(PVC_BOUND("pvc-0b8f282f"));
	in.pvs = LIST(PV_IN_ZONE("pvc-0b8f282f", "us-east-1b"));
	in.pods = LIST(STACK_POD_UNSCHED(VOL_CONFLICT));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "EBS volume pvc-0b8f282f (claim influxdb-data) is in zone us-east-1b"));
	CHECK(said(&d, 0, "may only run on n1 in zone us-east-1a"));
	CHECK(said(&d, 0, "label node n2, which is in us-east-1b"));
	CHECK(said(&d, 0, "Re-run install-stack, which places the stack in its volumes' zone, or label node n2"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* The only node in the volume's zone is cordoned (drained for an
	 * upgrade, say): install-stack would not choose it, so uncordoning it
	 * is the way, not a re-run. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) "," CORDONED_NODE("n2", "us-east-1b"));
	in.pvcs = LIST(PVC_BOUND("pvc-0b8f282f"));
	in.pvs = LIST(PV_IN_ZONE("pvc-0b8f282f", "us-east-1b"));
	in.pods = LIST(STACK_POD_UNSCHED(VOL_CONFLICT_CORDONED));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "may only run on n1 in zone us-east-1a. Uncordon node n2, the only ready node in us-east-1b "
			  "(`kubectl uncordon n2`), and re-run install-stack; to start over"));
	CHECK(!strstr(d.v[0].text, "label node n2"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Both volumes in the same zone: one sentence names both. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) "," READY_NODE("n2", "us-east-1b", ""));
	in.pvcs = LIST(PVC_BOUND("pvc-0b8f282f") ",{`metadata`:{`name`:`grafana-data`,`namespace`:`monitoring`},"
				 "`spec`:{`volumeName`:`pvc-77aa`},`status`:{`phase`:`Bound`}}");
	in.pvs = LIST(PV_IN_ZONE("pvc-0b8f282f", "us-east-1b") "," PV_IN_ZONE("pvc-77aa", "us-east-1b"));
	in.pods = LIST(STACK_POD_UNSCHED_2VOL(VOL_CONFLICT));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "EBS volumes pvc-0b8f282f (claim influxdb-data) and pvc-77aa (claim grafana-data) are in zone us-east-1b"));
	CHECK(said(&d, 0, "delete the claims (`kubectl -n monitoring delete pvc influxdb-data grafana-data`)"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Node storage on a cordoned node. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", STACK_LBL) "," CORDONED_NODE("n2", "us-east-1a"));
	in.pvcs = LIST(PVC_BOUND("heliograph-monitoring-influxdb-data"));
	in.pvs = LIST(PV_ON_NODE("heliograph-monitoring-influxdb-data", "n2"));
	in.pods = LIST(STACK_POD_UNSCHED(VOL_CONFLICT_CORDONED));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Node n2 is cordoned, so install-stack does not place the stack there: uncordon it (`kubectl uncordon n2`) first."));
	hg_stack_diags_free(&d);
	free_in(&in);
}

/* No node labelled, and the volumes are placed: the node to label is one
 * where they can be used; where that node is cordoned or gone, the way out. */
#define NO_LABEL                                                                                                  \
	"0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are "  \
	"available: 2 Preemption is not helpful for scheduling."
static void test_no_label_volumes(void)
{
	struct stack_diag_in in = {.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", "") "," READY_NODE("n2", "us-east-1b", ""));
	in.pvcs = LIST(PVC_BOUND("pvc-0b8f282f"));
	in.pvs = LIST(PV_IN_ZONE("pvc-0b8f282f", "us-east-1b"));
	in.pods = LIST(STACK_POD_UNSCHED(NO_LABEL));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "no node has that label. Its EBS volumes are in zone us-east-1b. Re-run install-stack"));
	CHECK(said(&d, 0, "`kubectl label node n2 heliograph.io/stack=true`")); /* not n1, in another zone */
	hg_stack_diags_free(&d);
	free_in(&in);

	/* The zone's only node is cordoned (install-stack labels no node then). */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", "") "," CORDONED_NODE("n2", "us-east-1b"));
	in.pvcs = LIST(PVC_BOUND("pvc-0b8f282f"));
	in.pvs = LIST(PV_IN_ZONE("pvc-0b8f282f", "us-east-1b"));
	in.pods = LIST(STACK_POD_UNSCHED(NO_LABEL));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Its EBS volumes are in zone us-east-1b, where the only ready node, n2, is cordoned: uncordon it "
			  "(`kubectl uncordon n2`) and re-run install-stack, which labels it."));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Node storage on a node that is gone. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.nodes = LIST(READY_NODE("n1", "us-east-1a", ""));
	in.pvcs = LIST(PVC_BOUND("heliograph-monitoring-influxdb-data"));
	in.pvs = LIST(PV_ON_NODE("heliograph-monitoring-influxdb-data", "n-old"));
	in.pods = LIST(STACK_POD_UNSCHED(NO_LABEL));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Its volumes are on node n-old's own disk, where no ready node is: bring that node back, or to "
			  "start over with empty volumes delete the claims and their node volumes (`kubectl -n monitoring "
			  "delete pvc influxdb-data grafana-data` and `kubectl delete pv heliograph-monitoring-influxdb-data "
			  "heliograph-monitoring-grafana-data`) and re-run install-stack."));
	hg_stack_diags_free(&d);
	free_in(&in);
}

static void test_pvc(void)
{
	/* No class, no default class (EKS 1.30+). */
	struct stack_diag_in in = {.ns = "monitoring"};
	in.pvcs = LIST(PVC_PENDING(""));
	in.events = LIST(PVC_EVENT("Normal", "FailedBinding", "2026-12-07T03:00:00Z",
				   "no persistent volumes available for this claim and no storage class is set"));
	struct stack_diags d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Volume claim influxdb-data stays Pending: it names no storage class"));
	CHECK(said(&d, 0, "--storage node"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* gp2 of the in-tree name migrated to ebs.csi.aws.com, no driver installed. */
	in = (struct stack_diag_in){.ns = "monitoring", .cluster = "demo"};
	in.pvcs = LIST(PVC_PENDING("`storageClassName`:`gp2`,"));
	in.csidrivers = LIST("{`metadata`:{`name`:`efs.csi.aws.com`}}");
	in.events = LIST(PVC_EVENT("Normal", "WaitForFirstConsumer", "2026-12-07T03:00:00Z",
				   "waiting for first consumer to be created before binding") ","
			 PVC_EVENT("Normal", "ExternalProvisioning", "2026-12-07T03:00:05Z",
				   "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' "
				   "or manually by the system administrator. If volume creation is delayed, please verify "
				   "that the provisioner is running and correctly registered."));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "waits for the provisioner ebs.csi.aws.com, which is not installed"));
	CHECK(said(&d, 0, "aws eks create-addon --cluster-name demo --addon-name aws-ebs-csi-driver"));
	CHECK(said(&d, 0, "--storage node"));
	hg_stack_diags_free(&d);
	yajl_tree_free(in.csidrivers);
	/* Installed: waiting for it is no problem yet. */
	in.csidrivers = LIST("{`metadata`:{`name`:`ebs.csi.aws.com`}}");
	d = run(&in);
	CHECK_INT(d.n, 0);
	hg_stack_diags_free(&d);
	free_in(&in);

	/* The driver without an IAM role (aws-ebs-csi-driver issue 963's event). */
	in = (struct stack_diag_in){.ns = "monitoring", .cluster = "demo"};
	in.pvcs = LIST(PVC_PENDING("`storageClassName`:`heliograph-gp3`,"));
	in.events = LIST(PVC_EVENT("Normal", "Provisioning", "2026-12-07T03:00:06Z",
				   "External provisioner is provisioning volume for claim \\`monitoring/influxdb-data\\`") ","
			 PVC_EVENT("Warning", "ProvisioningFailed", "2026-12-07T03:00:07Z",
				   "failed to provision volume with StorageClass \\`heliograph-gp3\\`: rpc error: code = "
				   "Internal desc = Could not create volume \\`pvc-3f337215\\`: could not create volume in "
				   "EC2: UnauthorizedOperation: You are not authorized to perform this operation. Encoded "
				   "authorization failure message: x\\n\\tstatus code: 403, request id: y"));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "UnauthorizedOperation"));
	CHECK(said(&d, 0, "`eksctl create iamserviceaccount --name ebs-csi-controller-sa --namespace kube-system "
			  "--cluster demo --role-name AmazonEKS_EBS_CSI_DriverRole --role-only --attach-policy-arn "
			  "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy --approve`"));
	CHECK(said(&d, 0, "`aws eks update-addon --cluster-name demo --addon-name aws-ebs-csi-driver "
			  "--service-account-role-arn arn:aws:iam::ACCOUNT_ID:role/AmazonEKS_EBS_CSI_DriverRole`"));
	CHECK(said(&d, 0, "eksctl create podidentityassociation"));
	CHECK(said(&d, 0, "IMDSv2 hop limit of 1"));
	CHECK(said(&d, 0, "--storage node"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* Both claims fail alike: one sentence names both. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pvcs = LIST(PVC_PENDING("`storageClassName`:`heliograph-gp3`,") ","
		       "{`metadata`:{`name`:`grafana-data`,`namespace`:`monitoring`,`uid`:`u-pvc2`},`spec`:{"
		       "`storageClassName`:`heliograph-gp3`},`status`:{`phase`:`Pending`}}");
	in.events = LIST(PVC_EVENT("Warning", "ProvisioningFailed", "2026-12-07T03:00:07Z",
				   "... could not create volume in EC2: UnauthorizedOperation: You are not authorized") ","
			 "{`metadata`:{`name`:`grafana-data.1`,`namespace`:`monitoring`},`involvedObject`:{`kind`:"
			 "`PersistentVolumeClaim`,`namespace`:`monitoring`,`name`:`grafana-data`,`uid`:`u-pvc2`},"
			 "`reason`:`ProvisioningFailed`,`type`:`Warning`,`lastTimestamp`:`2026-12-07T03:00:08Z`,"
			 "`message`:`... api error UnauthorizedOperation: You are not authorized to perform this operation.`}");
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "Volume claims influxdb-data and grafana-data stay Pending: the EBS CSI driver may not create volumes"));
	hg_stack_diags_free(&d);
	free_in(&in);

	/* A class that does not exist. */
	in = (struct stack_diag_in){.ns = "monitoring"};
	in.pvcs = LIST(PVC_PENDING("`storageClassName`:`fast`,"));
	in.events = LIST(PVC_EVENT("Warning", "ProvisioningFailed", "2026-12-07T03:00:07Z",
				   "storageclass.storage.k8s.io \\`fast\\` not found"));
	d = run(&in);
	CHECK_INT(d.n, 1);
	CHECK(said(&d, 0, "asks for storage class fast, which does not exist"));
	hg_stack_diags_free(&d);
	free_in(&in);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_volume_conflict),
		CHECK_CASE(test_no_label_volumes),
		CHECK_CASE(test_pvc),
	};
	return CHECK_RUN(argc, argv, cases);
}
