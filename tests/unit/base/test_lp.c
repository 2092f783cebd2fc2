/* Targeted tests of the line protocol serializer and parser: escaping, tag
 * sorting, number formats, dropped fields, buffer limits, precision, and
 * the parser's views, errors and line handling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "lp.h"

static struct metric m;
static char out[4096];

static const char *ser(const struct lp_opts *o, struct lp_stats *st)
{
	long n = hg_lp_serialize(&m, o, out, sizeof out - 1, st);
	if (n < 0)
		snprintf(out, sizeof out, "ERR %ld", n);
	else
		out[n] = 0; /* the serializer does not terminate */
	return out;
}

static const struct lp_opts NS = { .precision_ns = 1, .uint_support = true };

static const char *float_text(double v)
{
	hg_metric_reset(&m, sv_c("m"));
	hg_metric_float(&m, "v", v);
	ser(&NS, NULL);
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	return out + 4; /* after "m v=" */
}

static void test_floats(void)
{
	CHECK_STR(float_text(1), "1");
	CHECK_STR(float_text(-0.64), "-0.64");
	CHECK_STR(float_text(0.1), "0.1");
	CHECK_STR(float_text(0.1 + 0.2), "0.30000000000000004");
	CHECK_STR(float_text(12.123), "12.123");
	CHECK_STR(float_text(123456), "123456");
	/* As Telegraf's influx serializer: Go's FormatFloat(v, 'f', -1, 64),
	 * never an exponent (the corpus's reference encoder writes 'g'). */
	CHECK_STR(float_text(6632243), "6632243");
	CHECK_STR(float_text(1234567.5), "1234567.5");
	CHECK_STR(float_text(1e21), "1000000000000000000000");
	CHECK_STR(float_text(1e-5), "0.00001");
	CHECK_STR(float_text(0.0001), "0.0001");
	CHECK_STR(float_text(100), "100");
	CHECK_STR(float_text(0), "0");
	CHECK_STR(float_text(-0.0), "-0");
	/* 5e-324: "0.", 323 zeros, 5; DBL_MAX: 17 digits, 292 zeros; -2.5e-300: "-0.", 299 zeros, 25. */
	char want[400];
	snprintf(want, sizeof want, "0.%0324d", 5);
	CHECK_STR(float_text(5e-324), want);
	snprintf(want, sizeof want, "17976931348623157%0292d", 0);
	CHECK_STR(float_text(1.7976931348623157e308), want);
	snprintf(want, sizeof want, "-0.%0301d", 25);
	CHECK_STR(float_text(-2.5e-300), want);
}

static void test_escaping(void)
{
	hg_metric_reset(&m, sv_c("cpu load,x=y"));
	hg_metric_tag(&m, "ho st,=", "a b,c=d");
	hg_metric_float(&m, "f k,=", 1);
	hg_metric_string(&m, "s", "say \"hi\" \\ back");
	CHECK_STR(ser(&NS, NULL), "cpu\\ load\\,x=y,ho\\ st\\,\\==a\\ b\\,c\\=d f\\ k\\,\\==1,s=\"say \\\"hi\\\" \\\\ back\"\n");

	/* No raw newline ever: buffers split records on '\n'. */
	hg_metric_reset(&m, sv_c("a\nb"));
	hg_metric_tag(&m, "k\n", "v\nw");
	hg_metric_string(&m, "s", "l1\nl2");
	CHECK_STR(ser(&NS, NULL), "a\\nb,k\\n=v\\nw s=\"l1\\nl2\"\n");

	/* A backslash stays as is, except a trailing one, which would escape
	 * the separator after it. */
	hg_metric_reset(&m, sv_c("m\\"));
	hg_metric_tag(&m, "k", "C:\\dir\\");
	hg_metric_tag(&m, "e", "\\");
	hg_metric_int(&m, "f\\x", 1);
	CHECK_STR(ser(&NS, NULL), "m,k=C:\\dir f\\x=1i\n");
}

