/* The placement plan of install-stack: which node takes the stack pod and
 * what every node has left, printed before anything is created.
 *
 * On the small EKS nodes the stack is for, three limits bind, and the
 * scheduler and the VPC CNI enforce all three:
 *   - pod slots: the kubelet's max pods = ENIs x (IPv4 per ENI - 1) + 2
 *     (4 on a t2/t3/t4g.micro), hostNetwork pods included;
 *   - pod-network IPs: ENIs x (IPv4 per ENI - 1), the "+ 2" being the
 *     hostNetwork aws-node and kube-proxy; a pod without an IP stays in
 *     ContainerCreating (FailedCreatePodSandBox);
 *   - memory requests against allocatable.
 * The stack pod (InfluxDB, Grafana and the agent of its own node) needs one
 * slot, one IP and its memory on ONE node; every other node needs one slot
 * and the agent's memory (the agent is on hostNetwork: no IP).
 *
 * The agent is system-node-critical: on a node whose slots are all taken the
 * scheduler preempts pods of lower priority (a coredns replica is
 * system-cluster-critical), and their ReplicaSet recreates them elsewhere.
 * The plan counts that only where each such pod fits on another node next
 * to what the stack puts there (displace()); else it refuses. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "pod_requests.h"
#include "kube_util.h"
#include "quantity.h"
#include "stack.h"

/* ENIs and IPv4 addresses per ENI, from awslabs/amazon-eks-ami
 * nodeadm/internal/kubelet/instance-info.jsonl (defaultMaxENIs,
 * ipv4AddressesPerInterface); max pods as its eni_max_pods.go computes it.
 * nitro: whether VPC CNI prefix delegation is possible (t2 is Xen). */
struct itype {
	const char *name;
	int enis, ipv4;
	bool nitro;
};
static const struct itype itypes[] = {
	{"t2.nano", 2, 2, false},    {"t2.micro", 2, 2, false},   {"t2.small", 3, 4, false},
	{"t2.medium", 3, 6, false},  {"t2.large", 3, 12, false},  {"t2.xlarge", 3, 15, false},
	{"t2.2xlarge", 3, 15, false}, {"t3.nano", 2, 2, true},    {"t3.micro", 2, 2, true},
	{"t3.small", 3, 4, true},    {"t3.medium", 3, 6, true},   {"t3.large", 3, 12, true},
	{"t3.xlarge", 4, 15, true},  {"t3.2xlarge", 4, 15, true}, {"t3a.nano", 2, 2, true},
	{"t3a.micro", 2, 2, true},   {"t3a.small", 2, 4, true},   {"t3a.medium", 3, 6, true},
	{"t3a.large", 3, 12, true},  {"t3a.xlarge", 4, 15, true}, {"t3a.2xlarge", 4, 15, true},
	{"t4g.nano", 2, 2, true},    {"t4g.micro", 2, 2, true},   {"t4g.small", 3, 4, true},
	{"t4g.medium", 3, 6, true},  {"t4g.large", 3, 12, true},  {"t4g.xlarge", 4, 15, true},
	{"t4g.2xlarge", 4, 15, true}, {"m5.large", 3, 10, true},  {"m6i.large", 3, 10, true},
	{"m6g.medium", 2, 4, true},
};

static const struct itype *itype_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof itypes / sizeof *itypes; i++)
		if (strcmp(itypes[i].name, name) == 0)
			return &itypes[i];
	return NULL;
}

struct plan_pod {
	const char *name, *ns;
	char workload[64]; /* DaemonSet or Deployment name, else the pod's */
	int node;          /* index into node[], -1 Pending */
	bool host_network, daemonset, owned, ours, gone;
	bool recreated;    /* a ReplicaSet or StatefulSet makes a new one when it goes */
	int64_t mem, priority;
	int moved_to;      /* preempted by the agent: the node its replacement fits on, else -1 */
};

struct plan_node {
	const char *name, *itype, *zone, *arch, *os, *taint;
	const char *nodegroup, *cluster;
	bool ready, cordoned, labelled, label_true, synthetic;
	int64_t pods, ips, mem; /* allocatable; ips: pod-network IPs */
	const struct itype *it;
	bool ips_from_pods; /* unknown type or prefix delegation: IPs = max pods */
	int64_t base_pods, base_ips, base_mem; /* a synthetic node's DaemonSet pods */
	int64_t used_pods, used_ips, used_mem; /* running pods not of the stack */
};

/* Both workloads select kubernetes.io/os=linux: other nodes get nothing. */
static bool counted(const struct plan_node *n)
{
	return n->ready && !n->cordoned && (!n->os || strcmp(n->os, "linux") == 0);
}

/* The stack pod's nodeSelector asks for kubernetes.io/os=linux; it has no
 * tolerations. */
static bool stack_may_run(const struct stack_plan *p, const struct plan_node *n)
{
	if (!counted(n) || n->taint)
		return false;
	if (p->want_node && strcmp(p->want_node, n->name) != 0)
		return false;
	if (p->want_zone && (!n->zone || strcmp(p->want_zone, n->zone) != 0))
		return false;
	return true;
}

static int64_t free_pods(const struct plan_node *n)
{
	return n->pods - n->used_pods;
}
static int64_t free_ips(const struct plan_node *n)
{
	return n->ips - n->used_ips;
}
static int64_t free_mem(const struct plan_node *n)
{
	return n->mem - n->used_mem;
}

static bool fits(const struct stack_pod_needs *need, const struct plan_node *n)
{
	return free_pods(n) >= 1 && (need->host_network || free_ips(n) >= 1) && free_mem(n) >= need->memory;
}

static bool all_alnum(const char *p, size_t n, bool *digit)
{
	*digit = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			*digit = true;
		else if (p[i] < 'a' || p[i] > 'z')
			return false;
	}
	return true;
}

/* "coredns-5d849c4789-x2k9v" -> "coredns": the owner's name without the
 * generated suffixes, so the plan names what a user knows. */
static void workload_of(yajl_val pod, char *out, size_t len, bool *daemonset)
{
	yajl_val o = hg_jq_item(hg_jq_at(pod, "metadata", "ownerReferences", JQ_END), 0);
	const char *kind = hg_jq_str(o, "kind", JQ_END), *name = hg_jq_str(o, "name", JQ_END);
	*daemonset = kind && strcmp(kind, "DaemonSet") == 0;
	if (!kind || !name)
		name = hg_jq_str(pod, "metadata", "name", JQ_END);
	snprintf(out, len, "%s", name ? name : "?");
	bool digit;
	if (!kind) { /* the pod's own name: drop the 5-character pod suffix first */
		char *dash = strrchr(out, '-');
		if (dash && strlen(dash + 1) == 5 && all_alnum(dash + 1, 5, &digit))
			*dash = '\0';
	}
	if (kind && strcmp(kind, "ReplicaSet") == 0) { /* DEPLOYMENT-HASH */
		char *dash = strrchr(out, '-');
		if (dash)
			*dash = '\0';
	} else if (!kind) { /* then the pod-template hash */
		char *dash = strrchr(out, '-');
		size_t n = dash ? strlen(dash + 1) : 0;
		if (dash && n >= 6 && n <= 10 && all_alnum(dash + 1, n, &digit) && digit)
			*dash = '\0';
	}
}

