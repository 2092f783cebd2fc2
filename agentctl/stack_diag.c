/* Diagnosis of a stuck rollout (see stack_diag.h). The states and messages
 * read here are the ones Kubernetes and EKS write:
 * - the scheduler: PodScheduled condition False, reason Unschedulable, and a
 *   FailedScheduling event, message "0/2 nodes are available: 1 Too many
 *   pods, 1 node(s) didn't match Pod's node affinity/selector. preemption:
 *   ..." (reasons "Too many pods", "Insufficient memory", "node(s) had
 *   volume node affinity conflict", "node(s) had untolerated taint {...}");
 * - the persistentvolume controller on a PVC: FailedBinding "no persistent
 *   volumes available for this claim and no storage class is set",
 *   ExternalProvisioning "Waiting for a volume to be created either by the
 *   external provisioner 'ebs.csi.aws.com' or manually ...", and the CSI
 *   provisioner's ProvisioningFailed "... could not create volume in EC2:
 *   UnauthorizedOperation: You are not authorized to perform this
 *   operation" (aws-ebs-csi-driver issues 963, 1449);
 * - the kubelet: containerStatuses[].state.waiting.reason ErrImagePull /
 *   ImagePullBackOff (message "Back-off pulling image \"IMG\"", containerd's
 *   "failed to pull and unpack image ... pull access denied, repository
 *   does not exist or may require authorization" for a Docker Hub name
 *   nobody publishes), CrashLoopBackOff ("back-off 5m0s restarting failed
 *   container=C pod=P_NS(UID)") with lastState.terminated {exitCode,
 *   reason "Error" | "OOMKilled"}, and the event FailedCreatePodSandBox
 *   "... plugin type=\"aws-cni\" ... add cmd: failed to assign an IP address
 *   to container" when the VPC CNI has no IP left on the node. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "pod_requests.h"
#include "quantity.h"
#include "stack.h"
#include "stack_diag.h"

#define STACK_LABEL "heliograph.io/stack"

/* ---- the list of sentences ---- */

static bool has_key(const struct stack_diags *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].key, key) == 0)
			return true;
	return false;
}

__attribute__((format(printf, 3, 4))) static size_t add(struct stack_diags *d, const char *key, const char *fmt, ...)
{
	if (!d || has_key(d, key))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct stack_diag *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return 0;
		d->v = v;
		d->cap = cap;
	}
	struct stack_diag *e = &d->v[d->n++];
	snprintf(e->key, sizeof e->key, "%s", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
	e->text[0] = (char)toupper((unsigned char)e->text[0]); /* "the stack pod ..." starts a sentence */
	return 1;
}

void hg_stack_diags_clear(struct stack_diags *d)
{
	d->n = 0;
}

void hg_stack_diags_free(struct stack_diags *d)
{
	free(d->v);
	*d = (struct stack_diags){0};
}

/* Appends to a bounded buffer, keeping it terminated. */
__attribute__((format(printf, 3, 4))) static void cat(char *b, size_t len, const char *fmt, ...)
{
	size_t n = strlen(b);
	if (n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, len - n, fmt, ap);
	va_end(ap);
}

/* ---- reading objects ---- */

static const char *str_or(const char *s, const char *def)
{
	return s ? s : def;
}

static yajl_val items(yajl_val list)
{
	return hg_jq_at(list, "items", JQ_END);
}

static const char *name_of(yajl_val o)
{
	return hg_jq_str(o, "metadata", "name", JQ_END);
}

static yajl_val by_name(yajl_val list, const char *name)
{
	yajl_val it = items(list);
	for (size_t i = 0; name && i < hg_jq_len(it); i++)
		if (str_or(name_of(hg_jq_item(it, i)), "")[0] && strcmp(name_of(hg_jq_item(it, i)), name) == 0)
			return hg_jq_item(it, i);
	return NULL;
}

static bool str_is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The condition of type t in status.conditions, or NULL. */
static yajl_val condition(yajl_val o, const char *t)
{
	yajl_val c = hg_jq_at(o, "status", "conditions", JQ_END);
	for (size_t i = 0; i < hg_jq_len(c); i++)
		if (str_is(hg_jq_str(hg_jq_item(c, i), "type", JQ_END), t))
			return hg_jq_item(c, i);
	return NULL;
}

static bool node_ready(yajl_val node)
{
	if (!hg_jq_at(node, "status", "conditions", JQ_END))
		return true; /* nothing reported says it is not */
	return str_is(hg_jq_str(condition(node, "Ready"), "status", JQ_END), "True");
}

static bool node_cordoned(yajl_val node)
{
	return YAJL_IS_TRUE(hg_jq_at(node, "spec", "unschedulable", JQ_END));
}

static bool pod_ready(yajl_val pod)
{
	return str_is(hg_jq_str(condition(pod, "Ready"), "status", JQ_END), "True");
}

static bool pod_host_network(yajl_val pod)
{
	return YAJL_IS_TRUE(hg_jq_at(pod, "spec", "hostNetwork", JQ_END));
}

static const char *owner_kind(yajl_val pod)
{
	return hg_jq_str(hg_jq_item(hg_jq_at(pod, "metadata", "ownerReferences", JQ_END), 0), "kind", JQ_END);
}

static bool is_agent_pod(yajl_val pod)
{
	return str_is(owner_kind(pod), "DaemonSet");
}

/* The node a pod runs on, or for an unscheduled DaemonSet pod the node it
 * is made for (the controller pins it with a matchFields metadata.name term). */
static const char *pod_node(yajl_val pod)
{
	const char *n = hg_jq_str(pod, "spec", "nodeName", JQ_END);
	if (n && *n)
		return n;
	yajl_val terms = hg_jq_at(pod, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
			       "nodeSelectorTerms", JQ_END);
	for (size_t i = 0; i < hg_jq_len(terms); i++) {
		yajl_val mf = hg_jq_at(hg_jq_item(terms, i), "matchFields", JQ_END);
		for (size_t k = 0; k < hg_jq_len(mf); k++)
			if (str_is(hg_jq_str(hg_jq_item(mf, k), "key", JQ_END), "metadata.name"))
				return hg_jq_str(hg_jq_item(hg_jq_at(hg_jq_item(mf, k), "values", JQ_END), 0), JQ_END);
	}
	return NULL;
}

static bool labels_match(yajl_val node, yajl_val selector)
{
	if (!YAJL_IS_OBJECT(selector))
		return true;
	for (size_t i = 0; i < YAJL_GET_OBJECT(selector)->len; i++) {
		const char *k = YAJL_GET_OBJECT(selector)->keys[i];
		yajl_val want = YAJL_GET_OBJECT(selector)->values[i];
		if (!YAJL_IS_STRING(want) || !str_is(hg_jq_str(node, "metadata", "labels", k, JQ_END), YAJL_GET_STRING(want)))
			return false;
	}
	return true;
}

/* Nodes the pod may go to by its nodeSelector (and, for a DaemonSet pod,
 * its own node), ready and not cordoned: the ones worth naming. */
static bool candidate(yajl_val pod, yajl_val node)
{
	const char *mine = is_agent_pod(pod) ? pod_node(pod) : NULL;
	if (mine && !str_is(mine, name_of(node)))
		return false;
	return node_ready(node) && !node_cordoned(node) && labels_match(node, hg_jq_at(pod, "spec", "nodeSelector", JQ_END));
}

static bool wants_stack_node(yajl_val pod)
{
	return hg_jq_str(pod, "spec", "nodeSelector", STACK_LABEL, JQ_END) != NULL;
}