static void test_sorting(void)
{
	hg_metric_reset(&m, sv_c("m"));
	hg_metric_tag(&m, "zone", "1");
	hg_metric_tag(&m, "B", "2");
	hg_metric_tag(&m, "a", "3");
	hg_metric_tag(&m, "ab", "4");
	hg_metric_tag(&m, "empty", "");
	hg_metric_tag(&m, "", "nokey");
	hg_metric_int(&m, "v", 1);
	CHECK_STR(ser(&NS, NULL), "m,B=2,a=3,ab=4,zone=1 v=1i\n");
	/* the metric itself keeps its order */
	CHECK(sv_eq_c(m.tags[0].key, "zone"));
}

static void test_types(void)
{
	hg_metric_reset(&m, sv_c("m"));
	hg_metric_int(&m, "i", INT64_MIN);
	hg_metric_uint(&m, "u", UINT64_MAX);
	hg_metric_uint(&m, "small", 5);
	hg_metric_bool(&m, "t", true);
	hg_metric_bool(&m, "f", false);
	CHECK_STR(ser(&NS, NULL), "m i=-9223372036854775808i,u=18446744073709551615u,small=5u,t=true,f=false\n");
	struct lp_opts v1 = { .precision_ns = 1, .uint_support = false };
	CHECK_STR(ser(&v1, NULL), "m i=-9223372036854775808i,u=9223372036854775807i,small=5i,t=true,f=false\n");
}

static void test_dropped(void)
{
	struct lp_stats st = { 0 };
	hg_metric_reset(&m, sv_c("m"));
	hg_metric_float(&m, "nan", NAN);
	hg_metric_float(&m, "ok", 2.5);
	hg_metric_float(&m, "inf", INFINITY);
	hg_metric_float(&m, "ninf", -INFINITY);
	CHECK_STR(ser(&NS, &st), "m ok=2.5\n");
	CHECK_INT(st.dropped_fields, 3);

	hg_metric_reset(&m, sv_c("m"));
	hg_metric_float(&m, "nan", NAN);
	CHECK_INT(hg_lp_serialize(&m, &NS, out, sizeof out, &st), -EINVAL);
	CHECK_INT(st.dropped_fields, 4);
	hg_metric_reset(&m, sv_c("m"));
	CHECK_INT(hg_lp_serialize(&m, &NS, out, sizeof out, &st), -EINVAL);
	hg_metric_reset(&m, sv_c(""));
	hg_metric_int(&m, "v", 1);
	CHECK_INT(hg_lp_serialize(&m, &NS, out, sizeof out, &st), -EINVAL);
}

static void test_enospc(void)
{
	hg_metric_reset(&m, sv_c("cpu"));
	hg_metric_tag(&m, "host", "a");
	hg_metric_float(&m, "v", 1.5);
	m.time_ns = 42;
	const char *want = "cpu,host=a v=1.5 42\n";
	size_t len = strlen(want);
	for (size_t cap = 0; cap < len; cap++) {
		memset(out, 'X', sizeof out);
		CHECK_INT(hg_lp_serialize(&m, &NS, out, cap, NULL), -ENOSPC);
		CHECK(out[cap] == 'X'); /* never writes past cap */
	}
	CHECK_INT(hg_lp_serialize(&m, &NS, out, len, NULL), (long)len);
	CHECK(memcmp(out, want, len) == 0);
}

static void test_precision(void)
{
	hg_metric_reset(&m, sv_c("m"));
	hg_metric_int(&m, "v", 1);
	m.time_ns = 1600000000123456789;
	struct lp_opts o = { .precision_ns = 1 };
	CHECK_STR(ser(&o, NULL), "m v=1i 1600000000123456789\n");
	o.precision_ns = 1000;
	CHECK_STR(ser(&o, NULL), "m v=1i 1600000000123456\n");
	o.precision_ns = 1000000;
	CHECK_STR(ser(&o, NULL), "m v=1i 1600000000123\n");
	o.precision_ns = 1000000000;
	CHECK_STR(ser(&o, NULL), "m v=1i 1600000000\n");
	/* before 1970: rounded down, like Go's time.Truncate */
	m.time_ns = -1500000000;
	CHECK_STR(ser(&o, NULL), "m v=1i -2\n");
	m.time_ns = 0;
	CHECK_STR(ser(&o, NULL), "m v=1i\n");
	/* an explicit epoch timestamp, as the agent's outputs write it */
	o.zero_time_explicit = true;
	CHECK_STR(ser(&o, NULL), "m v=1i 0\n");
	m.time_ns = -1;
	CHECK_STR(ser(&o, NULL), "m v=1i -1\n");
}