static bool node_ready(yajl_val node)
{
	yajl_val conds = hg_jq_at(node, "status", "conditions", JQ_END);
	if (!conds)
		return true; /* no conditions reported: nothing says it is not */
	for (size_t i = 0; i < hg_jq_len(conds); i++) {
		const char *t = hg_jq_str(hg_jq_item(conds, i), "type", JQ_END), *st = hg_jq_str(hg_jq_item(conds, i), "status", JQ_END);
		if (t && strcmp(t, "Ready") == 0)
			return st && strcmp(st, "True") == 0;
	}
	return false;
}

static const char *label(yajl_val node, const char *key, const char *fallback)
{
	yajl_val labels = hg_jq_at(node, "metadata", "labels", JQ_END);
	const char *path[] = {key, NULL};
	yajl_val v = labels ? yajl_tree_get(labels, path, yajl_t_string) : NULL;
	if (!v && fallback) {
		path[0] = fallback;
		v = labels ? yajl_tree_get(labels, path, yajl_t_string) : NULL;
	}
	return v ? YAJL_GET_STRING(v) : NULL;
}

/* A taint the stack pod does not tolerate (cordoning is counted apart). */
static const char *blocking_taint(yajl_val node)
{
	yajl_val taints = hg_jq_at(node, "spec", "taints", JQ_END);
	for (size_t i = 0; i < hg_jq_len(taints); i++) {
		const char *k = hg_jq_str(hg_jq_item(taints, i), "key", JQ_END), *e = hg_jq_str(hg_jq_item(taints, i), "effect", JQ_END);
		if (k && e && strcmp(e, "PreferNoSchedule") != 0 && strcmp(k, "node.kubernetes.io/unschedulable") != 0)
			return k;
	}
	return NULL;
}

static void node_capacity(struct plan_node *n)
{
	n->it = itype_find(n->itype);
	if (n->it) {
		n->ips = (int64_t)n->it->enis * (n->it->ipv4 - 1);
		/* More pods allowed than the ENIs' IPs: prefix delegation (or a
		 * custom max pods), where each ENI slot holds 16 addresses. */
		n->ips_from_pods = n->pods > n->ips + 2;
	} else
		n->ips_from_pods = true;
	if (n->ips_from_pods)
		n->ips = n->pods;
}

/* moves: count the pods the agents preempt on the nodes their replacements
 * go to (the cluster after the install), else where they are now. */
static void tally_moves(struct stack_plan *p, bool moves)
{
	for (size_t i = 0; i < p->nn; i++) {
		struct plan_node *n = &p->node[i];
		n->used_pods = n->base_pods;
		n->used_ips = n->base_ips;
		n->used_mem = n->base_mem;
	}
	for (size_t i = 0; i < p->np; i++) {
		struct plan_pod *pp = &p->pod[i];
		if (pp->node < 0 || pp->ours || pp->gone)
			continue;
		struct plan_node *n = &p->node[moves && pp->moved_to >= 0 ? pp->moved_to : pp->node];
		n->used_pods++;
		n->used_ips += pp->host_network ? 0 : 1;
		n->used_mem += pp->mem;
	}
}

static void tally(struct stack_plan *p)
{
	tally_moves(p, true);
}

int hg_stack_plan_set_docs(struct stack_plan *p, const struct stack_docs *d, char *err, size_t errlen)
{
	bool have_stack = false, have_agent = false;
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].id.kind, "Deployment") == 0 && strcmp(d->v[i].id.name, STACK_DEPLOYMENT) == 0)
			have_stack = hg_stack_doc_pod(&d->v[i], &p->stack) == 0;
		if (strcmp(d->v[i].id.kind, "DaemonSet") == 0 && strcmp(d->v[i].id.name, STACK_DAEMONSET) == 0)
			have_agent = hg_stack_doc_pod(&d->v[i], &p->agent) == 0;
	}
	if (!have_stack || !have_agent) {
		snprintf(err, errlen, "the render lacks the Deployment %s or the DaemonSet %s", STACK_DEPLOYMENT,
			 STACK_DAEMONSET);
		return -1;
	}
	return 0;
}