/* The node labelled heliograph.io/stack=true (the first), or NULL. */
static yajl_val stack_node(const struct stack_diag_in *in)
{
	yajl_val it = items(in->nodes);
	for (size_t i = 0; i < hg_jq_len(it); i++)
		if (str_is(hg_jq_str(hg_jq_item(it, i), "metadata", "labels", STACK_LABEL, JQ_END), "true"))
			return hg_jq_item(it, i);
	return NULL;
}

/* Pods on a node (every namespace) and their names, at most 12 named;
 * pod_network_only: those holding a pod-network IP. */
static int pods_on(const struct stack_diag_in *in, const char *node, bool pod_network_only, int64_t *mem, char *names,
		   size_t len)
{
	int n = 0;
	if (names && len)
		names[0] = '\0';
	if (mem)
		*mem = 0;
	yajl_val it = items(in->all_pods);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val p = hg_jq_item(it, i);
		if (!str_is(hg_jq_str(p, "spec", "nodeName", JQ_END), node) || (pod_network_only && pod_host_network(p)))
			continue;
		/* A Pending pod without an IP holds none: it may be the one waiting for it. */
		if (pod_network_only && str_is(hg_jq_str(p, "status", "phase", JQ_END), "Pending") &&
		    !hg_jq_str(p, "status", "podIP", JQ_END))
			continue;
		if (names && n < 12) /* a t3.small's 11 */
			cat(names, len, "%s%s", n ? ", " : "", str_or(name_of(p), "?"));
		else if (names && n == 12)
			cat(names, len, ", ...");
		if (mem)
			*mem += hg_pod_memory_request(p);
		n++;
	}
	return n;
}

/* The pods with the largest memory requests on a node, at most three,
 * largest first: "hog 774Mi, ebs-csi-controller-x 192Mi" - the ones whose
 * removal would make room. */
static void largest_requests(const struct stack_diag_in *in, const char *node, char *out, size_t len)
{
	yajl_val top[3] = {0};
	int64_t mem[3] = {0};
	yajl_val it = items(in->all_pods);
	out[0] = '\0';
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val p = hg_jq_item(it, i);
		int64_t m = hg_pod_memory_request(p);
		if (!str_is(hg_jq_str(p, "spec", "nodeName", JQ_END), node) || m <= 0)
			continue;
		for (size_t k = 0; k < 3; k++)
			if (m > mem[k]) {
				for (size_t j = 2; j > k; j--) {
					top[j] = top[j - 1];
					mem[j] = mem[j - 1];
				}
				top[k] = p;
				mem[k] = m;
				break;
			}
	}
	for (size_t k = 0; k < 3 && top[k]; k++) {
		char q[32];
		hg_quantity_format(mem[k], q, sizeof q);
		cat(out, len, "%s%s %s", k ? ", " : "", str_or(name_of(top[k]), "?"), q);
	}
}

/* Time of an event: lastTimestamp, else the series' or eventTime (events
 * written through events.k8s.io/v1, as the scheduler does, have no
 * lastTimestamp). RFC 3339 in UTC, so the strings compare as times. */
static const char *event_time(yajl_val e)
{
	const char *t = hg_jq_str(e, "lastTimestamp", JQ_END);
	if (!t)
		t = hg_jq_str(e, "series", "lastObservedTime", JQ_END);
	if (!t)
		t = hg_jq_str(e, "eventTime", JQ_END);
	if (!t)
		t = hg_jq_str(e, "firstTimestamp", JQ_END);
	return str_or(t, "");
}

static bool event_about(yajl_val e, const char *kind, yajl_val obj)
{
	const char *uid = hg_jq_str(obj, "metadata", "uid", JQ_END), *euid = hg_jq_str(e, "involvedObject", "uid", JQ_END);
	if (uid && euid && strcmp(uid, euid) != 0)
		return false; /* an earlier object of that name */
	return str_is(hg_jq_str(e, "involvedObject", "kind", JQ_END), kind) &&
	       str_is(hg_jq_str(e, "involvedObject", "name", JQ_END), name_of(obj));
}

/* The latest event about obj with one of the reasons (NULL-terminated;
 * NULL: any reason) and, unless NULL, a message containing `contains`.
 * Later in the list wins a tie. */
static yajl_val latest_event_with(const struct stack_diag_in *in, const char *kind, yajl_val obj,
				  const char *const *reasons, const char *contains)
{
	yajl_val best = NULL, it = items(in->events);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val e = hg_jq_item(it, i);
		if (!event_about(e, kind, obj))
			continue;
		bool ok = !reasons;
		for (const char *const *r = reasons; r && *r && !ok; r++)
			ok = str_is(hg_jq_str(e, "reason", JQ_END), *r);
		if (ok && contains && !strstr(str_or(hg_jq_str(e, "message", JQ_END), ""), contains))
			ok = false;
		if (ok && (!best || strcmp(event_time(e), event_time(best)) >= 0))
			best = e;
	}
	return best;
}

static yajl_val latest_event(const struct stack_diag_in *in, const char *kind, yajl_val obj, const char *const *reasons)
{
	return latest_event_with(in, kind, obj, reasons, NULL);
}

static const char *msg_of(yajl_val e)
{
	return str_or(hg_jq_str(e, "message", JQ_END), "");
}

/* "the stack pod heliograph-stack-5d9c (InfluxDB and Grafana)" or "the agent
 * pod heliograph-agent-x2f for node N". */
static void pod_label(yajl_val pod, char *out, size_t len)
{
	const char *node = pod_node(pod);
	if (is_agent_pod(pod))
		snprintf(out, len, "the agent pod %s%s%s", str_or(name_of(pod), "?"), node ? " for node " : "",
			 node ? node : "");
	else
		snprintf(out, len, "the stack pod %s", str_or(name_of(pod), "?"));
}

/* kubectl's name of the pod's workload, for commands. */
static const char *workload_of(yajl_val pod)
{
	return is_agent_pod(pod) ? "daemonset/" STACK_DAEMONSET : "deployment/" STACK_DEPLOYMENT;
}

static const char *cluster_arg(const struct stack_diag_in *in)
{
	return in->cluster && *in->cluster ? in->cluster : "CLUSTER";
}

/* ---- scheduling ---- */

#define COREDNS_ONE "`aws eks update-addon --cluster-name %s --addon-name coredns --configuration-values '{\"replicaCount\":1}'`"

static size_t sched_too_many_pods(const struct stack_diag_in *in, yajl_val pod, const char *what, const char *msg,
				  struct stack_diags *out)
{
	char full[1200] = "", names[600], key[240];
	int nfull = 0;
	yajl_val it = items(in->nodes);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val n = hg_jq_item(it, i);
		int64_t slots = 110; /* the kubelet's default */
		if (!candidate(pod, n))
			continue;
		hg_quantity_parse(hg_jq_str(n, "status", "allocatable", "pods", JQ_END), &slots);
		int used = pods_on(in, name_of(n), false, NULL, names, sizeof names);
		if (used < slots)
			continue;
		cat(full, sizeof full, "%snode %s has %d of %lld taken: %s", nfull ? "; " : "", str_or(name_of(n), "?"),
		    used, (long long)slots, names);
		nfull++;
	}
	snprintf(key, sizeof key, "sched-pods:%s", str_or(name_of(pod), "?"));
	if (!nfull)
		snprintf(full, sizeof full, "the scheduler says \"%s\"", msg);
	return add(out, key,
		   "%s cannot be scheduled: no node it may run on has a free pod slot (%s). The placement plan counted a "
		   "free slot before installing (unless --force went past it), so a pod started since has taken it: free "
		   "one by deleting a pod you do not need there, or run coredns with one replica (" COREDNS_ONE
		   "), or add a node; the pod is then scheduled by itself.",
		   what, full, cluster_arg(in));
}

