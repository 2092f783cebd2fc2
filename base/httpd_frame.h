/* Strict HTTP/1.1 framing checks, run on the bytes before http-parser sees
 * them (httpd_parse.c). */
#ifndef HG_HTTPD_FRAME_H
#define HG_HTTPD_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* http-parser (built without HTTP_PARSER_STRICT, as Debian's is) takes bare
 * LF line ends, folded header lines and blanks inside a header name. A
 * proxy in front of us may read such a head differently (a folded
 * Transfer-Encoding, "Content-Length :"), which is how requests are
 * smuggled, so the head is checked byte by byte before http-parser sees it
 * and refused with 400, as RFC 9112 servers do. */
struct head_scan {
	bool done;       /* the empty line ending the head was seen */
	bool past_start; /* the request line is over: lines are header fields */
	bool cr;         /* the last byte was CR */
	bool in_name;    /* before the first ':' of a header line */
	size_t line_len; /* bytes of the current line, CR not counted */
};

/* The same strictness for a chunked body's framing, which http-parser
 * (not strict) also takes with bare LF: each chunk-size line, the CRLF
 * after each chunk's data and the trailer lines must end in CRLF. */
enum chunk_state {
	CS_SIZE0,   /* the first hex digit of a chunk size */
	CS_SIZE,    /* more hex digits, an extension, or CR */
	CS_EXT,     /* a chunk extension, up to CR */
	CS_SIZE_LF, /* the LF after a size line's CR */
	CS_DATA,    /* remaining bytes of chunk data */
	CS_DATA_CR, CS_DATA_LF,
	CS_TRAILER0, /* the start of a trailer line (CR: the end) */
	CS_TRAILER, CS_TRAILER_LF, CS_END_LF,
	CS_DONE,
};
struct chunk_scan {
	enum chunk_state st;
	uint64_t left; /* of the current chunk's data */
};

/* Scans n more bytes of a request head: 0, with *end set past the empty
 * line once the head is complete (else n); -1 for a head to refuse (400). */
int hg_httpd_scan_head(struct head_scan *sc, const char *d, size_t n, size_t *end);
/* Scans n more bytes of a chunked body: 0, or -1 for framing to refuse (400). */
int hg_httpd_scan_chunks(struct chunk_scan *cs, const char *d, size_t n);

#endif
