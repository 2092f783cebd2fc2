/* The diagnosis of a stuck install-stack rollout (agentctl/stack_diag.c):
 * objects shaped as the API server returns them, with the reasons and
 * messages the scheduler, the kubelet, the persistentvolume controller and
 * the EBS CSI provisioner really write, in; one sentence with its fix per
 * problem out. JSON is written with ` for " to keep it readable. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "jsonq.h"
#include "stack.h"
#include "stack_diag.h"

static yajl_val J(const char *text)
{
	char *t = strdup(text), err[256];
	for (char *p = t; *p; p++)
		if (*p == '`')
			*p = '"';
	yajl_val v = hg_jq_parse(t, err, sizeof err);
	if (!v)
		fprintf(stderr, "bad test JSON: %s\n%s\n", err, t);
	free(t);
	return v;
}

#define LIST(...) J("{`kind`:`List`,`items`:[" __VA_ARGS__ "]}")

/* Nodes as EKS reports them (labels, allocatable of a t3.micro). */
#define NODE(name, zone, extra_labels, ready)                                                                    \
	"{`metadata`:{`name`:`" name "`,`labels`:{`kubernetes.io/os`:`linux`,`kubernetes.io/arch`:`amd64`,"    \
	"`node.kubernetes.io/instance-type`:`t3.micro`,`topology.kubernetes.io/zone`:`" zone "`" extra_labels "}}," \
	"`status`:{`allocatable`:{`pods`:`4`,`memory`:`563Mi`,`cpu`:`1930m`},`conditions`:[{`type`:`Ready`,"     \
	"`status`:`" ready "`,`reason`:`" ready "`,`message`:`" ready "`}]}}"
#define READY_NODE(name, zone, labels) NODE(name, zone, labels, "True")
#define STACK_LBL ",`heliograph.io/stack`:`true`"

/* A running pod of another namespace on a node. */
#define SYS_POD(name, node, mem, hostnet)                                                                      \
	"{`metadata`:{`name`:`" name "`,`namespace`:`kube-system`},`spec`:{`nodeName`:`" node "`,`hostNetwork`:" \
	hostnet ",`containers`:[{`name`:`c`,`resources`:{`requests`:{`memory`:`" mem "`}}}]},"                  \
	"`status`:{`phase`:`Running`,`conditions`:[{`type`:`Ready`,`status`:`True`}]}}"

/* The stack pod, Pending and unscheduled, with the scheduler's condition. */
#define STACK_POD_UNSCHED(msg)                                                                                  \
	"{`metadata`:{`name`:`heliograph-stack-5d9c7-x2x`,`namespace`:`monitoring`,`uid`:`u-stack`,"              \
	"`labels`:{`app.kubernetes.io/part-of`:`heliograph`},`ownerReferences`:[{`kind`:`ReplicaSet`,"             \
	"`name`:`heliograph-stack-5d9c7`}]},`spec`:{`nodeSelector`:{`kubernetes.io/os`:`linux`,"                  \
	"`heliograph.io/stack`:`true`},`containers`:[{`name`:`influxdb`,`resources`:{`requests`:{`memory`:"      \
	"`200Mi`},`limits`:{`memory`:`300Mi`}}},{`name`:`grafana`,`resources`:{`requests`:{`memory`:`150Mi`}}},"   \
	"{`name`:`agent`,`resources`:{`requests`:{`memory`:`24Mi`}}}],`volumes`:[{`name`:`influxdb-data`,"         \
	"`persistentVolumeClaim`:{`claimName`:`influxdb-data`}}]},`status`:{`phase`:`Pending`,`conditions`:"      \
	"[{`type`:`PodScheduled`,`status`:`False`,`reason`:`Unschedulable`,`message`:`" msg "`}]}}"

