/* One hexadecimal digit's value, for the parsers that read hex text: HTTP
 * chunk sizes, percent-encoded query strings, /proc/net's socket states. */
#ifndef HG_HEX_H
#define HG_HEX_H

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
