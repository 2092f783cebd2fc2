/* Query parameters of a request (httpd.h): found by name, percent- and
 * plus-decoded as HTML forms and InfluxDB's clients encode them. */
#include <string.h>
#include "hex.h"
#include "httpd.h"

bool hg_httpd_query_param(struct sv query, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = query.p, *end = query.p + query.len;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		if ((size_t)(pe - p) >= nl && memcmp(p, name, nl) == 0 && (p + nl == pe || p[nl] == '=')) {
			size_t o = 0;
			for (const char *q = p + nl + (p + nl < pe); q < pe && o + 1 < outlen; q++) {
				int h, l;
				if (*q == '%' && q + 2 < pe && (h = hex_digit(q[1])) >= 0 && (l = hex_digit(q[2])) >= 0) {
					out[o++] = (char)(h * 16 + l);
					q += 2;
				} else {
					out[o++] = *q == '+' ? ' ' : *q;
				}
			}
			if (outlen)
				out[o] = 0;
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	return false;
}
