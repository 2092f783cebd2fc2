/* The slow exact shortest round trip, to check hg_float_shortest against: only
 * the C library's correctly rounded printf and strtod, no shared code.
 *
 * Reading back as v is true of every p-digit decimal in v's rounding
 * interval; if some p-digit decimal is, the two that bracket v include one
 * (any other is farther out on the same side), and the correctly rounded
 * one (%.*e) is the closer of the two. So at p digits: the correctly rounded
 * decimal if it reads back, else its neighbour on the other side of v if
 * that does (an interval at a power of two is narrower below v than above,
 * so the closer may miss where the farther hits). A p-digit answer gives a
 * (p+1)-digit one (append a zero), so the fewest digits are found by
 * bisection over p in 1..17 (17 digits always read back). */
#ifndef HG_FLOAT_EXACT_H
#define HG_FLOAT_EXACT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The p-digit decimal d * 10^q that reads back as v (v > 0, finite), if any. */
static bool exact_at(double v, int p, uint64_t *d, int *q)
{
	char buf[64], *e;
	snprintf(buf, sizeof buf, "%.*e", p - 1, v);
	uint64_t m = 0;
	for (e = buf; *e != 'e'; e++)
		if (*e != '.')
			m = m * 10 + (uint64_t)(*e - '0');
	int x = atoi(e + 1) - (p - 1);
	double back = strtod(buf, NULL);
	if (back == v) {
		*d = m, *q = x;
		return true;
	}
	uint64_t pow = 1;
	for (int i = 1; i < p; i++)
		pow *= 10;
	if (back < v) { /* the neighbour above */
		m++;
		if (m == pow * 10)
			m = pow, x++;
	} else if (m == pow) { /* below 10^(p-1) * 10^x the step is ten times finer */
		m = pow * 10 - 1, x--;
	} else {
		m--;
	}
	snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)m, x);
	if (strtod(buf, NULL) != v)
		return false;
	*d = m, *q = x;
	return true;
}

/* hg_float_shortest's contract, the slow way: digits without trailing zeros. */
static int exact_shortest(double v, uint64_t *sig)
{
	int lo = 1, hi = 17; /* hi always reads back */
	uint64_t d;
	int q;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (exact_at(v, mid, &d, &q))
			hi = mid;
		else
			lo = mid + 1;
	}
	exact_at(v, lo, &d, &q);
	while (d % 10 == 0)
		d /= 10, q++;
	*sig = d;
	return q;
}
#endif
