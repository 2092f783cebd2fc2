/* gzip_body: see gzip_body.h. */
#include "gzip_body.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int hg_gzip_body_compress(struct gzip_body *g, const void *in, size_t len, char **buf, size_t *cap, size_t *outlen,
			  char *err, size_t errlen)
{
	int zrc;
	if (!g->ready) {
		/* Level 1: on a 1-vCPU node CPU is dearer than the few percent of
		 * ratio the higher levels buy on line protocol or protobuf.
		 * 15+16 = gzip framing. */
		zrc = deflateInit2(&g->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		if (zrc != Z_OK) {
			snprintf(err, errlen, "gzip: %s", zError(zrc));
			return -1;
		}
		g->ready = true;
	} else {
		deflateReset(&g->z);
	}
	/* zlib counts in uInt: keep the input and its bound within it. */
	if (len > UINT32_MAX / 2) {
		snprintf(err, errlen, "gzip: %zu bytes is too large for one request", len);
		return -1;
	}
	size_t need = deflateBound(&g->z, (uLong)len);
	if (need > *cap) {
		char *nb = realloc(*buf, need);
		if (!nb) {
			snprintf(err, errlen, "gzip: out of memory for %zu bytes", need);
			return -1;
		}
		*buf = nb;
		*cap = need;
	}
	g->z.next_in = (Bytef *)(uintptr_t)in;
	g->z.avail_in = (uInt)len;
	g->z.next_out = (Bytef *)*buf;
	g->z.avail_out = (uInt)*cap;
	zrc = deflate(&g->z, Z_FINISH);
	if (zrc != Z_STREAM_END) {
		snprintf(err, errlen, "gzip: %s", zError(zrc));
		return -1;
	}
	*outlen = g->z.total_out;
	return 0;
}

void hg_gzip_body_free(struct gzip_body *g)
{
	if (g->ready)
		deflateEnd(&g->z);
	g->ready = false;
}