/* ---- parser ---- */

static char scratch[256];

static void test_parse_basic(void)
{
	const char *in = "# comment\n\n  cpu,host=a,region=us\\ west usage=0.5,n=3i,u=7u,ok=T,s=\"q\\\"x\" 1600000000\r\n"
			 "mem free=1\n";
	struct lp_parser p;
	char err[128];
	hg_lp_parser_init(&p, in, strlen(in), 1000000000, 1700000000123456789, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(p.line, 3);
	CHECK(sv_eq_c(m.name, "cpu"));
	CHECK(m.name.p >= in && m.name.p < in + strlen(in)); /* a view into the input */
	CHECK_INT(m.ntags, 2);
	CHECK(sv_eq_c(m.tags[1].value, "us west"));
	CHECK(m.tags[1].value.p >= scratch && m.tags[1].value.p < scratch + sizeof scratch); /* unescaped copy */
	CHECK(m.tags[0].value.p > in);
	CHECK_INT(m.nfields, 5);
	CHECK(m.fields[0].type == FIELD_FLOAT && m.fields[0].v.f == 0.5);
	CHECK(m.fields[1].type == FIELD_INT && m.fields[1].v.i == 3);
	CHECK(m.fields[2].type == FIELD_UINT && m.fields[2].v.u == 7);
	CHECK(m.fields[3].type == FIELD_BOOL && m.fields[3].v.b);
	CHECK(m.fields[4].type == FIELD_STRING && sv_eq_c(m.fields[4].v.s, "q\"x"));
	CHECK_INT(m.time_ns, 1600000000000000000);
	CHECK(p.line_len == strlen("cpu,host=a,region=us\\ west usage=0.5,n=3i,u=7u,ok=T,s=\"q\\\"x\" 1600000000"));

	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(p.line, 4);
	CHECK(sv_eq_c(m.name, "mem"));
	/* default time, truncated to the precision */
	CHECK_INT(m.time_ns, 1700000000000000000);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 0);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 0);
}