static size_t sched_memory(const struct stack_diag_in *in, yajl_val pod, const char *what, const char *msg,
			   struct stack_diags *out)
{
	char nodes[1200] = "", key[240], need[32], fr[32], al[32], big[400];
	int nn = 0;
	int64_t want = hg_pod_memory_request(pod);
	yajl_val it = items(in->nodes);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val n = hg_jq_item(it, i);
		int64_t alloc, used;
		if (!candidate(pod, n) ||
		    hg_quantity_parse(hg_jq_str(n, "status", "allocatable", "memory", JQ_END), &alloc) != 0)
			continue;
		pods_on(in, name_of(n), false, &used, NULL, 0);
		hg_quantity_format(alloc > used ? alloc - used : 0, fr, sizeof fr);
		hg_quantity_format(alloc, al, sizeof al);
		largest_requests(in, name_of(n), big, sizeof big);
		cat(nodes, sizeof nodes, "%snode %s has %s of its %s allocatable unrequested%s%s", nn++ ? "; " : "",
		    str_or(name_of(n), "?"), fr, al, *big ? ", the largest requests there: " : "", big);
	}
	hg_quantity_format(want, need, sizeof need);
	if (!nn)
		snprintf(nodes, sizeof nodes, "the scheduler says \"%s\"", msg);
	snprintf(key, sizeof key, "sched-mem:%s", str_or(name_of(pod), "?"));
	return add(out, key,
		   "%s cannot be scheduled: it asks for %s of memory requests and no node it may run on has that much "
		   "unrequested (%s). Make room by removing a pod you do not need from that node, run coredns with one "
		   "replica (" COREDNS_ONE "), use a larger instance type for %s (a t3.small has twice a "
		   "t3.micro's memory)%s.",
		   what, need, nodes, cluster_arg(in), is_agent_pod(pod) ? "that node" : "the stack node",
		   is_agent_pod(pod) ? "" : ", or add a node");
}

/* The stack pod's nodeSelector heliograph.io/stack=true matches no usable node. */
static void pv_place(yajl_val pv, const char **node, const char **zone);
static const char *node_zone(yajl_val node);

/* Where the pod's volumes must be used: the node or zone of the first one
 * that is placed (both NULL: not placed, or not known yet). */
static void pod_volumes_place(const struct stack_diag_in *in, yajl_val pod, const char **node, const char **zone)
{
	*node = *zone = NULL;
	yajl_val v = hg_jq_at(pod, "spec", "volumes", JQ_END);
	for (size_t i = 0; i < hg_jq_len(v) && !*node && !*zone; i++) {
		const char *claim = hg_jq_str(hg_jq_item(v, i), "persistentVolumeClaim", "claimName", JQ_END);
		yajl_val pv = by_name(in->pvs, hg_jq_str(by_name(in->pvcs, claim), "spec", "volumeName", JQ_END));
		if (pv)
			pv_place(pv, node, zone);
	}
}

static size_t sched_selector(const struct stack_diag_in *in, yajl_val pod, const char *what, struct stack_diags *out)
{
	char key[240];
	snprintf(key, sizeof key, "sched-label:%s", str_or(name_of(pod), "?"));
	yajl_val sn = stack_node(in);
	if (sn && node_ready(sn) && !node_cordoned(sn))
		return 0; /* the labelled node is fine: another reason keeps the pod off it */
	if (sn) {
		const char *n = str_or(name_of(sn), "?");
		return add(out, key,
			   "%s cannot be scheduled: it runs only on the node labelled " STACK_LABEL "=true, and that node, "
			   "%s, is %s. %s%s%s, or move the label to another node (`kubectl label node %s " STACK_LABEL
			   "-` and `kubectl label node OTHER " STACK_LABEL "=true`; re-running install-stack does this).",
			   what, n, node_ready(sn) ? "cordoned" : "NotReady",
			   node_ready(sn) ? "Uncordon it (`kubectl uncordon " : "Bring it back (its kubelet or EC2 instance)",
			   node_ready(sn) ? n : "", node_ready(sn) ? "`)" : "", n);
	}
	/* No label: a node where the pod's volumes can be used, if they are placed. */
	const char *vnode, *vzone, *pick = NULL, *cordoned = NULL;
	pod_volumes_place(in, pod, &vnode, &vzone);
	yajl_val it = items(in->nodes);
	for (size_t i = 0; i < hg_jq_len(it) && !pick; i++) {
		yajl_val n = hg_jq_item(it, i);
		if (!node_ready(n) || !name_of(n) || (vnode && !str_is(name_of(n), vnode)) ||
		    (!vnode && vzone && !str_is(node_zone(n), vzone)))
			continue;
		if (node_cordoned(n))
			cordoned = cordoned ? cordoned : name_of(n);
		else
			pick = name_of(n);
	}
	char where[300] = "";
	if (vnode)
		snprintf(where, sizeof where, "Its volumes are on node %s's own disk", vnode);
	else if (vzone)
		snprintf(where, sizeof where, "Its EBS volumes are in zone %s", vzone);
	if (*where && !pick && cordoned)
		return add(out, key,
			   "%s cannot be scheduled: it runs only on the node labelled " STACK_LABEL "=true, and no node has "
			   "that label. %s, where the only ready node, %s, is cordoned: uncordon it (`kubectl uncordon %s`) "
			   "and re-run install-stack, which labels it.",
			   what, where, cordoned, cordoned);
	if (*where && !pick && vnode)
		return add(out, key,
			   "%s cannot be scheduled: it runs only on the node labelled " STACK_LABEL "=true, and no node has "
			   "that label. %s, where no ready node is: bring that node back, or to start over with empty "
			   "volumes delete the claims and their node volumes (`kubectl -n %s delete pvc influxdb-data "
			   "grafana-data` and `kubectl delete pv heliograph-%s-influxdb-data heliograph-%s-grafana-data`) and "
			   "re-run install-stack.",
			   what, where, in->ns, in->ns, in->ns);
	if (*where && !pick)
		return add(out, key,
			   "%s cannot be scheduled: it runs only on the node labelled " STACK_LABEL "=true, and no node has "
			   "that label. %s, where no ready node is: add a node in that zone, or to start over with empty "
			   "volumes delete the claims (`kubectl -n %s delete pvc influxdb-data grafana-data`) and re-run "
			   "install-stack.",
			   what, where, in->ns);
	return add(out, key,
		   "%s cannot be scheduled: it runs only on the node labelled " STACK_LABEL "=true, and no node has that "
		   "label.%s%s%s Re-run install-stack, which labels the node its placement plan chose, or label one "
		   "yourself: `kubectl label node %s " STACK_LABEL "=true`.",
		   what, *where ? " " : "", where, *where ? "." : "", pick ? pick : "NODE");
}

static bool zone_key(const char *k)
{
	return str_is(k, "topology.kubernetes.io/zone") || str_is(k, "topology.ebs.csi.aws.com/zone") ||
	       str_is(k, "failure-domain.beta.kubernetes.io/zone");
}

