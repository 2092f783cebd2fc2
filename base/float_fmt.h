/* Double to text, shortest round trip: the fewest significant digits that
 * read back (strtod, Go's ParseFloat) as the same double, and among those the
 * closest to it. The digits come from Dragonbox (base/hg_float_shortest.cc);
 * the two layouts are Go's strconv.FormatFloat(v, 'f', -1, 64), which
 * Telegraf's influx serializer writes, and (v, 'g', -1, 64), which Go's %v
 * and so Telegraf's prometheus input write. */
#ifndef HG_FLOAT_FMT_H
#define HG_FLOAT_FMT_H
#include <stddef.h>
#include <stdint.h>

/* The longest 'f' text: a sign, "0.", 323 zeros and up to 17 digits
 * (the smallest subnormals), or a sign and 309 digits (DBL_MAX). */
#define FLOAT_TEXT_F_MAX 344
/* The longest 'g' text: "-1.2345678901234567e-308". */
#define FLOAT_TEXT_G_MAX 32

/* v finite, non-zero and positive: the shortest digits as an integer of
 * 1-17 digits without trailing zeros, and its power of ten:
 * v reads back from sig * 10^return. */
int hg_float_shortest(double v, uint64_t *sig);

/* 'f', -1: plain decimal, never an exponent ("1000000", "0.00001",
 * "-0", 1e21 as 22 digits). v finite; buf holds FLOAT_TEXT_F_MAX. No NUL. */
size_t hg_float_text_f(char *buf, double v);

/* 'g', -1: the exponent form when the decimal exponent is < -4 or >= 6
 * ("1e+06", "1e-05", "123456", "0.0001"), at least two exponent digits.
 * v finite; buf holds FLOAT_TEXT_G_MAX. No NUL. */
size_t hg_float_text_g(char *buf, double v);

#endif
