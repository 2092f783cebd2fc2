/* kubernetes input: every captured kubelet /stats/summary streamed through
 * the parser 7 bytes at a time gives Telegraf's kubernetes_* lines with the
 * values of the JSON (several per measurement, picked from each fixture);
 * the chunking does not change a byte of the output; the emitted schema is
 * the README's; pod labels and requests/limits come from the paired /pods;
 * yajl's own memory stays small and flat; broken documents are errors. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"
#include "pods.h"
#include "summary_parse.h"

static const char *const summaries[] = {
	"datadog-gke-ubuntu-containerd-summary.json",
	"honeycomb-baremetal-docker-calico-summary.json",
	"nri-minikube-2018-docker-summary.json",
	"nri-minikube-k8s1.16-docker-summary.json",
	"nri-minikube-k8s1.20-containerd1.6-summary.json",
	"nri-minikube-k8s1.28-containerd1.6-summary.json",
	"nri-minikube-k8s1.34-containerd1.7-summary.json",
	"nri-minikube-k8s1.35-containerd2.2-summary.json",
	"telegraf-kubernetes-test-summary.json",
};

/* Object counts of each fixture (node, systemContainers, pods, containers, volumes), from the JSON. */
static const struct {
	int sysc, pods, conts, vols;
} counts[] = {
	{ 3, 1, 5, 10 }, { 3, 11, 12, 18 }, { 2, 8, 12, 9 }, { 3, 15, 15, 18 }, { 2, 17, 17, 21 },
	{ 2, 18, 23, 17 }, { 2, 18, 18, 21 }, { 2, 17, 17, 19 }, { 2, 2, 2, 4 },
};

/* fixture, line (measurement and tags), field, value in the JSON (0 where the kubelet omits it). */
static const struct value_check {
	const char *fixture, *line, *field;
	long long want;
} checks[] = {
#include "kubelet_summary_checks.inc"
};

static char *slurp(const char *rel, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", fixtures_dir(), rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* ---- a counting allocator for yajl: current and peak bytes ---- */
static size_t cur_bytes, peak_bytes;

static void *count_malloc(void *ctx, size_t n)
{
	(void)ctx;
	size_t *p = malloc(n + sizeof(size_t));
	if (!p)
		return NULL;
	*p = n;
	cur_bytes += n;
	if (cur_bytes > peak_bytes)
		peak_bytes = cur_bytes;
	return p + 1;
}

static void count_free(void *ctx, void *ptr)
{
	(void)ctx;
	if (!ptr)
		return;
	size_t *p = (size_t *)ptr - 1;
	cur_bytes -= *p;
	free(p);
}

static void *count_realloc(void *ctx, void *ptr, size_t n)
{
	if (!ptr)
		return count_malloc(ctx, n);
	size_t *p = (size_t *)ptr - 1, old = *p;
	size_t *q = realloc(p, n + sizeof(size_t));
	if (!q)
		return NULL;
	*q = n;
	cur_bytes = cur_bytes - old + n;
	if (cur_bytes > peak_bytes)
		peak_bytes = cur_bytes;
	return q + 1;
}

static const yajl_alloc_funcs counting = { count_malloc, count_realloc, count_free, NULL };

/* Parses doc in chunks of chunk bytes; returns the feed/end result, err filled. */
static int parse(struct summary_parser *p, struct acc *acc, const struct pod_cache *pods, const char *doc,
		 size_t len, size_t chunk, char *err, size_t errlen)
{
	hg_acc_capture_clear(acc);
	err[0] = '\0';
	if (hg_summary_parser_begin(p, acc, pods, "fallback-node") != 0)
		return -1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (hg_summary_parser_feed(p, doc + off, n, err, errlen) != 0) {
			char ignored[8];
			hg_summary_parser_end(p, ignored, sizeof ignored);
			return -1;
		}
	}
	return hg_summary_parser_end(p, err, errlen);
}