int hg_stack_plan_load(struct stack *s, const struct stack_docs *d, struct stack_plan *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->chosen = -1;
	if (hg_stack_plan_set_docs(p, d, err, errlen) != 0)
		return -1;
	int rc = hg_stack_list(s, "v1", "Node", NULL, NULL, NULL, &p->nodes_v, err, errlen);
	if (rc == 0)
		rc = hg_stack_list(s, "v1", "Pod", NULL, NULL, "status.phase!=Succeeded,status.phase!=Failed", &p->pods_v,
				err, errlen);
	if (rc != 0)
		return rc;
	yajl_val items = hg_jq_at(p->nodes_v, "items", JQ_END), pitems = hg_jq_at(p->pods_v, "items", JQ_END);
	/* Room for the synthetic nodes of the options (a t3.small, one more node). */
	p->node = calloc(hg_jq_len(items) + 2, sizeof *p->node);
	p->pod = calloc(hg_jq_len(pitems) + 1, sizeof *p->pod);
	if (!p->node || !p->pod) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Only named nodes are kept: node[0 .. nn) all have a name. */
	size_t nn = 0;
	for (size_t i = 0; i < hg_jq_len(items); i++) {
		yajl_val v = hg_jq_item(items, i);
		struct plan_node *n = &p->node[nn];
		if (!(n->name = hg_jq_str(v, "metadata", "name", JQ_END)))
			continue;
		n->itype = label(v, "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type");
		n->zone = label(v, "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone");
		n->arch = label(v, "kubernetes.io/arch", "beta.kubernetes.io/arch");
		n->os = label(v, "kubernetes.io/os", "beta.kubernetes.io/os");
		n->nodegroup = label(v, "eks.amazonaws.com/nodegroup", "alpha.eksctl.io/nodegroup-name");
		n->cluster = label(v, "alpha.eksctl.io/cluster-name", NULL);
		/* Any value counts for the agent's DoesNotExist affinity; only
		 * "true" for the stack pod's nodeSelector. */
		const char *l = label(v, STACK_NODE_LABEL, NULL);
		n->labelled = l != NULL;
		n->label_true = l && strcmp(l, "true") == 0;
		if (hg_quantity_parse(hg_jq_str(v, "status", "allocatable", "pods", JQ_END), &n->pods) != 0)
			n->pods = 110; /* the kubelet's default */
		if (hg_quantity_parse(hg_jq_str(v, "status", "allocatable", "memory", JQ_END), &n->mem) != 0)
			n->mem = INT64_MAX / 4;
		n->ready = node_ready(v);
		n->cordoned = YAJL_IS_TRUE(hg_jq_at(v, "spec", "unschedulable", JQ_END));
		n->taint = blocking_taint(v);
		node_capacity(n);
		nn++;
	}
	p->nn = nn;
	const char *ns = p->ns = hg_stack_namespace(s);
	for (size_t i = 0; i < hg_jq_len(pitems); i++) {
		yajl_val v = hg_jq_item(pitems, i);
		struct plan_pod *pp = &p->pod[p->np++];
		const char *node = hg_jq_str(v, "spec", "nodeName", JQ_END);
		pp->node = -1;
		for (size_t k = 0; node && k < nn; k++)
			if (strcmp(p->node[k].name, node) == 0)
				pp->node = (int)k;
		pp->name = hg_jq_str(v, "metadata", "name", JQ_END);
		pp->ns = hg_jq_str(v, "metadata", "namespace", JQ_END);
		workload_of(v, pp->workload, sizeof pp->workload, &pp->daemonset);
		pp->owned = hg_jq_len(hg_jq_at(v, "metadata", "ownerReferences", JQ_END)) > 0;
		const char *okind = hg_jq_str(hg_jq_item(hg_jq_at(v, "metadata", "ownerReferences", JQ_END), 0), "kind", JQ_END);
		pp->recreated = okind && (strcmp(okind, "ReplicaSet") == 0 || strcmp(okind, "StatefulSet") == 0);
		/* spec.priority is what the Priority admission plugin set from the class. */
		yajl_val pr = hg_jq_at(v, "spec", "priority", JQ_END);
		pp->priority = pr && YAJL_IS_INTEGER(pr) ? YAJL_GET_INTEGER(pr)
						       : hg_stack_class_priority(hg_jq_str(v, "spec", "priorityClassName", JQ_END));
		pp->moved_to = -1;
		pp->host_network = YAJL_IS_TRUE(hg_jq_at(v, "spec", "hostNetwork", JQ_END));
		pp->mem = hg_pod_memory_request(v);
		/* Our own pods (a re-run, an upgrade) are replaced, not added. */
		const char *pns = hg_jq_str(v, "metadata", "namespace", JQ_END);
		const char *po = hg_jq_str(v, "metadata", "labels", "app.kubernetes.io/part-of", JQ_END);
		pp->ours = pns && po && strcmp(pns, ns) == 0 && strcmp(po, "heliograph") == 0;
	}
	/* Without owner references, a workload with a pod on every counted node
	 * is taken for a DaemonSet (a new node would get one too). */
	size_t ncounted = 0;
	for (size_t k = 0; k < p->nn; k++)
		ncounted += counted(&p->node[k]);
	for (size_t i = 0; i < p->np && ncounted > 1; i++) {
		if (p->pod[i].daemonset || p->pod[i].owned || p->pod[i].node < 0)
			continue;
		size_t on = 0;
		for (size_t k = 0; k < p->nn; k++) {
			if (!counted(&p->node[k]))
				continue;
			for (size_t j = 0; j < p->np; j++)
				if (p->pod[j].node == (int)k && strcmp(p->pod[j].workload, p->pod[i].workload) == 0) {
					on++;
					break;
				}
		}
		if (on == ncounted)
			p->pod[i].daemonset = true;
	}
	tally(p);
	return 0;
}

static int name_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* The pods on node i the agent preempts (DefaultPreemption: lower priority
 * first) until it fits, each with the node its replacement fits on next to
 * what the stack puts there (the stack pod on best, an agent elsewhere),
 * preferring the node with fewer pods of its workload (coredns spreads),
 * then more free memory. Only pods of lower priority than the agent that a
 * ReplicaSet or StatefulSet recreates count: a DaemonSet's pod belongs to
 * its node, a bare pod would be gone. False when no such move makes room. */
static bool displace(struct stack_plan *p, size_t i, int best)
{
	while (!fits(&p->agent, &p->node[i])) {
		int v = -1;
		for (size_t j = 0; j < p->np; j++) {
			const struct plan_pod *q = &p->pod[j];
			if (q->node != (int)i || q->moved_to >= 0 || q->ours || q->gone || q->daemonset || !q->recreated ||
			    q->priority >= p->agent.priority)
				continue;
			if (v < 0 || q->priority < p->pod[v].priority)
				v = (int)j;
		}
		if (v < 0)
			return false;
		struct plan_pod *q = &p->pod[v];
		int to = -1, to_same = 0;
		for (size_t y = 0; y < p->nn; y++) {
			const struct plan_node *n = &p->node[y];
			if (y == i || !counted(n) || n->taint)
				continue;
			const struct stack_pod_needs *need = (int)y == best ? &p->stack : &p->agent;
			if (free_pods(n) - 1 < 1 || free_ips(n) - (need->host_network ? 0 : 1) < (q->host_network ? 0 : 1) ||
			    free_mem(n) - need->memory < q->mem)
				continue;
			int same = 0;
			for (size_t j = 0; j < p->np; j++) {
				const struct plan_pod *o = &p->pod[j];
				same += !o->gone && (o->moved_to >= 0 ? o->moved_to : o->node) == (int)y &&
					strcmp(o->workload, q->workload) == 0;
			}
			if (to < 0 || same < to_same || (same == to_same && free_mem(n) > free_mem(&p->node[to]))) {
				to = (int)y;
				to_same = same;
			}
		}
		if (to < 0)
			return false;
		q->moved_to = to;
		tally(p);
	}
	return true;
}

static void clear_moves(struct stack_plan *p)
{
	for (size_t j = 0; j < p->np; j++)
		p->pod[j].moved_to = -1;
	tally(p);
}

