/* The capacity check before install-stack creates anything: on free-tier
 * nodes (t2/t3.micro: 4 pods, ~550-600Mi allocatable, 3 pods taken by
 * aws-node, kube-proxy and ebs-csi-node) one more pod may be all there is.
 * The scheduler counts pod slots and memory requests, so so do we. */
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "quantity.h"
#include "stack.h"

struct cap_node {
	const char *name;
	int64_t pods, mem;           /* allocatable */
	int64_t used_pods, used_mem; /* running pods not of the stack, their memory requests */
	bool ready, cordoned;
};

static int64_t pod_memory(yajl_val pod)
{
	int64_t sum = 0, v;
	yajl_val cs = jq_at(pod, "spec", "containers", NULL);
	for (size_t i = 0; i < jq_len(cs); i++)
		if (quantity_parse(jq_str(jq_item(cs, i), "resources", "requests", "memory", NULL), &v) == 0)
			sum += v;
	return sum;
}

/* Our own pods (a re-run, an upgrade) are replaced, not added. */
static bool ours(yajl_val pod, const char *ns)
{
	const char *pns = jq_str(pod, "metadata", "namespace", NULL);
	const char *po = jq_str(pod, "metadata", "labels", "app.kubernetes.io/part-of", NULL);
	return pns && po && strcmp(pns, ns) == 0 && strcmp(po, "heliograph") == 0;
}

static bool node_ready(yajl_val node)
{
	yajl_val conds = jq_at(node, "status", "conditions", NULL);
	if (!conds)
		return true; /* no conditions reported: nothing says it is not */
	for (size_t i = 0; i < jq_len(conds); i++) {
		const char *t = jq_str(jq_item(conds, i), "type", NULL), *st = jq_str(jq_item(conds, i), "status", NULL);
		if (t && strcmp(t, "Ready") == 0)
			return st && strcmp(st, "True") == 0;
	}
	return false;
}

static int load(struct stack *s, yajl_val *nodes, yajl_val *pods, char *err, size_t errlen)
{
	char *nb = NULL, *pb = NULL;
	*nodes = *pods = NULL;
	int rc = kube_list(s->client, "v1", "Node", NULL, NULL, NULL, &nb, err, errlen);
	if (rc == 0)
		rc = kube_list(s->client, "v1", "Pod", NULL, NULL, "status.phase!=Succeeded,status.phase!=Failed", &pb,
			       err, errlen);
	if (rc == 0 && (!(*nodes = jq_parse(nb, err, errlen)) || !(*pods = jq_parse(pb, err, errlen))))
		rc = -1;
	free(nb);
	free(pb);
	return rc;
}

static void hint(char *err, size_t errlen)
{
	size_t n = strlen(err);
	snprintf(err + n, errlen - n,
		 "What to do: add a node (eksctl scale nodegroup ... --nodes N+1), use a larger instance type "
		 "(a t3.small fits 11 pods), raise the pod limit with VPC CNI prefix delegation "
		 "(ENABLE_PREFIX_DELEGATION=true and a new node group), or remove pods you do not need. "
		 "--force installs anyway; pods that do not fit stay Pending.");
}