static struct pod_cache *load_pods(const char *rel, const struct label_filter *lf, size_t chunk)
{
	size_t len;
	char *doc = slurp(rel, &len), err[256] = "";
	struct podlist_parser *pl = hg_podlist_parser_new(lf, NULL);
	int rc = 0;
	for (size_t off = 0; off < len && rc == 0; off += chunk)
		rc = hg_podlist_parser_feed(pl, doc + off, len - off < chunk ? len - off : chunk, err, sizeof err);
	struct pod_cache *c = NULL;
	if (rc == 0)
		rc = hg_podlist_parser_end(pl, &c, err, sizeof err);
	CHECK_STR(err, "");
	CHECK_INT(rc, 0);
	hg_podlist_parser_free(pl);
	free(doc);
	return c;
}

static void check_values(const char *fixture, const char *text)
{
	char line[8192], v[128], want[64];
	int n = 0;
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		const struct value_check *c = &checks[i];
		if (strcmp(c->fixture, fixture) != 0)
			continue;
		n++;
		if (!lp_find(text, c->line, 0, line, sizeof line)) {
			fprintf(stderr, "%s: no line %s\n", fixture, c->line);
			check_failures++;
			continue;
		}
		snprintf(want, sizeof want, "%lldi", c->want);
		CHECK(lp_field(line, c->field, v, sizeof v));
		if (strcmp(v, want) != 0) {
			fprintf(stderr, "%s: %s %s = %s, expected %s\n", fixture, c->line, c->field, v, want);
			check_failures++;
		}
	}
	CHECK(n >= 20); /* every fixture has its checks */
}

static struct acc *shared_acc; /* one capture for the cases, as the input has one */

static void test_fixtures(void)
{
	struct acc *acc = shared_acc;
	char err[256];
	struct summary_parser *p = hg_summary_parser_new(&counting);
	for (size_t i = 0; i < sizeof summaries / sizeof summaries[0]; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "kubelet-summary/%s", summaries[i]);
		size_t len;
		char *doc = slurp(rel, &len);

		/* Whole document at once: the reference output. */
		CHECK_INT(parse(p, acc, NULL, doc, len, len, err, sizeof err), 0);
		CHECK_STR(err, "");
		char *whole = strdup(hg_acc_capture_text(acc));
		CHECK_STR(hg_acc_capture_errors(acc), "");

		/* 7 bytes at a time: the same bytes out, and yajl's memory small. */
		peak_bytes = 0;
		CHECK_INT(parse(p, acc, NULL, doc, len, 7, err, sizeof err), 0);
		CHECK_STR(err, "");
		CHECK_STR(hg_acc_capture_text(acc), whole);
		if (peak_bytes > 16384) {
			fprintf(stderr, "%s: yajl peak %zu bytes\n", summaries[i], peak_bytes);
			check_failures++;
		}
		CHECK_INT(cur_bytes, 0);

		/* Line counts per measurement equal the objects in the JSON. */
		int nn = 0, ns = 0, nc = 0, nv = 0, np = 0;
		for (const char *l = whole; *l;) {
			nn += !strncmp(l, "kubernetes_node,", 16);
			ns += !strncmp(l, "kubernetes_system_container,", 28);
			nc += !strncmp(l, "kubernetes_pod_container,", 25);
			nv += !strncmp(l, "kubernetes_pod_volume,", 22);
			np += !strncmp(l, "kubernetes_pod_network,", 23);
			const char *e = strchr(l, '\n');
			l = e ? e + 1 : l + strlen(l);
		}
		CHECK_INT(nn, 1);
		CHECK_INT(ns, counts[i].sysc);
		CHECK_INT(nc, counts[i].conts);
		CHECK_INT(nv, counts[i].vols);
		CHECK_INT(np, counts[i].pods);
		CHECK_INT(hg_summary_parser_emitted(p), 1 + counts[i].sysc + counts[i].conts + counts[i].vols + counts[i].pods);

		check_values(summaries[i], whole);
		free(whole);
		free(doc);
	}
	hg_summary_parser_free(p);
}

