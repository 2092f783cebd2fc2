/* Layouts of the shortest digits (hg_float_shortest), as Go's strconv writes
 * them: Telegraf's influx serializer calls AppendFloat(v, 'f', -1, 64)
 * (plugins/serializers/influx/influx.go), Go's %v is 'g', -1. */
#include "float_fmt.h"
#include <math.h>
#include <string.h>

/* The digits of sig (1-17 of them), most significant first. */
static int sig_digits(uint64_t sig, char *dig)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + sig % 10);
		sig /= 10;
	} while (sig);
	for (int i = 0; i < n; i++)
		dig[i] = tmp[n - 1 - i];
	return n;
}

/* Plain decimal of nd digits with dp of them before the point (dp may be
 * <= 0 or > nd): Go's fmtF with the shortest precision. */
static size_t layout_f(char *buf, const char *dig, int nd, int dp)
{
	size_t n = 0;
	if (dp <= 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		memset(buf + n, '0', (size_t)-dp);
		n += (size_t)-dp;
		memcpy(buf + n, dig, (size_t)nd);
		return n + (size_t)nd;
	}
	if (dp >= nd) {
		memcpy(buf, dig, (size_t)nd);
		memset(buf + nd, '0', (size_t)(dp - nd));
		return (size_t)dp;
	}
	memcpy(buf, dig, (size_t)dp);
	buf[dp] = '.';
	memcpy(buf + dp + 1, dig + dp, (size_t)(nd - dp));
	return (size_t)nd + 1;
}

/* The sign, then the shortest digits of |v| and the count before the point;
 * returns the sign's length, *nd 0 for a zero. */
static size_t sign_and_digits(char *buf, double v, char *dig, int *nd, int *dp)
{
	size_t n = 0;
	if (signbit(v)) {
		buf[n++] = '-';
		v = -v;
	}
	*nd = 0;
	if (v == 0)
		return n;
	uint64_t sig;
	int e = hg_float_shortest(v, &sig);
	*nd = sig_digits(sig, dig);
	*dp = *nd + e;
	return n;
}

size_t hg_float_text_f(char *buf, double v)
{
	char dig[20];
	int nd, dp;
	size_t n = sign_and_digits(buf, v, dig, &nd, &dp);
	if (!nd) {
		buf[n] = '0';
		return n + 1;
	}
	return n + layout_f(buf + n, dig, nd, dp);
}

size_t hg_float_text_g(char *buf, double v)
{
	char dig[20];
	int nd, dp;
	size_t n = sign_and_digits(buf, v, dig, &nd, &dp);
	if (!nd) {
		buf[n] = '0';
		return n + 1;
	}
	int exp10 = dp - 1;
	if (exp10 >= -4 && exp10 < 6)
		return n + layout_f(buf + n, dig, nd, dp);
	buf[n++] = dig[0];
	if (nd > 1) {
		buf[n++] = '.';
		memcpy(buf + n, dig + 1, (size_t)nd - 1);
		n += (size_t)nd - 1;
	}
	buf[n++] = 'e';
	buf[n++] = exp10 < 0 ? '-' : '+';
	int ae = exp10 < 0 ? -exp10 : exp10;
	if (ae >= 100)
		buf[n++] = (char)('0' + ae / 100);
	buf[n++] = (char)('0' + ae / 10 % 10);
	buf[n++] = (char)('0' + ae % 10);
	return n;
}