int stack_check_capacity(struct stack *s, const struct stack_docs *d, char *err, size_t errlen)
{
	int64_t stack_mem = 0, agent_mem = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].id.kind, "Deployment") == 0 && strcmp(d->v[i].id.name, STACK_DEPLOYMENT) == 0)
			stack_doc_memory_request(&d->v[i], &stack_mem);
		if (strcmp(d->v[i].id.kind, "DaemonSet") == 0 && strcmp(d->v[i].id.name, STACK_DAEMONSET) == 0)
			stack_doc_memory_request(&d->v[i], &agent_mem);
	}
	yajl_val nodes, pods;
	if (load(s, &nodes, &pods, err, errlen) != 0) {
		yajl_tree_free(nodes);
		return -1;
	}
	yajl_val items = jq_at(nodes, "items", NULL), pitems = jq_at(pods, "items", NULL);
	size_t nn = jq_len(items);
	struct cap_node *cn = calloc(nn ? nn : 1, sizeof *cn);
	if (!cn) {
		snprintf(err, errlen, "out of memory");
		yajl_tree_free(nodes);
		yajl_tree_free(pods);
		return -1;
	}
	for (size_t i = 0; i < nn; i++) {
		yajl_val n = jq_item(items, i);
		cn[i].name = jq_str(n, "metadata", "name", NULL);
		if (quantity_parse(jq_str(n, "status", "allocatable", "pods", NULL), &cn[i].pods) != 0)
			cn[i].pods = 110; /* the kubelet's default */
		if (quantity_parse(jq_str(n, "status", "allocatable", "memory", NULL), &cn[i].mem) != 0)
			cn[i].mem = INT64_MAX / 2;
		cn[i].ready = node_ready(n);
		yajl_val u = jq_at(n, "spec", "unschedulable", NULL);
		cn[i].cordoned = YAJL_IS_TRUE(u);
	}
	for (size_t i = 0; i < jq_len(pitems); i++) {
		yajl_val p = jq_item(pitems, i);
		const char *node = jq_str(p, "spec", "nodeName", NULL);
		if (!node || ours(p, stack_namespace(s)))
			continue;
		for (size_t k = 0; k < nn; k++)
			if (cn[k].name && strcmp(cn[k].name, node) == 0) {
				cn[k].used_pods++;
				cn[k].used_mem += pod_memory(p);
			}
	}

	/* The agent: a pod on every ready node. The stack pod: on one node with
	 * room for it and that node's agent. */
	char why[2048] = "", best[256] = "";
	size_t wl = 0;
	int ready = 0, full = 0;
	int64_t best_free = -1;
	char need_s[32], need_a[32], fm[32];
	quantity_format(stack_mem, need_s, sizeof need_s);
	quantity_format(agent_mem, need_a, sizeof need_a);
	for (size_t i = 0; i < nn; i++) {
		if (!cn[i].ready)
			continue;
		ready++;
		int64_t free_pods = cn[i].pods - cn[i].used_pods, free_mem = cn[i].mem - cn[i].used_mem;
		quantity_format(free_mem > 0 ? free_mem : 0, fm, sizeof fm);
		if (free_pods < 1 || free_mem < agent_mem) {
			full++;
			wl += (size_t)snprintf(why + wl, wl < sizeof why ? sizeof why - wl : 0,
					       "  node %s: %lld of %lld pod slots in use, %s memory unrequested: no room "
					       "for the agent pod (1 slot, %s)\n",
					       cn[i].name ? cn[i].name : "?", (long long)cn[i].used_pods, (long long)cn[i].pods,
					       fm, need_a);
			if (wl >= sizeof why)
				wl = sizeof why - 1;
			continue;
		}
		if (!cn[i].cordoned && free_pods >= 2 && free_mem >= agent_mem + stack_mem && free_mem > best_free) {
			best_free = free_mem;
			snprintf(best, sizeof best, "%s (%lld free pod slots, %s memory unrequested)",
				 cn[i].name ? cn[i].name : "?", (long long)free_pods, fm);
		}
	}
	int rc = 0;
	if (ready == 0) {
		snprintf(err, errlen, "the cluster has no ready node to run the stack on. ");
		rc = -1;
	} else if (full || best_free < 0) {
		snprintf(err, errlen,
			 "the stack does not fit on this cluster. It needs one pod slot and %s of memory requests on "
			 "every node for the agent, and on one node two slots and %s more for the stack pod (InfluxDB "
			 "and Grafana) and that node's agent.\n%s%s",
			 need_a, need_s, why,
			 best_free < 0 ? "  no node has room for the stack pod and its agent\n" : "");
		rc = -1;
	}
	if (rc != 0)
		hint(err, errlen);
	else {
		char line[512];
		snprintf(line, sizeof line, "ok: %d node%s; the stack pod fits on %s", ready, ready == 1 ? "" : "s", best);
		stack_line(s, "capacity", line);
	}
	free(cn);
	yajl_tree_free(nodes);
	yajl_tree_free(pods);
	return rc;
}