/* Telegraf's own test expectations for its test summary (kubernetes_test.go). */
static void test_telegraf_expectations(void)
{
	struct acc *acc = shared_acc;
	char err[256], line[8192], v[64];
	size_t len;
	char *doc = slurp("kubelet-summary/telegraf-kubernetes-test-summary.json", &len);
	char *inc[] = { "app", "superkey", NULL };
	struct strlist include = { 2, inc };
	struct label_filter lf = { &include, NULL };
	struct pod_cache *pods = load_pods("kubelet-pods/telegraf-kubernetes-test-pods.json", &lf, 5);
	CHECK_INT(hg_pod_cache_count(pods), 2);
	struct summary_parser *p = hg_summary_parser_new(NULL);
	CHECK_INT(parse(p, acc, pods, doc, len, 3, err, sizeof err), 0);
	const char *t = hg_acc_capture_text(acc);
	CHECK(lp_find(t, "kubernetes_pod_container,app=foo,container_name=foocontainer,namespace=foons,"
			 "node_name=node1,pod_name=foopod,superkey=foobar", 0, line, sizeof line));
	CHECK(lp_field(line, "cpu_usage_core_nanoseconds", v, sizeof v));
	CHECK_STR(v, "56507553554i");
	CHECK(lp_field(line, "logsfs_used_bytes", v, sizeof v));
	CHECK_STR(v, "24576i");
	CHECK(!strstr(t, "exclude=")); /* a label not included */
	/* The stopped container has only cpu: the rest is 0, as in Telegraf. */
	CHECK(lp_find(t, "kubernetes_pod_container,app=foo-stop,container_name=stopped-container,namespace=foons,"
			 "node_name=node1,pod_name=stopped-pod,superkey=superfoo", 0, line, sizeof line));
	CHECK(lp_field(line, "cpu_usage_nanocores", v, sizeof v));
	CHECK_STR(v, "846503i");
	CHECK(lp_field(line, "memory_usage_bytes", v, sizeof v));
	CHECK_STR(v, "0i");
	CHECK(lp_find(t, "kubernetes_node,node_name=node1", 0, line, sizeof line));
	CHECK(lp_field(line, "memory_page_faults", v, sizeof v));
	CHECK_STR(v, "351742i");
	CHECK(lp_field(line, "runtime_image_fs_used_bytes", v, sizeof v));
	CHECK_STR(v, "5809371475i");
	CHECK(lp_find(t, "kubernetes_pod_volume,app=foo,namespace=foons,node_name=node1,pod_name=foopod,"
			 "superkey=foobar,volume_name=volume1", 0, line, sizeof line));
	CHECK(lp_field(line, "available_bytes", v, sizeof v));
	CHECK_STR(v, "7903948800i");
	CHECK(lp_find(t, "kubernetes_pod_network,app=foo,namespace=foons,node_name=node1,pod_name=foopod,superkey=foobar",
		      0, line, sizeof line));
	CHECK(lp_field(line, "rx_bytes", v, sizeof v));
	CHECK_STR(v, "70749124i");
	/* The test pods have no containers in their spec: no requests/limits fields. */
	CHECK(!strstr(t, "resource_"));
	CHECK_INT(hg_summary_parser_unknown_pods(p), 0);
	hg_summary_parser_free(p);
	hg_pod_cache_free(pods);
	free(doc);
}

/* Honeycomb's /pods and summary are one node at one moment: labels and
 * requests/limits land on the right containers. */