/* The same with both data volumes, as the shipped Deployment has them. */
#define STACK_POD_UNSCHED_2VOL(msg)                                                                             \
	"{`metadata`:{`name`:`heliograph-stack-5d9c7-x2x`,`namespace`:`monitoring`,`uid`:`u-stack`,"              \
	"`ownerReferences`:[{`kind`:`ReplicaSet`,`name`:`heliograph-stack-5d9c7`}]},`spec`:{`nodeSelector`:"      \
	"{`heliograph.io/stack`:`true`},`containers`:[{`name`:`influxdb`}],`volumes`:[{`name`:`influxdb-data`,"    \
	"`persistentVolumeClaim`:{`claimName`:`influxdb-data`}},{`name`:`grafana-data`,`persistentVolumeClaim`:"  \
	"{`claimName`:`grafana-data`}}]},`status`:{`phase`:`Pending`,`conditions`:[{`type`:`PodScheduled`,"         \
	"`status`:`False`,`reason`:`Unschedulable`,`message`:`" msg "`}]}}"

static struct stack_diags run(struct stack_diag_in *in)
{
	struct stack_diags d = {0};
	hg_stack_diagnose(in, &d);
	return d;
}

static void free_in(struct stack_diag_in *in)
{
	yajl_val all[] = {in->pods, in->pvcs, in->events, in->nodes, in->all_pods, in->pvs, in->csidrivers};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		yajl_tree_free(all[i]);
}

static bool said(const struct stack_diags *d, size_t i, const char *sub)
{
	bool ok = i < d->n && strstr(d->v[i].text, sub);
	if (getenv("DIAG_SHOW") && i < d->n) /* DIAG_SHOW=1: read the sentences */
		fprintf(stderr, "[%s] %s\n", d->v[i].key, d->v[i].text);
	if (!ok)
		fprintf(stderr, "sentence %zu lacks \"%s\": %s\n", i, sub, i < d->n ? d->v[i].text : "(none)");
	return ok;
}

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

#define PVC_BOUND(pv)                                                                                            \
	"{`metadata`:{`name`:`influxdb-data`,`namespace`:`monitoring`,`uid`:`u-pvc`},`spec`:{`storageClassName`:" \
	"`heliograph-node`,`volumeName`:`" pv "`},`status`:{`phase`:`Bound`}}"
#define PV_ON_NODE(pv, node)                                                                                     \
	"{`metadata`:{`name`:`" pv "`},`spec`:{`nodeAffinity`:{`required`:{`nodeSelectorTerms`:[{`matchExpressions`:" \
	"[{`key`:`kubernetes.io/hostname`,`operator`:`In`,`values`:[`" node "`]}]}]}}}}"
#define PV_IN_ZONE(pv, zone)                                                                                     \
	"{`metadata`:{`name`:`" pv "`},`spec`:{`csi`:{`driver`:`ebs.csi.aws.com`},`nodeAffinity`:{`required`:"     \
	"{`nodeSelectorTerms`:[{`matchExpressions`:[{`key`:`topology.kubernetes.io/zone`,`operator`:`In`,"         \
	"`values`:[`" zone "`]}]}]}}}}"
#define VOL_CONFLICT                                                                                              \
	"0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node "   \
	"affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."

#define VOL_CONFLICT_CORDONED                                                                                     \
	"0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable. "       \
	"preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
#define CORDONED_NODE(name, zone)                                                                                 \
	"{`metadata`:{`name`:`" name "`,`labels`:{`kubernetes.io/os`:`linux`,`topology.kubernetes.io/zone`:`" zone \
	"`}},`spec`:{`unschedulable`:true,`taints`:[{`key`:`node.kubernetes.io/unschedulable`,`effect`:"            \
	"`NoSchedule`}]},`status`:{`allocatable`:{`pods`:`4`,`memory`:`563Mi`},`conditions`:[{`type`:`Ready`,"      \
	"`status`:`True`}]}}"

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

#define PVC_PENDING(cls)                                                                                          \
	"{`metadata`:{`name`:`influxdb-data`,`namespace`:`monitoring`,`uid`:`u-pvc`},`spec`:{" cls "`resources`:" \
	"{`requests`:{`storage`:`5Gi`}}},`status`:{`phase`:`Pending`}}"
