/* Whether install-stack ships the NetworkPolicy (render_netpol.c), and from
 * which addresses. A NetworkPolicy does something only where the CNI enforces
 * it; on EKS that is the VPC CNI's network policy agent: container
 * aws-eks-nodeagent (image aws-network-policy-agent) of DaemonSet
 * kube-system/aws-node, running with --enable-network-policy=true, which the
 * vpc-cni add-on sets for its configuration value enableNetworkPolicy "true"
 * (the EKS user guide, "Limit pod traffic with Kubernetes network policies").
 * Elsewhere agentctl cannot tell, says so, and installs none unless
 * --network-policy-from names the addresses. */
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "stack.h"

#define AWS_NODE "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node"
#define ENABLE_ARG "--enable-network-policy=true"

/* 1 enforced, 0 not (why says so), or a KUBE_E* error. */
static int vpc_cni_enforces(struct stack *s, char *why, size_t whylen, char *err, size_t errlen)
{
	struct kube_request rq = {.method = "GET", .path = AWS_NODE, .what = "read DaemonSet kube-system/aws-node"};
	char *body = NULL;
	int rc = hg_kube_call(s->client, &rq, &body, err, errlen);
	if (rc == KUBE_ENOTFOUND) {
		free(body);
		snprintf(why, whylen, "no Amazon VPC CNI here (no DaemonSet kube-system/aws-node), and agentctl cannot "
				      "tell whether this cluster's network plugin enforces NetworkPolicies");
		return 0;
	}
	if (rc != 0) {
		free(body);
		return rc;
	}
	char perr[64];
	yajl_val v = yajl_tree_parse(body, perr, sizeof perr);
	free(body);
	yajl_val cs = hg_jq_at(v, "spec", "template", "spec", "containers", JQ_END);
	bool agent = false, on = false;
	for (size_t i = 0; i < hg_jq_len(cs); i++) {
		yajl_val c = hg_jq_item(cs, i), args = hg_jq_at(c, "args", JQ_END);
		const char *img = hg_jq_str(c, "image", JQ_END), *name = hg_jq_str(c, "name", JQ_END);
		if (!(img && strstr(img, "aws-network-policy-agent")) && !(name && strcmp(name, "aws-eks-nodeagent") == 0))
			continue;
		agent = true;
		for (size_t j = 0; j < hg_jq_len(args); j++) {
			const char *a = YAJL_IS_STRING(hg_jq_item(args, j)) ? YAJL_GET_STRING(hg_jq_item(args, j)) : NULL;
			on |= a && strcmp(a, ENABLE_ARG) == 0;
		}
	}
	yajl_tree_free(v);
	if (!on)
		snprintf(why, whylen,
			 "the VPC CNI's network policy agent %s, so a NetworkPolicy would not be enforced. To turn it "
			 "on: aws eks update-addon --cluster-name CLUSTER --addon-name vpc-cni --configuration-values "
			 "'{\"enableNetworkPolicy\": \"true\"}', then run install-stack again",
			 agent ? "is off (aws-node's aws-eks-nodeagent runs without " ENABLE_ARG ")"
			       : "is not installed (aws-node has no aws-eks-nodeagent container: VPC CNI older than 1.14?)");
	return on ? 1 : 0;
}

/* Appends "IP/32" (or /128) to buf, comma-separated; false when full. */
static bool add_ip(char *buf, size_t len, size_t *n, const char *ip)
{
	if (!ip || !*ip || strlen(ip) > 45)
		return true;
	char one[64];
	snprintf(one, sizeof one, "%s/%s", ip, strchr(ip, ':') ? "128" : "32");
	/* The same address twice (a node that is also an endpoint) once. */
	for (const char *p = buf; *p;) {
		size_t l = strcspn(p, ",");
		if (l == strlen(one) && strncmp(p, one, l) == 0)
			return true;
		p += l + (p[l] == ',');
	}
	size_t used = strlen(buf);
	if (used + strlen(one) + 2 > len || ++*n > RENDER_CIDRS_MAX)
		return false;
	snprintf(buf + used, len - used, "%s%s", used ? "," : "", one);
	return true;
}

