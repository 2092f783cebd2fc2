/* libFuzzer target for what agentctl deploy-check reads from outside: the
 * JSON answer of InfluxDB's /query (influx_answer), with every accessor the
 * check uses on every series, row and column, and (first byte odd) the
 * --error-rate expression parser. A parsed answer's shape is what the
 * accessors rely on: rows as long as the columns, string tags and column
 * names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../agentctl/deploy_check.h"
#include "../agentctl/influx_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *body = malloc(size);
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	char err[512];
	if (data[0] & 1) {
		struct dc_rate r;
		if (hg_dc_rate_parse(body, data[0] & 2 ? 2 : 1, &r, err, sizeof err) == 0) {
			if (!r.num.measurement[0] || !r.den.field[0] || strlen(r.num.where) >= sizeof r.num.where)
				abort();
		} else if (!err[0]) {
			abort();
		}
		free(body);
		return 0;
	}
	struct influx_answer a;
	if (hg_influx_answer_parse(body, &a, err, sizeof err) == 0) {
		for (size_t i = 0; i < a.nseries; i++) {
			const struct ia_series *s = &a.series[i];
			(void)hg_ia_tag(s, "pod_name");
			(void)hg_ia_tag(s, "container_name");
			int t = hg_ia_col(s, "time");
			for (size_t row = 0; row <= s->nrows; row++) {
				for (int c = -1; c <= (int)s->ncols && c < 64; c++) {
					double v;
					int64_t n;
					bool num = hg_ia_num(s, row, c, &v);
					const char *str = hg_ia_str(s, row, c);
					if ((num && str) || ((row == s->nrows || c < 0 || c == (int)s->ncols) && (num || str)))
						abort();
					(void)hg_ia_int(s, row, t, &n);
				}
			}
		}
		hg_influx_answer_free(&a);
	} else if (!err[0] || a.root || a.series) {
		abort();
	}
	free(body);
	return 0;
}