#define PVC_EVENT(type, reason, time, msg)                                                                        \
	"{`metadata`:{`name`:`influxdb-data.1`,`namespace`:`monitoring`},`involvedObject`:{`kind`:"               \
	"`PersistentVolumeClaim`,`namespace`:`monitoring`,`name`:`influxdb-data`,`uid`:`u-pvc`},`reason`:`" reason \
	"`,`message`:`" msg "`,`type`:`" type "`,`lastTimestamp`:`" time "`,`count`:3}"

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

/* An agent DaemonSet pod on node n with one container's status. */
#define AGENT_POD(name, node, ready, cstatus)                                                                     \
	"{`metadata`:{`name`:`" name "`,`namespace`:`monitoring`,`uid`:`u-" name "`,`labels`:"                     \
	"{`app.kubernetes.io/part-of`:`heliograph`},`ownerReferences`:[{`kind`:`DaemonSet`,`name`:"               \
	"`heliograph-agent`}]},`spec`:{`nodeName`:`" node "`,`hostNetwork`:true,`containers`:[{`name`:`agent`,"    \
	"`resources`:{`requests`:{`memory`:`24Mi`},`limits`:{`memory`:`64Mi`}}}]},`status`:{`phase`:`Pending`,"   \
	"`conditions`:[{`type`:`Ready`,`status`:`" ready "`}],`containerStatuses`:[" cstatus "]}}"
#define STACK_POD_RUN(cstatus)                                                                                    \
	"{`metadata`:{`name`:`heliograph-stack-5d9c7-x2x`,`namespace`:`monitoring`,`uid`:`u-stack`,`labels`:"     \
	"{`app.kubernetes.io/part-of`:`heliograph`},`ownerReferences`:[{`kind`:`ReplicaSet`,`name`:"             \
	"`heliograph-stack-5d9c7`}]},`spec`:{`nodeName`:`n1`,`containers`:[{`name`:`influxdb`},{`name`:"          \
	"`grafana`,`resources`:{`limits`:{`memory`:`192Mi`}}}]},`status`:{`phase`:`Running`,`conditions`:"        \
	"[{`type`:`Ready`,`status`:`False`}],`containerStatuses`:[" cstatus "]}}"
#define PULL_DOCKERHUB                                                                                            \
	"failed to pull and unpack image \\`docker.io/heliograph/agent:0.1.0\\`: failed to resolve reference "    \
	"\\`docker.io/heliograph/agent:0.1.0\\`: pull access denied, repository does not exist or may require "    \
	"authorization: server message: insufficient_scope: authorization failed"
#define ECR "123456789012.dkr.ecr.us-east-1.amazonaws.com"

#define PULL_FAILED_EVENT(time, msg)                                                                              \
	"{`involvedObject`:{`kind`:`Pod`,`name`:`heliograph-agent-a`,`uid`:`u-heliograph-agent-a`,`fieldPath`:"      \
	"`spec.containers{agent}`},`reason`:`Failed`,`type`:`Warning`,`lastTimestamp`:`" time "`,`message`:`" msg "`}"

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

static void test_misc(void)
{
	char b[64];
	hg_stack_diag_cluster_name("arn:aws:eks:us-east-1:123456789012:cluster/demo", b, sizeof b);
	CHECK_STR(b, "demo");
	hg_stack_diag_cluster_name("admin@free-tier.eu-west-1.eksctl.io", b, sizeof b);
	CHECK_STR(b, "free-tier");
	hg_stack_diag_cluster_name("free-tier.eu-west-1.eksctl.io", b, sizeof b);
	CHECK_STR(b, "free-tier");
	hg_stack_diag_cluster_name("kind-kind", b, sizeof b);
	CHECK_STR(b, "");

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
		CHECK_CASE(test_too_many_pods),
		CHECK_CASE(test_memory),
		CHECK_CASE(test_no_stack_label),
		CHECK_CASE(test_volume_conflict),
		CHECK_CASE(test_no_label_volumes),
		CHECK_CASE(test_prebind),
		CHECK_CASE(test_pvc),
		CHECK_CASE(test_image_pull),
		CHECK_CASE(test_crash_and_oom),
		CHECK_CASE(test_sandbox_ip),
		CHECK_CASE(test_notready),
		CHECK_CASE(test_misc),
	};
	return CHECK_RUN(argc, argv, cases);
}
