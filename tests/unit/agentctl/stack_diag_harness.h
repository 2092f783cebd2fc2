/* The harness of the stuck-rollout diagnosis tests (test_agentctl_diag_*.c):
 * JSON written with ` for " (J, LIST); nodes, pods, claims, volumes and
 * events shaped as the API server returns them, with the messages the
 * scheduler, the kubelet and the provisioners really write; a diagnosis run
 * and a check that a sentence says something. Test-only; every function is
 * static. Include after check.h. */
#ifndef HG_STACK_DIAG_HARNESS_H
#define HG_STACK_DIAG_HARNESS_H
#define SD_FN static __attribute__((unused))

#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "stack.h"
#include "stack_diag.h"

SD_FN yajl_val J(const char *text)
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

SD_FN struct stack_diags run(struct stack_diag_in *in)
{
	struct stack_diags d = {0};
	hg_stack_diagnose(in, &d);
	return d;
}

SD_FN void free_in(struct stack_diag_in *in)
{
	yajl_val all[] = {in->pods, in->pvcs, in->events, in->nodes, in->all_pods, in->pvs, in->csidrivers};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		yajl_tree_free(all[i]);
}

SD_FN bool said(const struct stack_diags *d, size_t i, const char *sub)
{
	bool ok = i < d->n && strstr(d->v[i].text, sub);
	if (getenv("DIAG_SHOW") && i < d->n) /* DIAG_SHOW=1: read the sentences */
		fprintf(stderr, "[%s] %s\n", d->v[i].key, d->v[i].text);
	if (!ok)
		fprintf(stderr, "sentence %zu lacks \"%s\": %s\n", i, sub, i < d->n ? d->v[i].text : "(none)");
	return ok;
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

#define PVC_PENDING(cls)                                                                                          \
	"{`metadata`:{`name`:`influxdb-data`,`namespace`:`monitoring`,`uid`:`u-pvc`},`spec`:{" cls "`resources`:" \
	"{`requests`:{`storage`:`5Gi`}}},`status`:{`phase`:`Pending`}}"
#define PVC_EVENT(type, reason, time, msg)                                                                        \
	"{`metadata`:{`name`:`influxdb-data.1`,`namespace`:`monitoring`},`involvedObject`:{`kind`:"               \
	"`PersistentVolumeClaim`,`namespace`:`monitoring`,`name`:`influxdb-data`,`uid`:`u-pvc`},`reason`:`" reason \
	"`,`message`:`" msg "`,`type`:`" type "`,`lastTimestamp`:`" time "`,`count`:3}"

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

#endif
