/* gzip_body: one request body compressed with gzip, for the HTTP outputs
 * (InfluxDB line protocol, protobuf over HTTP). The stream is kept between
 * requests and reset for each, so a flush allocates nothing once the output
 * buffer has grown to the largest body. */
#ifndef HG_GZIP_BODY_H
#define HG_GZIP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <zlib.h>

struct gzip_body {
	z_stream z;
	bool ready; /* z initialised: deflateEnd owed */
};

/* Compress in[0..len) into *buf (grown with realloc to deflateBound, *cap its
 * size); *outlen is the gzip member's length. 0, or -1 with err filled
 * ("gzip: ..."). */
int hg_gzip_body_compress(struct gzip_body *g, const void *in, size_t len, char **buf, size_t *cap, size_t *outlen,
			  char *err, size_t errlen);

/* Release the stream; the buffer stays the caller's. */
void hg_gzip_body_free(struct gzip_body *g);

#endif
