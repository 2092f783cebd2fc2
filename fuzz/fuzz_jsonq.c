/* libFuzzer target for agentctl's reader of API answers (jsonq): parse,
 * then every accessor the commands use, on paths they use. A tree must
 * equal itself and an independent parse of the same text. The first byte
 * picks the skip list of hg_jq_equal_except. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../agentctl/jsonq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *body = malloc(size);
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	char err[256];
	yajl_val v = hg_jq_parse(body, err, sizeof err);
	yajl_val w = hg_jq_parse(body, err, sizeof err);
	if ((v == NULL) != (w == NULL))
		abort();
	if (v) {
		if (!hg_jq_equal(v, w) || !hg_jq_equal(v, v))
			abort();
		static const char *const skip[][3] = { { NULL }, { "metadata", NULL }, { "status", "kind", NULL } };
		if (!hg_jq_equal_except(v, w, skip[data[0] % 3]))
			abort();
		(void)hg_jq_str(v, "kind", JQ_END);
		(void)hg_jq_str(v, "metadata", "name", JQ_END);
		(void)hg_jq_int(v, -1, "status", "readyReplicas", JQ_END);
		(void)hg_jq_int(v, -1, "code", JQ_END);
		(void)hg_jq_at(v, "details", "causes", JQ_END);
		yajl_val items = hg_jq_at(v, "items", JQ_END);
		size_t n = hg_jq_len(items);
		for (size_t i = 0; i <= n && i < 64; i++) {
			yajl_val it = hg_jq_item(items, i);
			if ((it == NULL) != (i == n))
				abort();
			(void)hg_jq_str(it, "metadata", "namespace", JQ_END);
			(void)hg_jq_int(it, 0, "spec", "replicas", JQ_END);
		}
		if (hg_jq_len(v) > 0 && !hg_jq_item(v, 0))
			abort();
	}
	yajl_tree_free(v);
	yajl_tree_free(w);
	free(body);
	return 0;
}
