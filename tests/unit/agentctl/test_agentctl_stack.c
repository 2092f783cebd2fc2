/* Pieces of install-stack that need no cluster: quantities as nodes and pods
 * state them, the render split into objects with kubectl's names, the memory
 * the stack asks of the scheduler (the free-tier budget), and JSON equality
 * for dry-run change detection. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "jsonq.h"
#include "quantity.h"
#include "stack.h"

static int64_t q(const char *s)
{
	int64_t v = -12345;
	return hg_quantity_parse(s, &v) == 0 ? v : -1;
}

static void test_quantity(void)
{
	CHECK(q("563Mi") == 563LL << 20);
	CHECK(q("3955428Ki") == 3955428LL * 1024);
	CHECK(q("1.5Gi") == 3LL << 29);
	CHECK(q("500M") == 500000000LL);
	CHECK(q("4") == 4);
	CHECK(q("110") == 110);
	CHECK(q("100m") == 1); /* rounded up, as the scheduler does for requests */
	CHECK(q("1e3") == 1000);
	CHECK(q("") == -1);
	CHECK(q("-1Mi") == -1);
	CHECK(q("5Gb") == -1);
	CHECK(q("Mi") == -1);
	char b[32];
	hg_quantity_format(350LL << 20, b, sizeof b);
	CHECK_STR(b, "350Mi");
	hg_quantity_format(3LL << 29, b, sizeof b);
	CHECK_STR(b, "1.5Gi");
}

static void test_docs(void)
{
	struct render_params rp = {0};
	struct stack_docs d;
	char err[512];
	CHECK_INT(hg_stack_docs_render(&rp, &d, err, sizeof err), 0);
	CHECK_INT((int)d.n, 17);
	CHECK_STR(d.v[0].label, "namespace/monitoring");
	CHECK_STR(d.v[0].id.kind, "Namespace");
	int64_t stack = -1, agent = -1;
	bool rbac = false;
	for (size_t i = 0; i < d.n; i++) {
		/* Every document is one object: no comment-only or multi-object pieces. */
		CHECK(d.v[i].id.name && d.v[i].id.kind);
		if (strcmp(d.v[i].id.kind, "Deployment") == 0) {
			CHECK_STR(d.v[i].label, "deployment.apps/" STACK_DEPLOYMENT);
			CHECK_INT(hg_stack_doc_memory_request(&d.v[i], &stack), 0);
		}
		if (strcmp(d.v[i].id.kind, "DaemonSet") == 0) {
			CHECK_STR(d.v[i].label, "daemonset.apps/" STACK_DAEMONSET);
			CHECK_INT(hg_stack_doc_memory_request(&d.v[i], &agent), 0);
		}
		rbac |= strcmp(d.v[i].label, "clusterrolebinding.rbac.authorization.k8s.io/heliograph-agent") == 0;
		if (strcmp(d.v[i].id.kind, "Service") == 0)
			CHECK(strcmp(d.v[i].id.name, STACK_INFLUX_SERVICE) == 0 ||
			      strcmp(d.v[i].id.name, STACK_GRAFANA_SERVICE) == 0);
	}
	CHECK(rbac);
	/* InfluxDB 128Mi + Grafana 192Mi + the stack node's agent 24Mi in one
	 * pod (data-owner's 16Mi runs before them); the DaemonSet's agent 24Mi. */
	CHECK(stack == 344LL << 20);
	CHECK(agent == 24LL << 20);
	hg_stack_docs_free(&d);

	rp.value[RP_NAMESPACE] = "obs";
	CHECK_INT(hg_stack_docs_render(&rp, &d, err, sizeof err), 0);
	CHECK_STR(d.v[0].id.name, "obs");
	CHECK_STR(d.v[1].id.namespace, "obs");
	hg_stack_docs_free(&d);
}