static void test_pod_metadata(void)
{
	struct acc *acc = shared_acc;
	char err[256], line[8192], v[64];
	size_t len;
	char *doc = slurp("kubelet-summary/honeycomb-baremetal-docker-calico-summary.json", &len);
	char *inc[] = { "app", "k8s-*", NULL }, *exc[] = { "k8s-app", NULL };
	struct strlist include = { 2, inc }, exclude = { 1, exc };
	struct label_filter lf = { &include, &exclude };
	struct pod_cache *pods = load_pods("kubelet-pods/honeycomb-baremetal-docker-calico-pods.json", &lf, 7);
	CHECK_INT(hg_pod_cache_count(pods), 11);
	struct summary_parser *p = hg_summary_parser_new(NULL);
	CHECK_INT(parse(p, acc, pods, doc, len, 7, err, sizeof err), 0);
	CHECK_STR(err, "");
	const char *t = hg_acc_capture_text(acc);
	/* speaker: requests and limits 100m / 100Mi */
	CHECK(lp_find(t, "kubernetes_pod_container,app=metallb,container_name=speaker,namespace=metallb-system,"
			 "node_name=duckboat-01,pod_name=speaker-cpxhz", 0, line, sizeof line));
	CHECK(lp_field(line, "resource_requests_millicpu_units", v, sizeof v));
	CHECK_STR(v, "100i");
	CHECK(lp_field(line, "resource_limits_memory_bytes", v, sizeof v));
	CHECK_STR(v, "104857600i");
	CHECK(lp_field(line, "resource_requests_memory_bytes", v, sizeof v));
	CHECK_STR(v, "104857600i");
	CHECK(lp_field(line, "resource_limits_millicpu_units", v, sizeof v));
	CHECK_STR(v, "100i");
	/* calico-node: only a cpu request (250m); k8s-app excluded */
	CHECK(lp_find(t, "kubernetes_pod_container,container_name=calico-node,namespace=kube-system,"
			 "node_name=duckboat-01,pod_name=calico-node-h2bjp", 0, line, sizeof line));
	CHECK(lp_field(line, "resource_requests_millicpu_units", v, sizeof v));
	CHECK_STR(v, "250i");
	CHECK(!lp_field(line, "resource_limits_millicpu_units", v, sizeof v));
	CHECK(!lp_field(line, "resource_requests_memory_bytes", v, sizeof v));
	CHECK(!strstr(t, "k8s-app="));
	/* grafana has two containers, no resources, no "app" label */
	CHECK(lp_find(t, "kubernetes_pod_container,container_name=grafana-sc-dashboard,namespace=olly,"
			 "node_name=duckboat-01,pod_name=grafana-7db5dff8ff-vwrnf", 0, line, sizeof line));
	CHECK(!lp_field(line, "resource_requests_millicpu_units", v, sizeof v));
	CHECK_INT(hg_summary_parser_unknown_pods(p), 0);

	/* Schema with metadata on equals the README's (every row). */
	struct schema got = { 0 }, doc_schema = { 0 };
	hg_acc_capture_clear(acc);
	struct label_filter none = { NULL, NULL };
	hg_pod_cache_free(pods);
	pods = load_pods("kubelet-pods/honeycomb-baremetal-docker-calico-pods.json", &none, 4096);
	CHECK_INT(parse(p, acc, pods, doc, len, 7, err, sizeof err), 0);
	schema_from_lp(&got, hg_acc_capture_text(acc));
	CHECK_INT(schema_from_readme(&doc_schema, "../plugins/inputs/kubernetes/README.md", "pod_metadata"), 0);
	CHECK(doc_schema.n > 50);
	CHECK_INT(schema_diff(&doc_schema, &got), 0);

	/* Without metadata: the "always" rows only. */
	struct schema got2 = { 0 }, doc2 = { 0 };
	CHECK_INT(parse(p, acc, NULL, doc, len, 7, err, sizeof err), 0);
	schema_from_lp(&got2, hg_acc_capture_text(acc));
	CHECK_INT(schema_from_readme(&doc2, "../plugins/inputs/kubernetes/README.md", ""), 0);
	CHECK_INT(schema_diff(&doc2, &got2), 0);

	/* A cache without some pod: counted so the input refreshes it. */
	struct pod_cache *other = load_pods("kubelet-pods/telegraf-kubernetes-test-pods.json", &none, 64);
	CHECK_INT(parse(p, acc, other, doc, len, 64, err, sizeof err), 0);
	CHECK_INT(hg_summary_parser_unknown_pods(p), 11);
	hg_pod_cache_free(other);

	/* 1.35: the pods of the same moment, memory in "M" (decimal) units. */
	free(doc);
	hg_pod_cache_free(pods);
	doc = slurp("kubelet-summary/nri-minikube-k8s1.35-containerd2.2-summary.json", &len);
	pods = load_pods("kubelet-pods/nri-minikube-k8s1.35-containerd2.2-pods.json", &none, 7);
	CHECK_INT(parse(p, acc, pods, doc, len, 7, err, sizeof err), 0);
	t = hg_acc_capture_text(acc);
	CHECK(lp_find(t, "kubernetes_pod_container,container_name=coredns,namespace=kube-system,node_name=datagen-1-35,"
			 "pod_name=coredns-7d764666f9-qdcxt", 0, line, sizeof line));
	CHECK(lp_field(line, "resource_limits_memory_bytes", v, sizeof v));
	CHECK_STR(v, "178257920i"); /* 170Mi */
	/* Fields in key order, as Telegraf writes them. */
	CHECK(strstr(line, "memory_working_set_bytes=") < strstr(line, "resource_limits_memory_bytes=") &&
	      strstr(line, "resource_requests_millicpu_units=") < strstr(line, "rootfs_available_bytes="));
	CHECK(lp_field(line, "resource_requests_memory_bytes", v, sizeof v));
	CHECK_STR(v, "73400320i"); /* 70Mi */
	CHECK(!lp_field(line, "resource_limits_millicpu_units", v, sizeof v));
	hg_summary_parser_free(p);
	hg_pod_cache_free(pods);
	free(doc);
}

