/* See lp_batch.h. */
#include "lp_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hg_lp_batch_begin(struct lp_batch_reader *r, const char *data, size_t len, int64_t now_ns)
{
	if (!r->m && !(r->m = calloc(1, sizeof(*r->m))))
		return -1;
	size_t longest = 0;
	for (const char *p = data, *end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (n > longest)
			longest = n;
		p = nl ? nl + 1 : end;
	}
	if (longest + 1 > r->scratch_cap) {
		char *s = realloc(r->scratch, longest + 1);
		if (!s)
			return -1;
		r->scratch = s;
		r->scratch_cap = longest + 1;
	}
	r->bad_lines = 0;
	r->first_error[0] = '\0';
	hg_lp_parser_init(&r->p, data, len, 1, now_ns, r->scratch, r->scratch_cap);
	return 0;
}

const struct metric *hg_lp_batch_next(struct lp_batch_reader *r)
{
	char err[160];
	for (;;) {
		int rc = hg_lp_parse_next(&r->p, r->m, err, sizeof(err));
		if (rc == 1)
			return r->m;
		if (rc == 0)
			return NULL;
		if (r->bad_lines++ == 0)
			snprintf(r->first_error, sizeof(r->first_error), "%s", err);
	}
}

void hg_lp_batch_free(struct lp_batch_reader *r)
{
	if (r->m)
		hg_metric_release(r->m);
	free(r->m);
	free(r->scratch);
	memset(r, 0, sizeof(*r));
}
