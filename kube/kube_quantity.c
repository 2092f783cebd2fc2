/* Quantity parsing: decimal mantissa, then a decimal exponent (e3), a
 * binary suffix (Ki..Ei) or a decimal one (n..E); exact integer arithmetic
 * in 128 bits, so no float rounding decides a byte or a millicore. */
#include "kube_quantity.h"

#include <stdbool.h>
#include <string.h>

int hg_kube_quantity_scaled(const char *s, size_t n, int64_t scale, enum kube_round round, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	__int128 mant = 0;
	int digits = 0, frac = 0;
	bool dot = false;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			break;
		if (++digits > 30)
			return -1;
		mant = mant * 10 + (s[i] - '0');
		if (dot)
			frac++;
	}
	if (digits == 0)
		return -1;
	int exp10 = 0, exp2 = 0;
	const char *suf = s + i;
	size_t sl = n - i;
	if (sl >= 2 && (suf[0] == 'e' || suf[0] == 'E') &&
	    (suf[1] == '-' || suf[1] == '+' || (suf[1] >= '0' && suf[1] <= '9'))) {
		size_t j = 1;
		bool eneg = false;
		if (suf[j] == '-' || suf[j] == '+')
			eneg = suf[j++] == '-';
		if (j >= sl)
			return -1;
		for (; j < sl; j++) {
			if (suf[j] < '0' || suf[j] > '9' || exp10 > 1000)
				return -1;
			exp10 = exp10 * 10 + (suf[j] - '0');
		}
		if (eneg)
			exp10 = -exp10;
	} else if (sl == 2 && suf[1] == 'i') {
		static const char bin[] = "KMGTPE";
		const char *b = memchr(bin, suf[0], 6);
		if (!b)
			return -1;
		exp2 = 10 * (int)(b - bin + 1);
	} else if (sl == 1) {
		switch (suf[0]) {
		case 'n': exp10 = -9; break;
		case 'u': exp10 = -6; break;
		case 'm': exp10 = -3; break;
		case 'k': exp10 = 3; break;
		case 'M': exp10 = 6; break;
		case 'G': exp10 = 9; break;
		case 'T': exp10 = 12; break;
		case 'P': exp10 = 15; break;
		case 'E': exp10 = 18; break;
		default: return -1;
		}
	} else if (sl != 0) {
		return -1;
	}
	exp10 -= frac;
	/* mant < 10^30 < 2^100; keep every product below 2^126. */
	const __int128 lim = (__int128)1 << 100;
	__int128 v = mant * scale;
	if (mant != 0 && v / mant != scale)
		return -1;
	for (int k = 0; k < exp2; k++)
		if ((v <<= 1) > lim)
			return -1;
	for (; exp10 > 0; exp10--)
		if ((v *= 10) > lim)
			return -1;
	if (exp10 < 0) {
		__int128 d = 1;
		for (; exp10 < 0 && d <= lim; exp10++)
			d *= 10;
		v = v / d + (round == KUBE_ROUND_UP && v % d != 0);
	}
	if (v > INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int hg_kube_quantity(const char *s, size_t n, int64_t scale, int64_t *out)
{
	return hg_kube_quantity_scaled(s, n, scale, KUBE_ROUND_UP, out);
}