static void test_quantities(void)
{
	static const struct {
		const char *q;
		int64_t scale, want;
		int rc;
	} cases[] = {
		{ "100m", 1000, 100, 0 },	{ "0.5", 1000, 500, 0 },	 { "1", 1000, 1000, 0 },
		{ "2", 1, 2, 0 },		{ "128Mi", 1, 134217728, 0 },	 { "1Gi", 1, 1073741824, 0 },
		{ "1e3", 1, 1000, 0 },		{ "1E3", 1, 1000, 0 },		 { "1.5G", 1, 1500000000, 0 },
		{ "5M", 1, 5000000, 0 },	{ "250u", 1000, 1, 0 },		 { "100m", 1, 1, 0 },
		{ "1E", 1, 1000000000000000000LL, 0 }, { "8Ei", 1, 0, -1 },	 { "abc", 1, 0, -1 },
		{ "1Xi", 1, 0, -1 },		{ "", 1, 0, -1 },		 { "12.", 1000, 12000, 0 },
		{ "1e-3", 1000, 1, 0 },		{ "0", 1000, 0, 0 },		 { "1e", 1, 0, -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = 0;
		int rc = hg_kube_quantity(cases[i].q, strlen(cases[i].q), cases[i].scale, &v);
		if (rc != cases[i].rc || (rc == 0 && v != cases[i].want)) {
			fprintf(stderr, "quantity %s x%lld: rc %d value %lld\n", cases[i].q, (long long)cases[i].scale, rc,
				(long long)v);
			check_failures++;
		}
	}
}

static void test_broken(void)
{
	struct acc *acc = shared_acc;
	char err[256];
	size_t len;
	char *doc = slurp("kubelet-summary/nri-minikube-k8s1.35-containerd2.2-summary.json", &len);
	struct summary_parser *p = hg_summary_parser_new(NULL);
	/* Cut in the middle: an error at the end, the objects before the cut emitted. */
	CHECK_INT(parse(p, acc, NULL, doc, len / 2, 7, err, sizeof err), -1);
	CHECK(strstr(err, "summary:") != NULL);
	CHECK(lp_count(hg_acc_capture_text(acc), "kubernetes_system_container,container_name=kubelet,node_name=datagen-1-35") == 1);
	/* Not JSON (an error page): rejected at once, nothing emitted. */
	const char *bad = "Internal Server Error\n";
	CHECK_INT(parse(p, acc, NULL, bad, strlen(bad), 7, err, sizeof err), -1);
	CHECK(strstr(err, "invalid JSON") != NULL);
	CHECK_STR(hg_acc_capture_text(acc), "");
	/* A name longer than Kubernetes allows. */
	char big[600];
	memset(big, 'a', sizeof big);
	char docbig[800];
	snprintf(docbig, sizeof docbig, "{\"node\":{\"nodeName\":\"%.*s\"}}", 400, big);
	CHECK_INT(parse(p, acc, NULL, docbig, strlen(docbig), 7, err, sizeof err), -1);
	CHECK(strstr(err, "name longer") != NULL);
	/* Containers before podRef: an error, not a wrongly tagged line. */
	const char *order = "{\"pods\":[{\"containers\":[{\"name\":\"c\"}],\"podRef\":{\"name\":\"p\",\"namespace\":\"n\"}}]}";
	CHECK_INT(parse(p, acc, NULL, order, strlen(order), 7, err, sizeof err), -1);
	CHECK(strstr(err, "podRef") != NULL);
	/* No node object: the configured node name; empty document emits nothing. */
	const char *podonly = "{\"pods\":[{\"podRef\":{\"name\":\"p\",\"namespace\":\"n\"},\"network\":{\"rxBytes\":5}}]}";
	CHECK_INT(parse(p, acc, NULL, podonly, strlen(podonly), 7, err, sizeof err), 0);
	CHECK(strstr(hg_acc_capture_text(acc), "kubernetes_pod_network,namespace=n,node_name=fallback-node,pod_name=p "
					    "rx_bytes=5i,rx_errors=0i,tx_bytes=0i,tx_errors=0i") != NULL);
	CHECK_INT(parse(p, acc, NULL, "{}", 2, 7, err, sizeof err), 0);
	CHECK_STR(hg_acc_capture_text(acc), "");
	/* Huge counters clamp; floats truncate. */
	const char *nums = "{\"node\":{\"nodeName\":\"x\",\"cpu\":{\"usageNanoCores\":18446744073709551615,"
			   "\"usageCoreNanoSeconds\":12.9}}}";
	CHECK_INT(parse(p, acc, NULL, nums, strlen(nums), 7, err, sizeof err), 0);
	CHECK(strstr(hg_acc_capture_text(acc), "cpu_usage_core_nanoseconds=12i,cpu_usage_nanocores=9223372036854775807i") != NULL);
	hg_summary_parser_free(p);
	free(doc);

	/* A broken PodList is an error and hands over nothing. */
	struct label_filter none = { NULL, NULL };
	struct podlist_parser *pl = hg_podlist_parser_new(&none, NULL);
	const char *half = "{\"items\":[{\"metadata\":{\"name\":\"a\"";
	CHECK_INT(hg_podlist_parser_feed(pl, half, strlen(half), err, sizeof err), 0);
	struct pod_cache *c = NULL;
	CHECK_INT(hg_podlist_parser_end(pl, &c, err, sizeof err), -1);
	CHECK(c == NULL);
	hg_podlist_parser_free(pl);
}

static int suite_setup(void)
{
	shared_acc = hg_acc_capture_new();
	return 0;
}

static void suite_teardown(void)
{
	hg_acc_capture_free(shared_acc);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_quantities),
		CHECK_CASE(test_fixtures),
		CHECK_CASE(test_telegraf_expectations),
		CHECK_CASE(test_pod_metadata),
		CHECK_CASE(test_broken),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