static void test_json(void)
{
	char err[128];
	yajl_val a = hg_jq_parse("{\"a\":1,\"b\":[1,\"x\",{\"c\":null}],\"metadata\":{\"rv\":\"1\",\"n\":\"x\"}}", err, sizeof err);
	yajl_val b = hg_jq_parse("{\"metadata\":{\"n\":\"x\",\"rv\":\"2\"},\"b\":[1,\"x\",{\"c\":null}],\"a\":1}", err, sizeof err);
	yajl_val c = hg_jq_parse("{\"metadata\":{\"n\":\"x\",\"rv\":\"2\"},\"b\":[1,\"y\",{\"c\":null}],\"a\":1}", err, sizeof err);
	static const char *const skip_meta[] = {"metadata", NULL};
	static const char *const skip_rv[] = {"rv", NULL};
	CHECK(a && b && c);
	CHECK(!hg_jq_equal(a, b));
	CHECK(hg_jq_equal_except(a, b, skip_meta));
	CHECK(hg_jq_equal_except(hg_jq_at(a, "metadata", JQ_END), hg_jq_at(b, "metadata", JQ_END), skip_rv));
	CHECK(!hg_jq_equal_except(a, c, skip_meta));
	CHECK_STR(hg_jq_str(a, "metadata", "n", JQ_END), "x");
	CHECK(hg_jq_int(a, -1, "a", JQ_END) == 1);
	CHECK(hg_jq_int(a, -1, "missing", JQ_END) == -1);
	CHECK(hg_jq_len(hg_jq_at(a, "b", JQ_END)) == 3);
	CHECK(hg_jq_str(hg_jq_item(hg_jq_at(a, "b", JQ_END), 1), JQ_END) != NULL);
	CHECK(hg_jq_parse("not json", err, sizeof err) == NULL);
	/* Duplicate keys: the last counts, and a document equals itself (found by fuzz_jsonq). */
	yajl_val d1 = hg_jq_parse("{\"k\":1,\"g\":\"a\",\"k\":2}", err, sizeof err);
	yajl_val d2 = hg_jq_parse("{\"g\":\"a\",\"k\":2}", err, sizeof err);
	yajl_val d3 = hg_jq_parse("{\"g\":\"a\",\"k\":1}", err, sizeof err);
	CHECK(d1 && d2 && d3);
	CHECK(hg_jq_equal(d1, d1));
	CHECK(hg_jq_equal(d1, d2) && hg_jq_equal(d2, d1));
	CHECK(!hg_jq_equal(d1, d3) && !hg_jq_equal(d3, d1));
	yajl_tree_free(d1);
	yajl_tree_free(d2);
	yajl_tree_free(d3);
	yajl_tree_free(a);
	yajl_tree_free(b);
	yajl_tree_free(c);
}

/* What one pod asks of its node, as the scheduler counts it: the
 * containers' sum, or the largest init container if that is more; and
 * whether it needs a pod-network IP. */
static void test_pod_needs(void)
{
	static const char text[] = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n"
				   "  template:\n    spec:\n      hostNetwork: true\n"
				   "      initContainers:\n        - {name: i, resources: {requests: {memory: 64Mi}}}\n"
				   "      containers:\n        - {name: a, resources: {requests: {memory: 24Mi}}}\n"
				   "        - {name: b, resources: {requests: {memory: 16Mi}}}\n        - {name: c}\n";
	struct stack_doc d = {.text = (char *)text, .len = sizeof text - 1};
	struct stack_pod_needs n;
	CHECK_INT(hg_stack_doc_pod(&d, &n), 0);
	CHECK(n.memory == 64LL << 20);
	CHECK(n.host_network);
	CHECK_STR(n.containers, "a, b, c");
	static const char text2[] = "kind: Deployment\nspec:\n  template:\n    spec:\n"
				    "      initContainers: [{name: i, resources: {requests: {memory: 8Mi}}}]\n"
				    "      containers: [{name: a, resources: {requests: {memory: 24Mi}}}]\n";
	d.text = (char *)text2;
	d.len = sizeof text2 - 1;
	CHECK_INT(hg_stack_doc_pod(&d, &n), 0);
	CHECK(n.memory == 24LL << 20);
	CHECK(!n.host_network);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_quantity),
		CHECK_CASE(test_docs),
		CHECK_CASE(test_json),
		CHECK_CASE(test_pod_needs),
	};
	return CHECK_RUN(argc, argv, cases);
}