int hg_stack_netpol_decide(struct stack *s, char *err, size_t errlen)
{
	if (s->rp.value[RP_NETPOL_FROM]) {
		fprintf(s->out, "NetworkPolicy: InfluxDB only from --network-policy-from%s\n",
			s->rp.value[RP_GRAFANA_FROM] ? ", Grafana's from --grafana-from" : "");
		return 0;
	}
	char why[512];
	int rc = vpc_cni_enforces(s, why, sizeof why, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		fprintf(s->out, "NetworkPolicy: none installed: %s. Until then any pod can reach InfluxDB, Grafana "
				"and the agents' ports (docs/SECURITY.md).\n", why);
		return 0;
	}
	/* The nodes' InternalIPs (the agents' source addresses on the host
	 * network) and the API server's (the endpoints of default/kubernetes). */
	yajl_val nodes = NULL;
	char *body = NULL;
	if ((rc = hg_stack_list(s, "v1", "Node", NULL, NULL, NULL, &nodes, err, errlen)) != 0)
		return rc;
	struct kube_request rq = {.method = "GET", .path = "/api/v1/namespaces/default/endpoints/kubernetes",
				  .what = "read the API server's endpoints (Endpoints default/kubernetes)"};
	/* No such Endpoints (not a real API server): the nodes alone. */
	if ((rc = hg_kube_call(s->client, &rq, &body, err, errlen)) != 0 && rc != KUBE_ENOTFOUND) {
		free(body);
		yajl_tree_free(nodes);
		return rc;
	}
	char perr[64];
	yajl_val ep = rc == 0 && body ? yajl_tree_parse(body, perr, sizeof perr) : NULL;
	free(body);
	size_t n = 0, nn = 0, na = 0;
	bool ok = true;
	s->netpol_from[0] = '\0';
	yajl_val items = hg_jq_at(nodes, "items", JQ_END);
	for (size_t i = 0; ok && i < hg_jq_len(items); i++) {
		yajl_val addrs = hg_jq_at(hg_jq_item(items, i), "status", "addresses", JQ_END);
		for (size_t j = 0; ok && j < hg_jq_len(addrs); j++) {
			const char *t = hg_jq_str(hg_jq_item(addrs, j), "type", JQ_END);
			if (t && strcmp(t, "InternalIP") == 0) {
				ok = add_ip(s->netpol_from, sizeof s->netpol_from, &n, hg_jq_str(hg_jq_item(addrs, j), "address", JQ_END));
				nn++;
			}
		}
	}
	yajl_val subsets = hg_jq_at(ep, "subsets", JQ_END);
	for (size_t i = 0; ok && i < hg_jq_len(subsets); i++) {
		yajl_val addrs = hg_jq_at(hg_jq_item(subsets, i), "addresses", JQ_END);
		for (size_t j = 0; ok && j < hg_jq_len(addrs); j++) {
			ok = add_ip(s->netpol_from, sizeof s->netpol_from, &n, hg_jq_str(hg_jq_item(addrs, j), "ip", JQ_END));
			na++;
		}
	}
	yajl_tree_free(nodes);
	yajl_tree_free(ep);
	if (!ok) {
		snprintf(err, errlen, "too many node and API server addresses for the NetworkPolicy (more than %d): pass "
				      "--network-policy-from with the nodes' subnets instead", RENDER_CIDRS_MAX);
		return -1;
	}
	if (n == 0) {
		fprintf(s->out, "NetworkPolicy: none installed: no node or API server address found to allow.\n");
		return 0;
	}
	s->rp.value[RP_NETPOL_FROM] = s->netpol_from;
	fprintf(s->out,
		"NetworkPolicy: the VPC CNI enforces NetworkPolicies: InfluxDB only from the %zu "
		"node%s and %zu API server address%s; Grafana's port %s. A node added later: run install-stack again.\n",
		nn, nn == 1 ? "" : "s", na, na == 1 ? "" : "es",
		s->rp.value[RP_GRAFANA_FROM] ? "also from --grafana-from" : "from no one (kubectl port-forward still works)");
	return 0;
}