static void test_parse_bools(void)
{
	const char *in = "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE";
	struct lp_parser p;
	char err[128];
	hg_lp_parser_init(&p, in, strlen(in), 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(m.nfields, 10);
	for (size_t i = 0; i < m.nfields; i++) {
		CHECK(m.fields[i].type == FIELD_BOOL);
		CHECK(m.fields[i].v.b == (i < 5));
	}
	const char *bad = "m a=tRUE";
	hg_lp_parser_init(&p, bad, strlen(bad), 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
}

static void test_parse_errors(void)
{
	const char *in = "ok v=1\n"
			 "bad,host v=1\n"
			 "m v=1i2\n"
			 "m,a=1,a=2 v=1\n"
			 "m v=1 12x\n"
			 "m v=18446744073709551616u\n"
			 "m v=\"multi\nline\" 5\n"
			 "m v=-1u\n"
			 "m v=NaN\n"
			 "last v=2\n";
	struct lp_parser p;
	char err[128];
	hg_lp_parser_init(&p, in, strlen(in), 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 2:9: expected '=' after tag key, found ' '");
	CHECK_INT(p.line, 2);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strncmp(err, "at line 3:5: ", 13) == 0);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 4:7: duplicate tag key");
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 5:7: invalid timestamp");
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 6:5: value out of range");
	/* a quoted string may span lines; the count stays right after it */
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(p.line, 7);
	CHECK(sv_eq_c(m.fields[0].v.s, "multi\nline"));
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 9:5: invalid unsigned integer value syntax");
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_STR(err, "at line 10:5: field value has unrecognized type");
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK(sv_eq_c(m.name, "last"));
	CHECK_INT(p.line, 11);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 0);
}

static void test_parse_limits(void)
{
	struct lp_parser p;
	char err[128], tiny[4];
	/* unescaping needs scratch; too little is an error, not an overflow */
	const char *in = "m,k=a\\ b\\ c v=1\nm v=1\n";
	hg_lp_parser_init(&p, in, strlen(in), 1, 0, tiny, sizeof tiny);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strstr(err, "scratch") != NULL);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	hg_lp_parser_init(&p, in, strlen(in), 1, 0, NULL, 0);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);

	/* the timestamp times the precision must fit in int64 */
	const char *big = "m v=1 9223372037\nm v=1 9223372036\n";
	hg_lp_parser_init(&p, big, strlen(big), 1000000000, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(m.time_ns, 9223372036000000000);

	/* more tags than a metric holds */
	static char line[METRIC_MAX_TAGS * 10 + 64];
	size_t n = (size_t)snprintf(line, sizeof line, "m");
	for (int i = 0; i <= METRIC_MAX_TAGS; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, ",t%d=v", i);
	n += (size_t)snprintf(line + n, sizeof line - n, " v=1");
	hg_lp_parser_init(&p, line, n, 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strstr(err, "more than 16384 tags") != NULL);
	/* exactly as many: taken (InfluxDB has no tag count limit short of
	 * its 64 KiB series key) */
	n = (size_t)snprintf(line, sizeof line, "m");
	for (int i = METRIC_MAX_TAGS; i-- > 0;) /* reverse order: the parser sorts them to find duplicates */
		n += (size_t)snprintf(line + n, sizeof line - n, ",t%05d=v", i);
	n += (size_t)snprintf(line + n, sizeof line - n, " v=1");
	hg_lp_parser_init(&p, line, n, 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(m.ntags, METRIC_MAX_TAGS);
	CHECK(p.tags_sorted);
	static char out2[METRIC_MAX_TAGS * 10 + 64];
	/* unsorted beyond the serializer's stack index: refused, not misordered */
	struct metric_tag t0 = m.tags[0];
	m.tags[0] = m.tags[1];
	m.tags[1] = t0;
	CHECK_INT(hg_lp_serialize(&m, &NS, out2, sizeof out2, NULL), -EINVAL);
	hg_metric_sort_tags(&m);
	long len = hg_lp_serialize(&m, &NS, out2, sizeof out2, NULL);
	CHECK(len > 0 && strncmp(out2, "m,t00000=v,t00001=v,", 20) == 0);
	CHECK(len > 0 && strstr(out2, ",t16382=v,t16383=v v=1\n") != NULL);
	/* a duplicate after keys out of order is still found */
	const char *dupt = "m,b=1,a=1,b=2 v=1\nm,a=1,b=1,c=1,b=2 v=1\n";
	hg_lp_parser_init(&p, dupt, strlen(dupt), 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strstr(err, "duplicate tag key") != NULL);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strstr(err, "duplicate tag key") != NULL);
	CHECK(!p.tags_sorted);
	/* ... and past the linear search, by the parser's sort */
	n = (size_t)snprintf(line, sizeof line, "m");
	for (int i = 100; i-- > 0;)
		n += (size_t)snprintf(line + n, sizeof line - n, ",t%05d=v", i);
	n += (size_t)snprintf(line + n, sizeof line - n, ",t00042=w v=1");
	hg_lp_parser_init(&p, line, n, 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), -1);
	CHECK(strstr(err, "duplicate tag key") != NULL);

	/* a repeated field key keeps the last value */
	const char *dup = "m v=1,w=2,v=3";
	hg_lp_parser_init(&p, dup, strlen(dup), 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK_INT(m.nfields, 2);
	CHECK(m.fields[0].v.f == 3);

	/* the parser never reads past len: no NUL needed */
	char unterminated[5] = { 'm', ' ', 'v', '=', '1' };
	hg_lp_parser_init(&p, unterminated, sizeof unterminated, 1, 0, scratch, sizeof scratch);
	CHECK_INT(hg_lp_parse_next(&p, &m, err, sizeof err), 1);
	CHECK(m.fields[0].v.f == 1);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_floats),
		CHECK_CASE(test_escaping),
		CHECK_CASE(test_sorting),
		CHECK_CASE(test_types),
		CHECK_CASE(test_dropped),
		CHECK_CASE(test_enospc),
		CHECK_CASE(test_precision),
		CHECK_CASE(test_parse_basic),
		CHECK_CASE(test_parse_bools),
		CHECK_CASE(test_parse_errors),
		CHECK_CASE(test_parse_limits),
	};
	return CHECK_RUN(argc, argv, cases);
}