/* Chooses the stack node among p->node[0..nn) as they are tallied. */
static void place(struct stack_plan *p)
{
	int best = -1, any = -1;
	clear_moves(p);
	for (size_t i = 0; i < p->nn; i++) {
		struct plan_node *n = &p->node[i];
		if (!stack_may_run(p, n))
			continue;
		if (any < 0 || free_mem(n) > free_mem(&p->node[any]))
			any = (int)i;
		if (!fits(&p->stack, n))
			continue;
		/* A re-run keeps the node it chose before; else most free memory. */
		struct plan_node *b = best >= 0 ? &p->node[best] : NULL;
		if (!b || (n->label_true && !b->label_true) ||
		    (n->label_true == b->label_true &&
		     (free_mem(n) > free_mem(b) || (free_mem(n) == free_mem(b) && name_cmp(n->name, b->name) < 0))))
			best = (int)i;
	}
	p->fits = best >= 0;
	for (size_t i = 0; p->fits && i < p->nn; i++)
		if ((int)i != best && counted(&p->node[i]) && !fits(&p->agent, &p->node[i]) && !displace(p, i, best))
			p->fits = false;
	if (!p->fits)
		clear_moves(p); /* the refusal describes the nodes as they are */
	/* Nothing fits: --force still needs a node to label; where the volumes
	 * are has no usable node, the best other one (the pod then waits with
	 * the scheduler's volume conflict, which the rollout wait explains). */
	if (best < 0 && any < 0 && (p->want_node || p->want_zone)) {
		const char *wn = p->want_node, *wz = p->want_zone;
		p->want_node = p->want_zone = NULL;
		for (size_t i = 0; i < p->nn; i++)
			if (stack_may_run(p, &p->node[i]) && (any < 0 || free_mem(&p->node[i]) > free_mem(&p->node[any])))
				any = (int)i;
		p->want_node = wn;
		p->want_zone = wz;
	}
	p->chosen = best >= 0 ? best : any;
}

void hg_stack_plan_place(struct stack_plan *p)
{
	tally(p);
	place(p);
}

const char *hg_stack_plan_node(const struct stack_plan *p)
{
	return p->chosen >= 0 ? p->node[p->chosen].name : NULL;
}

/* Memory in whole Mi, as requests and allocatable are compared in the table. */
static void fmt_mem(int64_t v, char *out, size_t len)
{
	if (v >= INT64_MAX / 8)
		snprintf(out, len, "?");
	else
		snprintf(out, len, "%lldMi", (long long)((v < 0 ? 0 : v) + (1 << 19)) >> 20);
}

/* What the stack adds on node i. */
static void adds(const struct stack_plan *p, size_t i, char *out, size_t len)
{
	const struct plan_node *n = &p->node[i];
	char m[32];
	if (!n->ready) {
		snprintf(out, len, "nothing: NotReady, not counted");
		return;
	}
	if (n->cordoned) {
		/* DaemonSet pods tolerate node.kubernetes.io/unschedulable. */
		snprintf(out, len, "nothing counted: cordoned (an agent still starts there if a slot is free)");
		return;
	}
	if (!counted(n)) {
		snprintf(out, len, "nothing: not linux, not counted");
		return;
	}
	const struct stack_pod_needs *need = (int)i == p->chosen ? &p->stack : &p->agent;
	fmt_mem(need->memory, m, sizeof m);
	size_t l = (size_t)snprintf(out, len, "%s%s%s%s: 1 pod, %s%s", (int)i == p->chosen ? "stack pod (" : "agent",
				    (int)i == p->chosen ? need->containers : "", (int)i == p->chosen ? ")" : "",
				    (int)i != p->chosen && need->host_network ? " (hostNetwork)" : "",
				    need->host_network ? "" : "1 IP, ", m);
	if (l < len && !fits(need, n))
		l += (size_t)snprintf(out + l, len - l, " - does not fit");
	for (size_t j = 0; j < p->np && l < len; j++) {
		const struct plan_pod *q = &p->pod[j];
		if (q->moved_to >= 0 && q->node == (int)i)
			l += (size_t)snprintf(out + l, len - l, "; displaces %s to %s", q->name, p->node[q->moved_to].name);
		else if (q->moved_to == (int)i)
			l += (size_t)snprintf(out + l, len - l, "; a new %s pod comes here", q->workload);
	}
}

void hg_stack_plan_print(const struct stack *s, struct stack_plan *p)
{
	enum { C_NODE, C_TYPE, C_ZONE, C_ARCH, C_PODS, C_IPS, C_MEM, C_ADDS, C_N };
	static const char *const head[C_N] = {"NODE", "TYPE", "ZONE", "ARCH", "PODS", "POD IPS", "MEMORY REQUESTS",
					      "THE STACK ADDS"};
	size_t rows = p->nn + 1;
	char(*cell)[C_N][320] = calloc(rows, sizeof *cell);
	if (!cell)
		return;
	size_t w[C_N] = {0};
	for (int c = 0; c < C_N; c++)
		snprintf(cell[0][c], sizeof cell[0][c], "%s", head[c]);
	/* The columns as the nodes are now, what the stack adds after the moves. */
	tally_moves(p, false);
	for (size_t i = 0; i < p->nn; i++) {
		const struct plan_node *n = &p->node[i];
		char (*r)[320] = cell[i + 1];
		char um[32], am[32];
		fmt_mem(n->used_mem, um, sizeof um);
		fmt_mem(n->mem, am, sizeof am);
		snprintf(r[C_NODE], 320, "%s", n->name);
		snprintf(r[C_TYPE], 320, "%s", n->itype ? n->itype : "?");
		snprintf(r[C_ZONE], 320, "%s", n->zone ? n->zone : "?");
		snprintf(r[C_ARCH], 320, "%s", n->arch ? n->arch : "?");
		snprintf(r[C_PODS], 320, "%lld/%lld", (long long)n->used_pods, (long long)n->pods);
		snprintf(r[C_IPS], 320, "%lld/%lld", (long long)n->used_ips, (long long)n->ips);
		snprintf(r[C_MEM], 320, "%s/%s", um, am);
	}
	tally(p);
	for (size_t i = 0; i < p->nn; i++)
		adds(p, i, cell[i + 1][C_ADDS], 320);
	for (size_t i = 0; i < rows; i++)
		for (int c = 0; c < C_N; c++)
			if (strlen(cell[i][c]) > w[c])
				w[c] = strlen(cell[i][c]);
	fprintf(s->out, "\nPlacement plan (pods, pod IPs and memory requests: used now/allocatable, the stack's own "
			"pods not counted):\n");
	for (size_t i = 0; i < rows; i++) {
		fprintf(s->out, "  ");
		for (int c = 0; c + 1 < C_N; c++)
			fprintf(s->out, "%-*s  ", (int)w[c], cell[i][c]);
		fprintf(s->out, "%s\n", cell[i][C_N - 1]);
	}
	free(cell);
	/* What is left for the user's own pods, the stack placed. */
	int64_t slots = 0, ips = 0;
	bool ip_limited = false;
	for (size_t i = 0; i < p->nn; i++) {
		const struct plan_node *n = &p->node[i];
		if (!counted(n))
			continue;
		const struct stack_pod_needs *need = (int)i == p->chosen ? &p->stack : &p->agent;
		int64_t fp = free_pods(n) - 1, fi = free_ips(n) - (need->host_network ? 0 : 1);
		fp = fp < 0 ? 0 : fp;
		fi = fi < 0 ? 0 : fi;
		slots += fp;
		ips += fi < fp ? fi : fp;
		ip_limited |= fi < fp;
	}
	if (p->want_why)
		fprintf(s->out, "The stack pod goes to %s: %s.\n", p->want_node ? p->want_node : p->want_zone, p->want_why);
	fprintf(s->out, "After the install %lld pod slot%s remain%s for your own pods", (long long)slots,
		slots == 1 ? "" : "s", slots == 1 ? "s" : "");
	if (ip_limited)
		fprintf(s->out, ", %lld of them with a pod-network IP (the others only for hostNetwork pods)",
			(long long)ips);
	fprintf(s->out, ".\n");
	if (slots == 0) /* not a refusal, but a surprise to anyone who meant to run an app there */
		fprintf(s->out, "  Room for them: one coredns replica instead of two frees a slot (aws eks update-addon\n"
				"  --addon-name coredns --configuration-values '{\"replicaCount\":1}'); so do one more node,\n"
				"  a t3.small, or prefix delegation on t3/t4g (k8s-manifests/README.md, \"Sizing\").\n");
	fflush(s->out);
}

