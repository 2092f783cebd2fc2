/* libFuzzer target for the kubernetes input's kubelet /pods (PodList)
 * streaming parser. The first byte picks the chunk size and the label
 * filter; the body is parsed once whole and once in chunks, and both caches
 * must agree (pod count, and the labels and resources of the pods the
 * fixtures name). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/kubernetes/pods.h"

static int parse(const struct label_filter *lf, const uint8_t *d, size_t n, size_t chunk, struct pod_cache **out)
{
	char err[256];
	*out = NULL;
	struct podlist_parser *pl = hg_podlist_parser_new(lf, NULL);
	if (!pl)
		abort();
	int rc = 0;
	for (size_t off = 0; off < n && rc == 0; off += chunk)
		rc = hg_podlist_parser_feed(pl, (const char *)d + off, n - off < chunk ? n - off : chunk, err, sizeof err);
	if (rc == 0)
		rc = hg_podlist_parser_end(pl, out, err, sizeof err);
	hg_podlist_parser_free(pl);
	return rc;
}

/* What a summary parse would read of pod ns/name, as text. */
static void describe(const struct pod_cache *c, const char *ns, const char *name, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%zu;", hg_pod_cache_count(c));
	const struct pod_meta *m = hg_pod_cache_find(c, ns, name);
	if (!m)
		return;
	for (size_t i = 0; i < hg_pod_meta_nlabels(c, m) && n < len; i++) {
		const char *k, *v;
		hg_pod_meta_label(c, m, i, &k, &v);
		n += (size_t)snprintf(buf + n, len - n, "%s=%s,", k, v);
	}
	struct container_res r;
	if (n < len && hg_pod_meta_container(c, m, "c", &r))
		snprintf(buf + n, len - n, "%d%d%d%d %lld %lld %lld %lld", r.has_req_cpu, r.has_req_mem, r.has_lim_cpu,
			 r.has_lim_mem, (long long)r.req_cpu_m, (long long)r.req_mem, (long long)r.lim_cpu_m,
			 (long long)r.lim_mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *inc[] = { "*" }, *exc[] = { "x*" };
	static struct strlist include = { 1, inc }, exclude = { 1, exc };
	if (size < 1)
		return 0;
	struct label_filter lf = { data[0] & 1 ? &include : NULL, data[0] & 2 ? &exclude : NULL };
	size_t chunk = (size_t)(data[0] >> 2) + 1;
	struct pod_cache *a, *b;
	int ra = parse(&lf, data + 1, size - 1, size, &a);
	int rb = parse(&lf, data + 1, size - 1, chunk, &b);
	bool same = ra == rb && (a == NULL) == (b == NULL);
	if (same && a) {
		static const char *const names[][2] = { { "n", "p" }, { "foons", "foopod" }, { "kube-system", "" } };
		for (size_t i = 0; i < sizeof names / sizeof names[0] && same; i++) {
			char da[2048], db[2048];
			describe(a, names[i][0], names[i][1], da, sizeof da);
			describe(b, names[i][0], names[i][1], db, sizeof db);
			same = strcmp(da, db) == 0;
		}
	}
	hg_pod_cache_free(a);
	hg_pod_cache_free(b);
	if (!same) {
		fprintf(stderr, "chunking changed the result: rc %d/%d\n", ra, rb);
		abort();
	}
	return 0;
}