/* Where a PV must be used: *node (kubernetes.io/hostname) or *zone. */
static void pv_place(yajl_val pv, const char **node, const char **zone)
{
	*node = *zone = NULL;
	yajl_val terms = hg_jq_at(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms", JQ_END);
	for (size_t i = 0; i < hg_jq_len(terms); i++) {
		yajl_val ex = hg_jq_at(hg_jq_item(terms, i), "matchExpressions", JQ_END);
		for (size_t k = 0; k < hg_jq_len(ex); k++) {
			const char *key = hg_jq_str(hg_jq_item(ex, k), "key", JQ_END);
			const char *v = hg_jq_str(hg_jq_item(hg_jq_at(hg_jq_item(ex, k), "values", JQ_END), 0), JQ_END);
			if (str_is(key, "kubernetes.io/hostname"))
				*node = v;
			else if (zone_key(key))
				*zone = v;
		}
	}
}

static const char *node_zone(yajl_val node)
{
	return hg_jq_str(node, "metadata", "labels", "topology.kubernetes.io/zone", JQ_END);
}

/* The pod's volumes that are on node `node` (or, node NULL, in zone
 * `zone`): "volume A (claim a)" / "volumes A (claim a) and B (claim b)",
 * the claims "a b" and the volumes "A B" for kubectl. Returns how many. */
static size_t volumes_at(const struct stack_diag_in *in, yajl_val pod, const char *node, const char *zone,
			 char *vols, size_t vlen, char *claims, size_t clen, char *pvs, size_t plen)
{
	size_t n = 0, total = 0;
	yajl_val v = hg_jq_at(pod, "spec", "volumes", JQ_END);
	const char *names[8][2];
	for (size_t i = 0; i < hg_jq_len(v) && total < 8; i++) {
		const char *claim = hg_jq_str(hg_jq_item(v, i), "persistentVolumeClaim", "claimName", JQ_END);
		const char *pvname = hg_jq_str(by_name(in->pvcs, claim), "spec", "volumeName", JQ_END);
		yajl_val pv = by_name(in->pvs, pvname);
		const char *pn, *pz;
		if (!pv)
			continue;
		pv_place(pv, &pn, &pz);
		if (node ? !str_is(pn, node) : (pn || !str_is(pz, zone)))
			continue;
		names[total][0] = pvname;
		names[total++][1] = claim;
	}
	vols[0] = claims[0] = pvs[0] = '\0';
	cat(vols, vlen, "volume%s ", total > 1 ? "s" : "");
	for (n = 0; n < total; n++) {
		cat(vols, vlen, "%s%s (claim %s)", n == 0 ? "" : n + 1 == total ? " and " : ", ", names[n][0], names[n][1]);
		cat(claims, clen, "%s%s", n ? " " : "", names[n][1]);
		cat(pvs, plen, "%s%s", n ? " " : "", names[n][0]);
	}
	return total;
}

static size_t sched_volume_conflict(const struct stack_diag_in *in, yajl_val pod, const char *what,
				    struct stack_diags *out)
{
	char key[300], vols[700], claims[300], pvs[400];
	size_t added = 0;
	yajl_val sn = stack_node(in);
	const char *sname = sn ? name_of(sn) : NULL;
	yajl_val vl = hg_jq_at(pod, "spec", "volumes", JQ_END);
	for (size_t i = 0; i < hg_jq_len(vl); i++) {
		const char *claim = hg_jq_str(hg_jq_item(vl, i), "persistentVolumeClaim", "claimName", JQ_END);
		yajl_val pvc = by_name(in->pvcs, claim);
		const char *pvname = hg_jq_str(pvc, "spec", "volumeName", JQ_END);
		yajl_val pv = by_name(in->pvs, pvname);
		const char *node, *zone;
		if (!pv)
			continue;
		pv_place(pv, &node, &zone);
		/* One sentence per place: the volumes there are named together. */
		if (node) {
			snprintf(key, sizeof key, "sched-volume:%s:node:%s", str_or(name_of(pod), "?"), node);
			if (has_key(out, key))
				continue;
			size_t nv = volumes_at(in, pod, node, NULL, vols, sizeof vols, claims, sizeof claims, pvs, sizeof pvs);
			yajl_val vn = by_name(in->nodes, node);
			char gone[1400] = "", move[400] = "";
			if (vn)
				snprintf(move, sizeof move,
					 ", or move the label yourself (`kubectl label node %s " STACK_LABEL
					 "-` and `kubectl label node %s " STACK_LABEL "=true`)",
					 sname ? sname : "OTHER", node);
			if (!vn)
				snprintf(gone, sizeof gone,
					 " Node %s no longer exists, and node storage does not survive a node's "
					 "replacement: to start over with empty volumes, delete them (`kubectl -n %s delete "
					 "pvc %s` and `kubectl delete pv %s`) and re-run install-stack.",
					 node, in->ns, claims, pvs);
			else if (!node_ready(vn))
				snprintf(gone, sizeof gone, " Node %s is NotReady: the pod can start once it is back.", node);
			else if (node_cordoned(vn))
				snprintf(gone, sizeof gone,
					 " Node %s is cordoned, so install-stack does not place the stack there: uncordon it "
					 "(`kubectl uncordon %s`) first.",
					 node, node);
			added += add(out, key,
				     "%s cannot go where its data is: %s %s on node %s's own disk, but "
				     "the pod may only run on %s%s.%s%s%s%s",
				     what, vols, nv > 1 ? "are" : "is", node,
				     sname ? sname : "the node labelled " STACK_LABEL "=true",
				     sname ? " (labelled " STACK_LABEL "=true)" : "",
				     vn ? " Re-run install-stack, which places the stack where its volumes are" : "", move,
				     vn ? "." : "", gone);
		} else if (zone) {
			snprintf(key, sizeof key, "sched-volume:%s:zone:%s", str_or(name_of(pod), "?"), zone);
			if (has_key(out, key))
				continue;
			size_t nv = volumes_at(in, pod, NULL, zone, vols, sizeof vols, claims, sizeof claims, pvs, sizeof pvs);
			/* A usable node in the zone; else a cordoned one, which install-stack
			 * does not choose until it is uncordoned. */
			const char *in_zone = NULL, *cordoned = NULL;
			yajl_val it = items(in->nodes);
			for (size_t k = 0; k < hg_jq_len(it) && !in_zone; k++) {
				yajl_val zn = hg_jq_item(it, k);
				if (!str_is(node_zone(zn), zone) || !node_ready(zn))
					continue;
				if (node_cordoned(zn))
					cordoned = cordoned ? cordoned : name_of(zn);
				else
					in_zone = name_of(zn);
			}
			char opt[400];
			if (in_zone)
				snprintf(opt, sizeof opt, "label node %s, which is in %s (`kubectl label node %s " STACK_LABEL
					 "-` and `kubectl label node %s " STACK_LABEL "=true`)",
					 in_zone, zone, sname ? sname : "OTHER", in_zone);
			else if (cordoned)
				snprintf(opt, sizeof opt,
					 "Uncordon node %s, the only ready node in %s (`kubectl uncordon %s`), and re-run "
					 "install-stack",
					 cordoned, zone, cordoned);
			else
				snprintf(opt, sizeof opt, "Add a node in %s (no ready node is there now)", zone);
			added += add(out, key,
				     "%s cannot go where its data is: EBS %s %s in zone %s and an EBS "
				     "volume cannot leave its zone, but the pod may only run on %s%s%s. %s%s; to start over "
				     "with empty volumes, delete the claim%s (`kubectl -n %s delete pvc %s`) and re-run "
				     "install-stack.",
				     what, vols, nv > 1 ? "are" : "is", zone,
				     sname ? sname : "the node labelled " STACK_LABEL "=true",
				     sn && node_zone(sn) ? " in zone " : "", sn && node_zone(sn) ? node_zone(sn) : "",
				     in_zone ? "Re-run install-stack, which places the stack in its volumes' zone, or " : "",
				     opt, nv > 1 ? "s" : "", in->ns, claims);
		}
	}
	if (!added) {
		snprintf(key, sizeof key, "sched-volume:%s", str_or(name_of(pod), "?"));
		added = add(out, key,
			    "%s cannot be scheduled: its volumes are on another node or in another zone than the nodes "
			    "it may run on (volume node affinity conflict). Re-run install-stack, which places the stack "
			    "where its volumes are.",
			    what);
	}
	return added;
}

static size_t diag_unschedulable(const struct stack_diag_in *in, yajl_val pod, const char *what,
				 struct stack_diags *out)
{
	const char *jn = hg_jq_str(pod, "spec", "nodeName", JQ_END);
	if (jn && *jn)
		return 0;
	yajl_val c = condition(pod, "PodScheduled");
	const char *msg = NULL;
	if (c && str_is(hg_jq_str(c, "status", JQ_END), "False"))
		msg = hg_jq_str(c, "message", JQ_END);
	if (!msg) {
		static const char *const fs[] = {"FailedScheduling", NULL};
		yajl_val e = latest_event(in, "Pod", pod, fs);
		msg = e ? msg_of(e) : NULL;
	}
	if (!msg || !*msg)
		return 0;
	/* The preemption part repeats the reasons; the first part says why. */
	char why[1024], key[240];
	snprintf(why, sizeof why, "%s", msg);
	char *p = strstr(why, " preemption:");
	if (p)
		*p = '\0';
	size_t n = 0;
	bool selector = strstr(why, "didn't match Pod's node affinity/selector") != NULL;
	if (strstr(why, "Too many pods"))
		n += sched_too_many_pods(in, pod, what, why, out);
	if (strstr(why, "Insufficient memory"))
		n += sched_memory(in, pod, what, why, out);
	if (strstr(why, "volume node affinity conflict"))
		n += sched_volume_conflict(in, pod, what, out);
	if (selector && wants_stack_node(pod) && in->nodes)
		n += sched_selector(in, pod, what, out);
	/* Volume binding in the way ('running PreBind plugin "VolumeBinding":
	 * binding volumes: provisioning failed for PVC ...', unbound immediate
	 * claims): the claims' own sentences say why. */
	if (n || strstr(why, "unbound immediate PersistentVolumeClaims") ||
	    strstr(why, "didn't find available persistent volumes") || strstr(why, "binding volumes") ||
	    strstr(why, "persistentvolumeclaim"))
		return n;
	snprintf(key, sizeof key, "sched:%s", str_or(name_of(pod), "?"));
	if (strstr(why, "untolerated taint"))
		return add(out, key,
			   "%s cannot be scheduled: the scheduler says \"%s\". A taint keeps the pod off those nodes: "
			   "remove it if it is not needed (`kubectl taint node NODE KEY-`), or make another node "
			   "available.",
			   what, why);
	return add(out, key, "%s cannot be scheduled: the scheduler says \"%s\". Make room on a node it may run on, or add a node.",
		   what, why);
}

/* ---- volumes ---- */

static void iam_fix(const struct stack_diag_in *in, char *b, size_t len)
{
	const char *c = cluster_arg(in);
	snprintf(b, len,
		 "`eksctl create iamserviceaccount --name ebs-csi-controller-sa "
		 "--namespace kube-system --cluster %s --role-name AmazonEKS_EBS_CSI_DriverRole --role-only "
		 "--attach-policy-arn arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy --approve`, then "
		 "`aws eks update-addon --cluster-name %s --addon-name aws-ebs-csi-driver --service-account-role-arn "
		 "arn:aws:iam::ACCOUNT_ID:role/AmazonEKS_EBS_CSI_DriverRole` (or with EKS Pod Identity: `eksctl create "
		 "podidentityassociation --cluster %s --namespace kube-system --service-account-name "
		 "ebs-csi-controller-sa --role-name AmazonEKS_EBS_CSI_DriverRole --permission-policy-arns "
		 "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`, which needs the eks-pod-identity-agent "
		 "add-on); the node's own role is no fallback "
		 "on AL2023 nodes, whose IMDSv2 hop limit of 1 keeps pods from reaching it",
		 c, c, c);
}

#define NODE_STORAGE_OPT                                                                                          \
	"re-run install-stack with --storage node to keep the data on the stack node's own disk instead (it survives " \
	"pod restarts, re-installs and reboots, not the node's replacement)"

/* Why a claim is Pending; claims with the same problem (and class or
 * provisioner) share one sentence. */
enum pvc_problem {
	PVC_FINE,
	PVC_IAM,
	PVC_NO_CREDENTIALS,
	PVC_NODE_PV_MISSING,
	PVC_CLASS_MISSING,
	PVC_NO_CLASS,
	PVC_NO_EBS_DRIVER,
	PVC_NO_DRIVER,
	PVC_FAILED,
};

static enum pvc_problem pvc_problem(const struct stack_diag_in *in, yajl_val pvc, char *prov, size_t provlen,
				    const char **msg)
{
	static const char *const failed[] = {"ProvisioningFailed", NULL};
	static const char *const any_prov[] = {"ExternalProvisioning", "Provisioning", "ProvisioningFailed",
					       "ProvisioningSucceeded", "FailedBinding", NULL};
	const char *sc = hg_jq_str(pvc, "spec", "storageClassName", JQ_END);
	prov[0] = '\0';
	*msg = "";
	if (!str_is(hg_jq_str(pvc, "status", "phase", JQ_END), "Pending"))
		return PVC_FINE;
	yajl_val last = latest_event(in, "PersistentVolumeClaim", pvc, any_prov);
	yajl_val pf = latest_event(in, "PersistentVolumeClaim", pvc, failed);
	const char *m = pf ? msg_of(pf) : "";
	*msg = m;
	if (pf && (strstr(m, "UnauthorizedOperation") || strstr(m, "not authorized to perform")))
		return PVC_IAM;
	if (pf && (strstr(m, "no EC2 IMDS role found") || strstr(m, "NoCredentialProviders") ||
		   strstr(m, "169.254.169.254") || strstr(m, "failed to refresh cached credentials")))
		return PVC_NO_CREDENTIALS;
	if (pf && strstr(m, "storageclass.storage.k8s.io") && strstr(m, "not found"))
		return str_is(sc, "heliograph-node") ? PVC_NODE_PV_MISSING : PVC_CLASS_MISSING;
	if (!sc || !*sc)
		return hg_jq_str(pvc, "spec", "volumeName", JQ_END) ? PVC_FINE : PVC_NO_CLASS;
	if (last && str_is(hg_jq_str(last, "reason", JQ_END), "ExternalProvisioning")) {
		/* "... by the external provisioner 'ebs.csi.aws.com' or ..." */
		const char *q = strchr(msg_of(last), '\'');
		if (q) {
			const char *e = strchr(q + 1, '\'');
			if (e && (size_t)(e - q - 1) < provlen)
				snprintf(prov, provlen, "%.*s", (int)(e - q - 1), q + 1);
		}
		if (!*prov || !in->csidrivers || by_name(in->csidrivers, prov))
			return PVC_FINE; /* installed: it answers with Provisioning or ProvisioningFailed */
		return strcmp(prov, "ebs.csi.aws.com") == 0 ? PVC_NO_EBS_DRIVER : PVC_NO_DRIVER;
	}
	return pf ? PVC_FAILED : PVC_FINE;
}

/* "Volume claim A stays" or "Volume claims A and B stay": the Pending claims
 * with problem p (and the same class and provisioner). */
static size_t claims_phrase(const struct stack_diag_in *in, enum pvc_problem p, const char *sc, const char *prov,
			    char *out, size_t len)
{
	const char *names[8];
	size_t n = 0;
	yajl_val it = items(in->pvcs);
	for (size_t i = 0; i < hg_jq_len(it) && n < 8; i++) {
		yajl_val c = hg_jq_item(it, i);
		char pv[128];
		const char *m;
		if (pvc_problem(in, c, pv, sizeof pv, &m) == p && str_is(str_or(hg_jq_str(c, "spec", "storageClassName", JQ_END), ""), sc) &&
		    strcmp(pv, prov) == 0)
			names[n++] = str_or(name_of(c), "?");
	}
	snprintf(out, len, "Volume claim%s ", n > 1 ? "s" : "");
	for (size_t i = 0; i < n; i++)
		cat(out, len, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", names[i]);
	cat(out, len, " %s", n > 1 ? "stay" : "stays");
	return n;
}

static size_t diag_pvc(const struct stack_diag_in *in, yajl_val pvc, struct stack_diags *out)
{
	char key[240], fix[1400], prov[128], who[400];
	const char *m, *sc = hg_jq_str(pvc, "spec", "storageClassName", JQ_END);
	enum pvc_problem p = pvc_problem(in, pvc, prov, sizeof prov, &m);
	if (p == PVC_FINE)
		return 0;
	bool many = claims_phrase(in, p, str_or(sc, ""), prov, who, sizeof who) > 1;
	snprintf(key, sizeof key, "pvc:%d:%s:%s", (int)p, str_or(sc, ""), prov);
	switch (p) {
	case PVC_IAM:
		iam_fix(in, fix, sizeof fix);
		return add(out, key,
			   "%s Pending: the EBS CSI driver may not create volumes "
			   "(UnauthorizedOperation: it has no IAM role with the AmazonEBSCSIDriverPolicy). Either give it "
			   "one: %s; "
			   "or " NODE_STORAGE_OPT ".",
			   who, fix);
	case PVC_NO_CREDENTIALS:
		iam_fix(in, fix, sizeof fix);
		return add(out, key,
			   "%s Pending: the EBS CSI driver has no AWS credentials (it has no IAM "
			   "role, and the node's instance metadata is out of its reach). Either give it one: %s; or " NODE_STORAGE_OPT
			   ".",
			   who, fix);
	case PVC_NODE_PV_MISSING:
		return add(out, key,
			   "%s Pending: %s node volume%s (%s of class "
			   "heliograph-node that install-stack creates) %s missing; re-run install-stack, which "
			   "creates %s again.",
			   who, many ? "their" : "its", many ? "s" : "", many ? "PersistentVolumes" : "a PersistentVolume",
			   many ? "are" : "is", many ? "them" : "it");
	case PVC_CLASS_MISSING:
		return add(out, key,
			   "%s Pending: %s for storage class %s, which does not exist. Re-run "
			   "install-stack without --storage-class (it creates the heliograph-gp3 class itself when it "
			   "chooses EBS), name an existing class with --storage-class (`kubectl get storageclass`), or "
			   "use --storage node.",
			   who, many ? "they ask" : "it asks", str_or(sc, "?"));
	case PVC_NO_CLASS:
		return add(out, key,
			   "%s Pending: %s no storage class and the cluster has no default "
			   "one (EKS 1.30 and later mark none as default), so nothing provisions %s. Re-run "
			   "install-stack, which by default (--storage auto) uses node storage or an EBS class, or choose "
			   "with --storage node or --storage-class NAME (`kubectl get storageclass`).",
			   who, many ? "they name" : "it names", many ? "them" : "it");
	case PVC_NO_EBS_DRIVER:
		iam_fix(in, fix, sizeof fix);
		return add(out, key,
			   "%s Pending: %s for the provisioner ebs.csi.aws.com, which is "
			   "not installed (no CSIDriver of that name). Either install the Amazon EBS CSI driver "
			   "add-on (`aws eks create-addon --cluster-name %s --addon-name aws-ebs-csi-driver`) and "
			   "give it an IAM role: %s; or " NODE_STORAGE_OPT ".",
			   who, many ? "they wait" : "it waits", cluster_arg(in), fix);
	case PVC_NO_DRIVER:
		return add(out, key,
			   "%s Pending: %s for the provisioner %s of storage class %s, which is "
			   "not installed (no CSIDriver of that name). Install it, choose another class with "
			   "--storage-class (`kubectl get storageclass`), or " NODE_STORAGE_OPT ".",
			   who, many ? "they wait" : "it waits", prov, str_or(sc, "?"));
	case PVC_FAILED: {
		/* The provisioner's own words, which differ per claim. */
		char k2[300];
		snprintf(k2, sizeof k2, "pvc:%s", str_or(name_of(pvc), "?"));
		return add(out, k2,
			   "Volume claim %s stays Pending: provisioning its volume failed: \"%s\". Fix what the "
			   "provisioner says, choose another class with --storage-class, or " NODE_STORAGE_OPT ".",
			   str_or(name_of(pvc), "?"), m);
	}
	case PVC_FINE:
		break;
	}
	return 0;
}

/* ---- containers ---- */

static bool has(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static const char *registry_of(const char *image, char *b, size_t len)
{
	/* The first path part is a registry when it looks like a host, as the
	 * container runtimes decide (docker.io otherwise). */
	const char *slash = strchr(image, '/');
	size_t hl = slash ? (size_t)(slash - image) : 0;
	if (!slash || !(memchr(image, '.', hl) || memchr(image, ':', hl) || (hl == 9 && strncmp(image, "localhost", 9) == 0)))
		snprintf(b, len, "docker.io");
	else
		snprintf(b, len, "%.*s", (int)(slash - image), image);
	return b;
}

static size_t diag_pull(const struct stack_diag_in *in, yajl_val pod, yajl_val cst, const char *what,
			struct stack_diags *out)
{
	const char *cname = str_or(hg_jq_str(cst, "name", JQ_END), "?");
	const char *image = hg_jq_str(cst, "image", JQ_END);
	const char *detail = hg_jq_str(cst, "state", "waiting", "message", JQ_END);
	char key[300], reg[256];
	if (!image)
		image = "?";
	/* ImagePullBackOff's message is only "Back-off pulling image \"X\"" on
	 * older kubelets: the pull error is in the latest Failed event. */
	if (!detail || !strstr(detail, ": ") || strncmp(detail, "Back-off pulling image", 22) == 0) {
		/* The kubelet's Failed events: 'Failed to pull image "X": ERR', then
		 * "Error: ErrImagePull" and "Error: ImagePullBackOff"; the first says why. */
		static const char *const failed[] = {"Failed", NULL};
		char needle[300];
		snprintf(needle, sizeof needle, "ailed to pull image \"%s\"", image);
		yajl_val e = latest_event_with(in, "Pod", pod, failed, needle);
		if (!e) /* the status names the image otherwise than the spec */
			e = latest_event_with(in, "Pod", pod, failed, "ailed to pull image");
		if (e)
			detail = msg_of(e);
	}
	detail = str_or(detail, "");
	/* Quoted in sentences: without the event's 'Failed to pull image "X": '
	 * and gRPC's wrapping, the runtime's own words remain. */
	if (strncmp(detail, "Failed to pull image \"", 22) == 0 && strstr(detail + 22, "\": "))
		detail = strstr(detail + 22, "\": ") + 3;
	if (strncmp(detail, "rpc error: code = ", 18) == 0 && strstr(detail, " desc = "))
		detail = strstr(detail, " desc = ") + 8;
	registry_of(image, reg, sizeof reg);
	snprintf(key, sizeof key, "pull:%s", image);
	if (has(image, "heliograph/agent") && strcmp(reg, "docker.io") == 0)
		return add(out, key,
			   "%s cannot pull %s (container %s): nobody publishes that image, so it is yours to build. Build "
			   "and push it to your ECR with scripts/ecr-push.sh, then re-run install-stack with "
			   "--agent-image set to the image it printed; EKS nodes pull from their own account's ECR with "
			   "the node role, no pull Secret needed.",
			   what, image, cname);
	if (has(detail, "toomanyrequests"))
		return add(out, key,
			   "%s cannot pull %s: Docker Hub's pull rate limit for the nodes' address is used up. Pull "
			   "through your ECR instead (an ECR pull-through cache rule for Docker Hub, then re-run "
			   "install-stack with --image-registry ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com/PREFIX), or wait "
			   "and the kubelet retries by itself.",
			   what, image);
	if (has(detail, "no match for platform")) {
		yajl_val n = by_name(in->nodes, pod_node(pod));
		const char *arch = hg_jq_str(n, "metadata", "labels", "kubernetes.io/arch", JQ_END);
		return add(out, key,
			   "%s cannot run %s: the image has no build for the node's CPU architecture%s%s%s (t4g nodes are "
			   "arm64). Push a multi-arch image (scripts/ecr-push.sh builds amd64 and arm64) and re-run "
			   "install-stack with --agent-image.",
			   what, image, arch ? " (" : "", arch ? arch : "", arch ? ")" : "");
	}
	/* The default image (the file IMAGE), which the release workflow
	 * publishes when the version is tagged: until then ghcr.io answers 403
	 * ("denied") for the missing package, or "not found" for a missing tag. */
	if (strncmp(image, "ghcr.io/heliograph/agent", 24) == 0 &&
	    (has(detail, "not found") || has(detail, "manifest unknown") || has(detail, "403") || has(detail, "401") ||
	     has(detail, "denied") || has(detail, "orbidden") || has(detail, "nauthorized")))
		return add(out, key,
			   "%s cannot pull %s (container %s): ghcr.io does not have it (\"%s\"); the project's release "
			   "workflow publishes it when this version is tagged, so it is not released yet. Build and push "
			   "it to your ECR with scripts/ecr-push.sh, then re-run install-stack with --agent-image set to "
			   "the image it printed; EKS nodes pull from their own account's ECR with the node role, no pull "
			   "Secret needed.",
			   what, image, cname, detail);
	if (has(detail, "pull access denied, repository does not exist or may require authorization"))
		return add(out, key,
			   "%s cannot pull %s: %s answers that the repository does not exist or is private (it says the "
			   "same for both). Check the image name and tag; for a private repository create a pull Secret "
			   "(`kubectl -n %s create secret docker-registry regcred --docker-server=%s --docker-username=USER "
			   "--docker-password=PASSWORD`) and re-run install-stack with --image-pull-secret regcred.",
			   what, image, reg, in->ns, reg);
	if (has(detail, "not found") || has(detail, "NotFound") || has(detail, "manifest unknown"))
		return add(out, key,
			   "%s cannot pull %s: %s has no such image or tag. Check the name and tag (for ECR: `aws ecr "
			   "describe-images --repository-name REPOSITORY`), push it, or pass the right one to install-stack "
			   "(--agent-image, --image-registry).",
			   what, image, reg);
	if (has(detail, "401") || has(detail, "403") || has(detail, "nauthorized") || has(detail, "orbidden") ||
	    has(detail, "no basic auth credentials") || has(detail, "denied")) {
		if (strstr(reg, ".dkr.ecr."))
			return add(out, key,
				   "%s cannot pull %s: ECR refused the node's credentials. EKS nodes pull from ECR with "
				   "the node role, which needs the AmazonEC2ContainerRegistryReadOnly policy (`aws iam "
				   "attach-role-policy --role-name NODE_ROLE --policy-arn "
				   "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly`); a repository in another "
				   "account must also allow the node role in its repository policy.",
				   what, image);
		return add(out, key,
			   "%s cannot pull %s: %s refused the pull (\"%s\"). Create a pull Secret (`kubectl -n %s create "
			   "secret docker-registry regcred --docker-server=%s --docker-username=USER "
			   "--docker-password=PASSWORD`) and re-run install-stack with --image-pull-secret regcred.",
			   what, image, reg, detail, in->ns, reg);
	}
	if (has(detail, "i/o timeout") || has(detail, "dial tcp") || has(detail, "no such host") ||
	    has(detail, "TLS handshake timeout") || has(detail, "connection refused"))
		return add(out, key,
			   "%s cannot pull %s: the node cannot reach %s (\"%s\"). Nodes in private subnets need a NAT "
			   "gateway or VPC endpoints (for ECR: ecr.api, ecr.dkr and the S3 gateway endpoint).",
			   what, image, reg, detail);
	return add(out, key, "%s cannot pull %s: \"%s\". Check that the image exists and the nodes may pull it.", what,
		   image, *detail ? detail : "no reason given yet");
}

static size_t diag_oom(const struct stack_diag_in *in, yajl_val pod, yajl_val spec, const char *cname,
		       const char *what, struct stack_diags *out)
{
	(void)in;
	char key[300], lim[32] = "", more[32] = "";
	int64_t v;
	if (hg_quantity_parse(hg_jq_str(spec, "resources", "limits", "memory", JQ_END), &v) == 0) {
		hg_quantity_format(v, lim, sizeof lim);
		hg_quantity_format(v * 2, more, sizeof more);
	}
	snprintf(key, sizeof key, "oom:%s/%s", str_or(name_of(pod), "?"), cname);
	if (!*lim)
		return add(out, key,
			   "Container %s of %s was killed for running out of memory (OOMKilled) and has no memory limit: "
			   "the node itself ran out. Give it a node with more memory, or remove pods you do not need "
			   "from that node.",
			   cname, what);
	return add(out, key,
		   "Container %s of %s was killed for going over its memory limit of %s (OOMKilled). Give it more "
		   "(`kubectl -n %s set resources %s -c %s --limits=memory=%s`; a later install-stack puts the shipped "
		   "limit back, so please report it), or run it on a node with more memory.",
		   cname, what, lim, in->ns, workload_of(pod), cname, more);
}

static yajl_val container_spec(yajl_val pod, const char *name)
{
	static const char *const lists[] = {"containers", "initContainers"};
	for (size_t l = 0; l < 2; l++) {
		yajl_val cs = hg_jq_at(pod, "spec", lists[l], JQ_END);
		for (size_t i = 0; i < hg_jq_len(cs); i++)
			if (str_is(hg_jq_str(hg_jq_item(cs, i), "name", JQ_END), name))
				return hg_jq_item(cs, i);
	}
	return NULL;
}

static size_t diag_container(const struct stack_diag_in *in, yajl_val pod, yajl_val cst, const char *what,
			     struct stack_diags *out)
{
	const char *cname = str_or(hg_jq_str(cst, "name", JQ_END), "?");
	const char *wr = hg_jq_str(cst, "state", "waiting", "reason", JQ_END);
	const char *wm = hg_jq_str(cst, "state", "waiting", "message", JQ_END);
	const char *tr = hg_jq_str(cst, "state", "terminated", "reason", JQ_END);
	const char *lr = hg_jq_str(cst, "lastState", "terminated", "reason", JQ_END);
	int64_t code = hg_jq_int(cst, -1, "lastState", "terminated", "exitCode", JQ_END);
	char key[300];
	if (str_is(wr, "ErrImagePull") || str_is(wr, "ImagePullBackOff"))
		return diag_pull(in, pod, cst, what, out);
	if (str_is(tr, "OOMKilled") || (str_is(lr, "OOMKilled") && !YAJL_IS_TRUE(hg_jq_at(cst, "ready", JQ_END))))
		return diag_oom(in, pod, container_spec(pod, cname), cname, what, out);
	snprintf(key, sizeof key, "crash:%s/%s", str_or(name_of(pod), "?"), cname);
	/* A crash loop is not always in its back-off when looked at: between
	 * two back-offs the container has just exited (state terminated) or
	 * runs again, not ready, with the exit in lastState. */
	int64_t tcode = hg_jq_int(cst, -1, "state", "terminated", "exitCode", JQ_END);
	bool exited = tr && tcode > 0;
	bool rerun = !wr && hg_jq_at(cst, "state", "running", JQ_END) && code > 0;
	bool again = hg_jq_int(cst, 0, "restartCount", JQ_END) >= 1 && !YAJL_IS_TRUE(hg_jq_at(cst, "ready", JQ_END)) &&
		     (exited || rerun);
	if (exited) {
		code = tcode;
		lr = tr;
	}
	if (str_is(wr, "CrashLoopBackOff") || again) {
		char last[160] = "";
		if (code >= 0)
			snprintf(last, sizeof last, " (last exit code %lld%s%s%s)", (long long)code, lr ? ", " : "",
				 lr ? lr : "", code == 137 ? ": killed, often by a failing liveness probe" : "");
		return add(out, key,
			   "Container %s of %s keeps crashing%s: its log says why, `kubectl -n %s logs %s -c %s "
			   "--previous`.",
			   cname, what, last, in->ns, str_or(name_of(pod), "POD"), cname);
	}
	if (str_is(wr, "CreateContainerConfigError") && has(wm, "secret"))
		return add(out, key,
			   "Container %s of %s cannot start: %s. Re-run install-stack, which creates the stack's Secrets.",
			   cname, what, wm);
	if (wr && strcmp(wr, "ContainerCreating") != 0 && strcmp(wr, "PodInitializing") != 0)
		return add(out, key, "Container %s of %s cannot start: %s%s%s.", cname, what, wr, wm ? ": " : "",
			   wm ? wm : "");
	return 0;
}

/* FailedCreatePodSandBox "... failed to assign an IP address to container"
 * while the pod still has not started. */
static size_t diag_sandbox(const struct stack_diag_in *in, yajl_val pod, const char *what, struct stack_diags *out)
{
	static const char *const sb[] = {"FailedCreatePodSandBox", NULL};
	static const char *const later[] = {"Pulling", "Pulled", "Created", "Started", NULL};
	if (!str_is(hg_jq_str(pod, "status", "phase", JQ_END), "Pending"))
		return 0;
	yajl_val e = latest_event(in, "Pod", pod, sb), l = latest_event(in, "Pod", pod, later);
	if (!e || !has(msg_of(e), "failed to assign an IP address") ||
	    (l && strcmp(event_time(l), event_time(e)) > 0))
		return 0;
	const char *node = str_or(pod_node(pod), "?");
	char names[600] = "", key[240], holders[700] = "";
	if (in->all_pods && pods_on(in, node, true, NULL, names, sizeof names) > 0)
		snprintf(holders, sizeof holders, "; the pod-network pods there hold them: %s", names);
	snprintf(key, sizeof key, "ip:%s", node);
	return add(out, key,
		   "%s cannot start on node %s: the VPC CNI has no pod IP left on that node (\"failed to assign an IP "
		   "address to container\")%s. Free one (run coredns with one replica: " COREDNS_ONE "), turn on "
		   "prefix delegation on Nitro instance types (`kubectl -n kube-system set env daemonset aws-node "
		   "ENABLE_PREFIX_DELEGATION=true`; it applies to nodes started after it), or add a node.",
		   what, node, holders, cluster_arg(in));
}

/* ---- the whole ---- */

int64_t hg_stack_diag_notready(const struct stack_diag_in *in, struct stack_diags *out)
{
	int64_t n = 0;
	yajl_val it = items(in->pods);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val p = hg_jq_item(it, i);
		const char *node = pod_node(p);
		yajl_val nd = by_name(in->nodes, node);
		if (!is_agent_pod(p) || pod_ready(p) || !nd || node_ready(nd))
			continue;
		n++;
		char key[240], why[400] = "";
		yajl_val rc = condition(nd, "Ready");
		if (hg_jq_str(rc, "message", JQ_END))
			snprintf(why, sizeof why, " (\"%s\")", hg_jq_str(rc, "message", JQ_END));
		snprintf(key, sizeof key, "notready:%s", node);
		add(out, key,
		    "Node %s is NotReady%s: its agent pod %s is not waited for, and starts by itself once the node is "
		    "Ready again; if the node is gone for good, remove it (`kubectl delete node %s`).",
		    node, why, str_or(name_of(p), "?"), node);
	}
	return n;
}

bool hg_stack_diag_trouble(const struct stack_diag_in *in)
{
	yajl_val it = items(in->pods);
	for (size_t i = 0; i < hg_jq_len(it); i++)
		if (!pod_ready(hg_jq_item(it, i)))
			return true;
	it = items(in->pvcs);
	for (size_t i = 0; i < hg_jq_len(it); i++)
		if (!str_is(hg_jq_str(hg_jq_item(it, i), "status", "phase", JQ_END), "Bound"))
			return true;
	return false;
}

size_t hg_stack_diagnose(const struct stack_diag_in *in, struct stack_diags *out)
{
	size_t n = 0;
	yajl_val it = items(in->pvcs);
	for (size_t i = 0; i < hg_jq_len(it); i++)
		n += diag_pvc(in, hg_jq_item(it, i), out);
	it = items(in->pods);
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val p = hg_jq_item(it, i);
		char what[300];
		if (hg_jq_at(p, "metadata", "deletionTimestamp", JQ_END) || pod_ready(p))
			continue;
		yajl_val nd = by_name(in->nodes, pod_node(p));
		if (is_agent_pod(p) && nd && !node_ready(nd))
			continue; /* hg_stack_diag_notready says it */
		pod_label(p, what, sizeof what);
		n += diag_unschedulable(in, p, what, out);
		n += diag_sandbox(in, p, what, out);
		static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
		for (size_t l = 0; l < 2; l++) {
			yajl_val cs = hg_jq_at(p, "status", lists[l], JQ_END);
			for (size_t k = 0; k < hg_jq_len(cs); k++)
				n += diag_container(in, p, hg_jq_item(cs, k), what, out);
		}
	}
	return n;
}

void hg_stack_diag_cluster_name(const char *context, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!context)
		return;
	const char *c = strstr(context, ":cluster/");
	if (strncmp(context, "arn:aws", 7) == 0 && c) {
		snprintf(out, outlen, "%s", c + 9);
		return;
	}
	/* eksctl: context "USER@NAME.REGION.eksctl.io", cluster "NAME.REGION.eksctl.io" */
	const char *e = strstr(context, ".eksctl.io"), *at = strchr(context, '@');
	const char *b = at && e && at < e ? at + 1 : context;
	const char *dot = e ? memchr(b, '.', (size_t)(e - b)) : NULL;
	if (dot && dot > b)
		snprintf(out, outlen, "%.*s", (int)(dot - b), b);
}