/* ---- the refusal ---- */

struct sbuf {
	char *p;
	size_t len, cap;
};
__attribute__((format(printf, 2, 3))) static void say(struct sbuf *b, const char *fmt, ...)
{
	if (b->len + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* The workloads with a pod on node i: "aws-node, kube-proxy, coredns". */
static void pods_on(const struct stack_plan *p, size_t i, struct sbuf *b)
{
	const char *c = "";
	for (size_t j = 0; j < p->np; j++) {
		const struct plan_pod *pp = &p->pod[j];
		if (pp->node != (int)i || pp->ours || pp->gone)
			continue;
		bool seen = false;
		for (size_t k = 0; k < j && !seen; k++)
			seen = p->pod[k].node == (int)i && !p->pod[k].ours && !p->pod[k].gone &&
			       strcmp(p->pod[k].workload, pp->workload) == 0;
		if (!seen) {
			say(b, "%s%s", c, pp->workload);
			c = ", ";
		}
	}
}

/* Why node i cannot take what it would get. */
static void node_why(const struct stack_plan *p, size_t i, struct sbuf *b)
{
	const struct plan_node *n = &p->node[i];
	char fm[32], am[32], m[32];
	fmt_mem(free_mem(n), fm, sizeof fm);
	fmt_mem(n->mem, am, sizeof am);
	say(b, "  %s (%s): ", n->name, n->itype ? n->itype : "unknown type");
	if (!fits(&p->agent, n)) {
		fmt_mem(p->agent.memory, m, sizeof m);
		if (free_pods(n) < 1) {
			say(b, "all %lld pod slots taken (", (long long)n->pods);
			pods_on(p, i, b);
			say(b, ")");
		} else if (!p->agent.host_network && free_ips(n) < 1)
			say(b, "all %lld pod IPs in use", (long long)n->ips);
		else
			say(b, "only %s of %s memory unrequested", fm, am);
		say(b, ": no room for the agent (1 slot, %s)\n", m);
		return;
	}
	if (!stack_may_run(p, n)) {
		say(b, "room for the agent; not a place for the stack pod (%s)\n",
		    n->taint ? "tainted" : p->want_volumes ? "its volumes are elsewhere" : "--storage-node names another");
		return;
	}
	if (fits(&p->stack, n)) {
		say(b, "room for the stack pod and its agent\n");
		return;
	}
	fmt_mem(p->stack.memory, m, sizeof m);
	say(b, "room for the agent, not for the stack pod (1 slot, 1 pod IP, %s): ", m);
	if (free_ips(n) < 1) {
		say(b, "all %lld pod IPs in use (", (long long)n->ips);
		const char *c = "";
		for (size_t j = 0; j < p->np; j++)
			if (p->pod[j].node == (int)i && !p->pod[j].ours && !p->pod[j].gone && !p->pod[j].host_network) {
				say(b, "%s%s", c, p->pod[j].workload);
				c = ", ";
			}
		say(b, ")\n");
	} else
		say(b, "%s of %s memory unrequested\n", fm, am);
}

/* "ebs-csi-node takes 1 of 4 on every node; coredns takes 1 of 4 on a and b". */
static void what_takes(const struct stack_plan *p, struct sbuf *b)
{
	size_t ncounted = 0;
	for (size_t k = 0; k < p->nn; k++)
		ncounted += counted(&p->node[k]);
	for (size_t i = 0; i < p->np; i++) {
		const struct plan_pod *pp = &p->pod[i];
		if (pp->ours)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !p->pod[j].ours && strcmp(p->pod[j].workload, pp->workload) == 0;
		if (seen)
			continue;
		/* Per node: how many of this workload's pods. */
		int64_t *per = calloc(p->nn + 1, sizeof *per), pending = 0;
		if (!per)
			return;
		bool any = false, ip = false;
		for (size_t j = i; j < p->np; j++) {
			const struct plan_pod *q = &p->pod[j];
			if (q->ours || strcmp(q->workload, pp->workload) != 0)
				continue;
			if (q->node < 0)
				pending++;
			else if (counted(&p->node[q->node])) {
				per[q->node]++;
				any = true;
			}
			ip |= !q->host_network;
		}
		if (!any) {
			free(per);
			continue;
		}
		size_t on = 0;
		bool uniform = true;
		int64_t first = -1, first_pods = -1;
		for (size_t k = 0; k < p->nn; k++) {
			if (!counted(&p->node[k]) || !per[k])
				continue;
			on++;
			if (first < 0) {
				first = per[k];
				first_pods = p->node[k].pods;
			} else if (per[k] != first || p->node[k].pods != first_pods)
				uniform = false;
		}
		say(b, "  %s takes ", pp->workload);
		if (uniform && on == ncounted && ncounted > 1)
			say(b, "%lld of %lld on every node", (long long)first, (long long)first_pods);
		else {
			/* "1 of 4 on a and b", or per node when they differ. */
			size_t seen_n = 0;
			if (uniform)
				say(b, "%lld of %lld on ", (long long)first, (long long)first_pods);
			for (size_t k = 0; k < p->nn; k++) {
				if (!counted(&p->node[k]) || !per[k])
					continue;
				seen_n++;
				const char *sep = seen_n == 1 ? "" : seen_n == on && uniform ? " and " : ", ";
				if (uniform)
					say(b, "%s%s", sep, p->node[k].name);
				else
					say(b, "%s%lld of %lld on %s", sep, (long long)per[k], (long long)p->node[k].pods,
					    p->node[k].name);
			}
		}
		say(b, "%s", ip ? " (a pod IP each)" : " (hostNetwork: no IP)");
		if (pending)
			say(b, "; %lld more Pending", (long long)pending);
		say(b, "\n");
		free(per);
	}
}

/* Evaluates a changed cluster: returns whether everything fits, the stack
 * node's name in where. The choice made before is kept; the caller undoes
 * its change and tallies again. */
static bool fits_if(struct stack_plan *p, char *where, size_t wlen)
{
	int chosen = p->chosen;
	bool f = p->fits;
	/* Placing moves pods, never adds or drops one: np holds throughout. */
	size_t np = p->np;
	int *moved = malloc((np + 1) * sizeof *moved);
	for (size_t j = 0; moved && j < np; j++)
		moved[j] = p->pod[j].moved_to;
	tally(p);
	place(p);
	bool r = p->fits;
	if (where)
		snprintf(where, wlen, "%s", r && p->chosen >= 0 ? p->node[p->chosen].name : "");
	p->chosen = chosen;
	p->fits = f;
	for (size_t j = 0; j < np; j++)
		p->pod[j].moved_to = moved ? moved[j] : -1;
	free(moved);
	tally(p);
	return r;
}

/* Nodes that would still lack room for the agent, for an option's effect. */
static void still_short(struct stack_plan *p, const char *stack_node, struct sbuf *b)
{
	tally(p);
	const char *sep = "";
	for (size_t i = 0; i < p->nn; i++) {
		const struct plan_node *n = &p->node[i];
		if (!counted(n) || (stack_node && strcmp(n->name, stack_node) == 0) || fits(&p->agent, n))
			continue;
		say(b, "%s%s", sep, n->name);
		sep = ", ";
	}
}

static void set_gone(struct stack_plan *p, const char *prefix, bool gone)
{
	for (size_t i = 0; i < p->np; i++)
		if (strncmp(p->pod[i].workload, prefix, strlen(prefix)) == 0)
			p->pod[i].gone = gone;
}

/* A node like template with only the DaemonSet pods on it. */
static void add_synthetic(struct stack_plan *p, const struct plan_node *tmpl, const char *name, const char *itype)
{
	struct plan_node *n = &p->node[p->nn++];
	memset(n, 0, sizeof *n);
	n->name = name;
	n->itype = itype;
	n->ready = true;
	n->synthetic = true;
	n->zone = p->want_zone;
	n->os = "linux";
	if (tmpl) {
		n->pods = tmpl->pods;
		n->mem = tmpl->mem;
		n->ips = tmpl->ips;
		n->zone = tmpl->zone && !p->want_zone ? tmpl->zone : p->want_zone;
	} else {
		/* A t3.small: max pods 3 x (4 - 1) + 2 = 11. Allocatable memory
		 * estimated: 2 GiB, less the kernel's share, kube-reserved (255Mi
		 * + 11Mi x 11 pods) and the 100Mi eviction threshold. */
		n->pods = 11;
		n->ips = 9;
		n->mem = 1400LL << 20;
	}
	/* One pod of each DaemonSet. */
	for (size_t i = 0; i < p->np; i++) {
		const struct plan_pod *pp = &p->pod[i];
		if (!pp->daemonset || pp->ours)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->pod[j].daemonset && strcmp(p->pod[j].workload, pp->workload) == 0;
		if (seen)
			continue;
		n->base_pods++;
		n->base_ips += pp->host_network ? 0 : 1;
		n->base_mem += pp->mem;
	}
}

void hg_stack_plan_refusal(struct stack_plan *p, char *err, size_t errlen)
{
	struct sbuf b = {err, 0, errlen};
	char sm[32], am[32];
	fmt_mem(p->stack.memory, sm, sizeof sm);
	fmt_mem(p->agent.memory, am, sizeof am);
	/* Of the most common type, for "add a node"; set by the first counted node. */
	const struct plan_node *most = NULL;
	const char *cluster = NULL, *nodegroup = NULL;
	bool nitro = false, xen = false;
	for (size_t i = 0; i < p->nn; i++) {
		const struct plan_node *n = &p->node[i];
		if (!counted(n))
			continue;
		size_t same = 0, same_most = 0;
		for (size_t k = 0; k < p->nn; k++) {
			same += counted(&p->node[k]) && !name_cmp(p->node[k].itype, n->itype);
			same_most += most && counted(&p->node[k]) && !name_cmp(p->node[k].itype, most->itype);
		}
		if (!most || same > same_most)
			most = n;
		cluster = cluster ? cluster : n->cluster;
		if (n->it && n->it->nitro && !n->ips_from_pods)
			nitro = true;
		if (n->it && !n->it->nitro)
			xen = true;
	}
	if (!most) { /* no counted node */
		say(&b, "the cluster has no ready, schedulable node to run the stack on.");
		return;
	}
	nodegroup = most->nodegroup;
	if (p->want_node) {
		const struct plan_node *w = NULL;
		for (size_t i = 0; i < p->nn && !w; i++)
			if (strcmp(p->node[i].name, p->want_node) == 0)
				w = &p->node[i];
		if (!w && !p->want_volumes) {
			say(&b, "--storage-node %s: the cluster has no such node (`kubectl get nodes` lists them).",
			    p->want_node);
			return;
		}
		if (!w) {
			say(&b, "the stack's volumes are on the disk of node %s, and the cluster has no such node any "
				"more: node-local data is lost with its node. To start again with empty volumes: agentctl "
				"uninstall-stack --delete-data; kubectl delete pv heliograph-%s-influxdb-data "
				"heliograph-%s-grafana-data; then agentctl install-stack.",
			    p->want_node, p->ns, p->ns);
			return;
		}
		if (!counted(w)) {
			say(&b, "%s %s, which is %s: the stack pod can run only there. Uncordon it or wait until it is "
				"Ready, then run install-stack again.",
			    p->want_volumes ? "the stack's volumes are on the disk of node" : "--storage-node names node",
			    w->name, w->ready ? "cordoned" : "NotReady");
			return;
		}
	}
	if (p->want_zone) {
		/* EBS volumes stay in their zone: is there a node to go to there? */
		struct sbuf in_zone = {0};
		char names[1024] = "";
		in_zone.p = names;
		in_zone.cap = sizeof names;
		bool usable = false;
		for (size_t i = 0; i < p->nn; i++) {
			const struct plan_node *n = &p->node[i];
			if (!n->zone || strcmp(n->zone, p->want_zone) != 0)
				continue;
			usable |= counted(n) && !n->taint;
			say(&in_zone, "%s%s (%s)", in_zone.len ? ", " : "", n->name,
			    !n->ready ? "NotReady" : n->cordoned ? "cordoned" : n->taint ? "tainted" : "ready");
		}
		if (!usable) {
			say(&b, "the stack's EBS volumes are in zone %s, and an EBS volume cannot leave its zone, but no "
				"node there can take the stack pod%s%s. Uncordon it or wait until it is Ready, or add a "
				"node in %s, then run install-stack again; or start again with empty volumes: agentctl "
				"uninstall-stack --delete-data.",
			    p->want_zone, names[0] ? ": " : " (the zone has no node)", names, p->want_zone);
			return;
		}
	}
	say(&b, "the stack does not fit on this cluster. It needs, on one node, 1 pod slot, %s and %s of memory "
		"requests for the stack pod (%s), and on every other node 1 pod slot, %s and %s for the agent.\n",
	    p->stack.host_network ? "no pod IP" : "1 pod-network IP", sm, p->stack.containers,
	    p->agent.host_network ? "no pod IP (hostNetwork)" : "1 pod-network IP", am);
	say(&b, "Per node:\n");
	for (size_t i = 0; i < p->nn; i++)
		if (counted(&p->node[i]))
			node_why(p, i, &b);
	say(&b, "What takes them:\n");
	what_takes(p, &b);
	if (!cluster)
		cluster = "CLUSTER";
	say(&b, "Options:\n");
	char where[256];
	int opt = 1;

	/* 1. The EBS CSI add-on's pods make way for node-local volumes. */
	bool ebs = false;
	for (size_t i = 0; i < p->np; i++)
		ebs |= strncmp(p->pod[i].workload, "ebs-csi-", 8) == 0 && p->pod[i].node >= 0;
	bool ebs_fits = false;
	if (ebs) {
		const char *wz = p->want_zone;
		p->want_zone = NULL; /* node storage: no zone to follow */
		set_gone(p, "ebs-csi-", true);
		ebs_fits = fits_if(p, where, sizeof where);
		say(&b, "  %d. Drop the EBS CSI add-on and keep the data on the stack node's own disk (--storage node): "
			"frees ebs-csi-node's slot and pod IP on every node and ebs-csi-controller's; ",
		    opt++);
		if (ebs_fits)
			say(&b, "then the stack fits (the stack pod on %s).\n", where);
		else {
			say(&b, "the stack still does not fit (no room for the agent on: ");
			still_short(p, NULL, &b);
			say(&b, ").\n");
		}
		set_gone(p, "ebs-csi-", false);
		p->want_zone = wz;
		tally(p);
		say(&b, "       aws eks delete-addon --cluster-name %s --addon-name aws-ebs-csi-driver\n"
			"       agentctl install-stack --storage node\n",
		    cluster);
	}

	/* 2. One coredns replica instead of two. */
	int ndns = 0;
	for (size_t i = 0; i < p->np; i++)
		ndns += strcmp(p->pod[i].workload, "coredns") == 0 && p->pod[i].node >= 0;
	if (ndns >= 2) {
		char fit_if[512] = "";
		size_t fl = 0;
		int nfit = 0, ntry = 0;
		for (size_t i = 0; i < p->np; i++) {
			if (strcmp(p->pod[i].workload, "coredns") != 0 || p->pod[i].node < 0)
				continue;
			ntry++;
			p->pod[i].gone = true;
			if (fits_if(p, where, sizeof where)) {
				nfit++;
				if (fl < sizeof fit_if)
					fl += (size_t)snprintf(fit_if + fl, sizeof fit_if - fl, "%s%s", fl ? " or " : "",
							       p->node[p->pod[i].node].name);
			}
			p->pod[i].gone = false;
		}
		tally(p);
		say(&b, "  %d. Run 1 coredns replica instead of %d (the add-on's replicaCount): frees 1 slot and 1 pod IP "
			"on the node whose replica goes; ",
		    opt++, ndns);
		if (nfit == ntry)
			say(&b, "then the stack fits.");
		else if (nfit)
			say(&b, "then the stack fits if the replica on %s goes (the ReplicaSet chooses).", fit_if);
		else
			say(&b, "not enough alone.");
		if (ebs && !ebs_fits) {
			set_gone(p, "ebs-csi-", true);
			const char *wz = p->want_zone;
			p->want_zone = NULL;
			bool both = false;
			for (size_t i = 0; i < p->np && !both; i++) {
				if (strcmp(p->pod[i].workload, "coredns") != 0 || p->pod[i].node < 0)
					continue;
				p->pod[i].gone = true;
				both = fits_if(p, where, sizeof where);
				p->pod[i].gone = false;
			}
			p->want_zone = wz;
			set_gone(p, "ebs-csi-", false);
			tally(p);
			say(&b, both ? " Together with option 1 the stack fits." : " Not even together with option 1.");
		}
		say(&b, " DNS then has no second replica while one restarts.\n"
			"       aws eks update-addon --cluster-name %s --addon-name coredns --configuration-values "
			"'{\"replicaCount\":1}'\n",
		    cluster);
	}

	/* 3. A replica (not a DaemonSet's pod) the agent cannot preempt (its
	 * priority is not lower) moved off a node that has no room for the
	 * agent, to a node with room for it: cordoning keeps its replacement
	 * from coming back. */
	int moves = 0;
	for (size_t i = 0; i < p->np && moves < 3; i++) {
		struct plan_pod *pp = &p->pod[i];
		/* A pod of lower priority than the agent is moved by preemption
		 * already where that helps; a bare pod would not come back. */
		if (pp->node < 0 || pp->ours || pp->daemonset || !pp->name || !pp->recreated ||
		    pp->priority < p->agent.priority || fits(&p->agent, &p->node[pp->node]))
			continue;
		bool ok = false;
		size_t y = 0;
		pp->gone = true;
		for (y = 0; y < p->nn && !ok; y++) {
			struct plan_node *n = &p->node[y];
			if ((int)y == pp->node || !counted(n) || n->taint)
				continue;
			n->base_pods++;
			n->base_ips += pp->host_network ? 0 : 1;
			n->base_mem += pp->mem;
			ok = fits_if(p, where, sizeof where);
			n->base_pods--;
			n->base_ips -= pp->host_network ? 0 : 1;
			n->base_mem -= pp->mem;
		}
		pp->gone = false;
		tally(p);
		if (!ok)
			continue;
		const char *x = p->node[pp->node].name;
		say(&b, "  %d. Move %s off %s (a new one fits on %s): then the stack fits (the stack pod on %s). "
			"Cordon the node while the replica is replaced, so the new one starts elsewhere:\n"
			"       kubectl cordon %s\n"
			"       kubectl -n %s delete pod %s\n"
			"       kubectl uncordon %s    (once the new %s pod runs)\n",
		    opt++, pp->name, x, p->node[y - 1].name, where, x, pp->ns ? pp->ns : "default", pp->name, x,
		    pp->workload);
		moves++;
	}

	/* 4. Prefix delegation: Nitro types only. */
	say(&b, "  %d. VPC CNI prefix delegation gives each node as many pod IPs as pods and allows more pods than "
		"the ENIs do; it needs Nitro instance types (t3, t3a, t4g: yes; t2: no) and takes effect on nodes "
		"created after it, with max pods raised in the node group (the EKS max-pods-calculator.sh "
		"--cni-prefix-delegation-enabled gives the value).",
	    opt++);
	if (xen && !nitro)
		say(&b, " Not for these nodes: t2 is not a Nitro type; new t3 or t4g nodes would be needed.");
	say(&b, "\n       kubectl set env daemonset aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true\n"
		"       (then replace the nodes: a new node group)\n");

	/* 5. A t3.small for the stack pod. */
	char name_small[] = "a new t3.small";
	add_synthetic(p, NULL, name_small, "t3.small");
	const char *wn = p->want_node;
	bool small = false;
	if (!wn) {
		/* The stack pod goes where it fits best: the new node, unless another fits better. */
		small = fits_if(p, where, sizeof where);
	}
	say(&b, "  %d. A t3.small node for the stack pod (11 pods, 9 pod IPs, about 1.4Gi allocatable)%s: ", opt++,
	    p->want_zone ? " in the volumes' zone" : "");
	if (wn)
		say(&b, "no help while the volumes are on %s.\n", wn);
	else if (small)
		say(&b, "then the stack fits (the stack pod on %s).\n", where);
	else {
		say(&b, "the stack pod fits there, but these nodes still have no room for the agent: ");
		still_short(p, name_small, &b);
		say(&b, ".\n");
	}
	p->nn--;
	tally(p);
	say(&b, "       eksctl create nodegroup --cluster %s --name heliograph-stack --node-type t3.small --nodes 1\n",
	    cluster);

	/* 6. One more node like the others. */
	if (most) {
		char name_more[160];
		snprintf(name_more, sizeof name_more, "a new %s", most->itype ? most->itype : "node");
		add_synthetic(p, most, name_more, most->itype);
		bool more = !wn && fits_if(p, where, sizeof where);
		say(&b, "  %d. Add a node (%s, with the DaemonSets' pods): ", opt++, most->itype ? most->itype : "like the others");
		if (wn)
			say(&b, "no help while the volumes are on %s.\n", wn);
		else if (more)
			say(&b, "then the stack fits (the stack pod on %s).\n", where);
		else {
			say(&b, "it could take the stack pod, but these nodes would still have no room for the agent: ");
			still_short(p, name_more, &b);
			say(&b, ".\n");
		}
		p->nn--;
		tally(p);
		/* The node group's size counts its NotReady and cordoned nodes too. */
		size_t in_group = 0;
		for (size_t i = 0; i < p->nn; i++)
			in_group += !nodegroup || (p->node[i].nodegroup && strcmp(p->node[i].nodegroup, nodegroup) == 0);
		say(&b, "       eksctl scale nodegroup --cluster %s --name %s --nodes %zu\n", cluster,
		    nodegroup ? nodegroup : "NODEGROUP", in_group + 1);
	}
	say(&b, "--force installs anyway; pods that do not fit stay Pending.");
}

/* ---- labelling the stack node ---- */

int hg_stack_node_unlabel(struct stack *s, const char *name, char *err, size_t errlen)
{
	char path[512], what[300];
	int rc = hg_kube_resource_path(s->client, "v1", "Node", NULL, name, path, sizeof path, NULL, err, errlen);
	if (rc != 0)
		return rc;
	snprintf(path + strlen(path), sizeof path - strlen(path), "?fieldManager=agentctl");
	snprintf(what, sizeof what, "remove label %s from Node %s", STACK_NODE_LABEL, name);
	/* A merge patch removes it whoever set it (kubectl label by hand too). */
	static const char body[] = "{\"metadata\":{\"labels\":{\"" STACK_NODE_LABEL "\":null}}}";
	struct kube_request rq = {.method = "PATCH", .path = path, .what = what,
				  .content_type = "application/merge-patch+json", .body = body, .body_len = sizeof body - 1};
	return hg_kube_call(s->client, &rq, NULL, err, errlen);
}

int hg_stack_plan_label(struct stack *s, const struct stack_plan *p, int *changed, char *err, size_t errlen)
{
	char lbl[300];
	for (size_t i = 0; i < p->nn; i++) {
		const struct plan_node *n = &p->node[i];
		if ((int)i == p->chosen || !n->labelled)
			continue;
		snprintf(lbl, sizeof lbl, "node/%s", n->name);
		int rc = s->dry_run ? 0 : hg_stack_node_unlabel(s, n->name, err, errlen);
		if (rc == KUBE_ENOTFOUND)
			rc = 0; /* gone meanwhile: nothing to remove */
		if (rc != 0)
			return rc;
		hg_stack_line(s, lbl, "label " STACK_NODE_LABEL " removed");
		(*changed)++;
	}
	if (p->chosen < 0)
		return 0;
	const struct plan_node *n = &p->node[p->chosen];
	snprintf(lbl, sizeof lbl, "node/%s", n->name);
	bool ch = !n->label_true;
	if (!s->dry_run) {
		char doc[512];
		int len = snprintf(doc, sizeof doc,
				   "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"%s\":"
				   "\"true\"}}}",
				   n->name, STACK_NODE_LABEL);
		struct kube_apply_opts o = {.field_manager = "agentctl", .force = true};
		int rc = hg_kube_apply(s->client, doc, (size_t)len, &o, NULL, &ch, err, errlen);
		if (rc != 0)
			return rc;
	}
	hg_stack_line(s, lbl, ch ? "labelled " STACK_NODE_LABEL "=true" : "unchanged");
	*changed += ch;
	return 0;
}

void hg_stack_plan_free(struct stack_plan *p)
{
	free(p->node);
	free(p->pod);
	yajl_tree_free(p->nodes_v);
	yajl_tree_free(p->pods_v);
	memset(p, 0, sizeof *p);
	p->chosen = -1;
}
