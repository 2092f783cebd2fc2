#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "filter.h"

#define LIST(...) ((struct strlist){ sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *), (char *[]){ __VA_ARGS__ } })

static struct metric M;

/* cpu,cpu=cpu0,host=a,fstype=ext4 usage_idle=1,usage_user=2,time_x=3 */
static struct metric *cpu(void)
{
	hg_metric_reset(&M, sv_c("cpu"));
	hg_metric_tag(&M, "cpu", "cpu0");
	hg_metric_tag(&M, "host", "a");
	hg_metric_tag(&M, "fstype", "ext4");
	hg_metric_float(&M, "usage_idle", 1);
	hg_metric_float(&M, "usage_user", 2);
	hg_metric_int(&M, "time_x", 3);
	return &M;
}

static void test_empty(void)
{
	struct metric_filter f = { 0 };
	CHECK(hg_filter_is_empty(&f));
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.nfields, 3);
	CHECK_INT(M.ntags, 3);
	f.tagdrop.n = 1;
	CHECK(!hg_filter_is_empty(&f));
}

static void test_name(void)
{
	struct metric_filter f = { 0 };
	f.namepass = LIST("mem", "cp?");
	CHECK(hg_filter_apply(&f, cpu()));
	f.namepass = LIST("mem", "disk*");
	CHECK(!hg_filter_apply(&f, cpu()));

	f = (struct metric_filter){ 0 };
	f.namedrop = LIST("c*");
	CHECK(!hg_filter_apply(&f, cpu()));
	f.namedrop = LIST("cpux", "[a-b]pu");
	CHECK(hg_filter_apply(&f, cpu()));

	/* namedrop is tested after namepass: both must agree */
	f.namepass = LIST("*");
	f.namedrop = LIST("cpu");
	CHECK(!hg_filter_apply(&f, cpu()));

	/* '*' crosses '/' and '.': no FNM_PATHNAME semantics */
	hg_metric_reset(&M, sv_c("a/b.c"));
	hg_metric_int(&M, "v", 1);
	f = (struct metric_filter){ 0 };
	f.namepass = LIST("a*c");
	CHECK(hg_filter_apply(&f, &M));

	/* a view is not NUL-terminated: only its length counts */
	const char text[] = "cpu_total";
	CHECK(hg_filter_name_matches(&LIST("cpu"), (struct sv){ text, 3 }));
	CHECK(!hg_filter_name_matches(&LIST("cpu"), (struct sv){ text, 9 }));
	CHECK(!hg_filter_name_matches(&(struct strlist){ 0 }, sv_c("cpu")));
}

static void test_tagpass_tagdrop(void)
{
	char *keys[] = { "cpu", "path" };
	struct strlist globs[] = { LIST("cpu1", "cpu2"), LIST("/opt", "/home*") };
	struct metric_filter f = { 0 };
	f.tagpass = (struct tagfilter){ 2, keys, globs };
	CHECK(!hg_filter_apply(&f, cpu())); /* cpu0 not listed, no path tag */
	cpu();
	hg_metric_tag(&M, "path", "/home/u");
	CHECK(hg_filter_apply(&f, &M)); /* any key matching is enough (OR) */
	cpu();
	hg_metric_tag(&M, "cpu", "cpu2");
	CHECK(hg_filter_apply(&f, &M));

	f = (struct metric_filter){ 0 };
	f.tagdrop = (struct tagfilter){ 2, keys, globs };
	CHECK(hg_filter_apply(&f, cpu()));
	cpu();
	hg_metric_tag(&M, "path", "/opt");
	CHECK(!hg_filter_apply(&f, &M));

	/* tagdrop is tested after tagpass */
	char *k1[] = { "host" };
	struct strlist g1[] = { LIST("*") };
	f.tagpass = (struct tagfilter){ 1, k1, g1 };
	f.tagdrop = (struct tagfilter){ 1, k1, g1 };
	CHECK(!hg_filter_apply(&f, cpu()));
}

static void test_fields(void)
{
	struct metric_filter f = { 0 };
	f.fieldpass = LIST("usage_*");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.nfields, 2);
	CHECK(hg_metric_find_field(&M, "usage_idle") && hg_metric_find_field(&M, "usage_user"));
	CHECK(!hg_metric_find_field(&M, "time_x"));

	f = (struct metric_filter){ 0 };
	f.fielddrop = LIST("usage_idle", "time_*");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.nfields, 1);
	CHECK(hg_metric_find_field(&M, "usage_user"));
	/* values survive the compaction */
	CHECK(hg_metric_find_field(&M, "usage_user")->v.f == 2);

	/* fielddrop after fieldpass; nothing left means the metric goes */
	f.fieldpass = LIST("usage_*");
	f.fielddrop = LIST("usage_*");
	CHECK(!hg_filter_apply(&f, cpu()));
	CHECK_INT(M.nfields, 0);
	f = (struct metric_filter){ 0 };
	f.fieldpass = LIST("nomatch");
	CHECK(!hg_filter_apply(&f, cpu()));
}

static void test_tag_modifiers(void)
{
	struct metric_filter f = { 0 };
	f.taginclude = LIST("cpu", "h*");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 2);
	CHECK(hg_metric_find_tag(&M, "cpu") && hg_metric_find_tag(&M, "host"));
	CHECK(!hg_metric_find_tag(&M, "fstype"));
	CHECK_INT(M.nfields, 3);

	f = (struct metric_filter){ 0 };
	f.tagexclude = LIST("fstype");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 2);
	CHECK(!hg_metric_find_tag(&M, "fstype"));
	CHECK_STR(hg_metric_find_tag(&M, "host")->value.p, "a");

	/* removing every tag keeps the metric (fields remain) */
	f.tagexclude = LIST("*");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 0);
}

/* Selectors see the metric before modifiers trim it: tagpass on a tag that
 * taginclude then removes still passes, and namepass + fieldpass +
 * tagexclude compose. */
static void test_combined(void)
{
	char *keys[] = { "fstype" };
	struct strlist globs[] = { LIST("ext4") };
	struct metric_filter f = { 0 };
	f.namepass = LIST("cpu");
	f.tagpass = (struct tagfilter){ 1, keys, globs };
	f.taginclude = LIST("host");
	f.fieldpass = LIST("usage_user", "time_x");
	f.fielddrop = LIST("time_*");
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 1);
	CHECK_STR(M.tags[0].key.p, "host");
	CHECK_INT(M.nfields, 1);
	CHECK(hg_metric_find_field(&M, "usage_user"));

	/* a failing selector leaves the metric untouched */
	f.namepass = LIST("mem");
	CHECK(!hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 3);
	CHECK_INT(M.nfields, 3);
}

static void test_long_subject(void)
{
	static char big[10000];
	memset(big, 'v', sizeof big);
	struct sv s = { big, sizeof big };
	CHECK(hg_filter_name_matches(&LIST("*"), s));
	CHECK(hg_filter_name_matches(&LIST("x", "**"), s));
	CHECK(!hg_filter_name_matches(&LIST("v*"), s));
	struct sv edge = { big, 4095 };
	CHECK(hg_filter_name_matches(&LIST("v*v"), edge));
}

static char **dupv(int n, ...)
{
	char **v = calloc((size_t)n, sizeof *v);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	return v;
}

/* hg_filter_free releases heap lists as the config loader builds them (ASan's
 * leak checker fails the test otherwise). */
static void test_free(void)
{
	struct metric_filter f = { 0 };
	f.namepass = (struct strlist){ 2, dupv(2, "cpu", "mem") };
	f.tagexclude = (struct strlist){ 1, dupv(1, "host") };
	f.tagdrop.n = 1;
	f.tagdrop.key = dupv(1, "cpu");
	f.tagdrop.globs = calloc(1, sizeof *f.tagdrop.globs);
	f.tagdrop.globs[0] = (struct strlist){ 2, dupv(2, "cpu6", "cpu7") };
	CHECK(hg_filter_apply(&f, cpu()));
	CHECK_INT(M.ntags, 2);
	hg_filter_free(&f);
	CHECK(hg_filter_is_empty(&f));
	hg_filter_free(&f);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_empty),
		CHECK_CASE(test_name),
		CHECK_CASE(test_tagpass_tagdrop),
		CHECK_CASE(test_fields),
		CHECK_CASE(test_tag_modifiers),
		CHECK_CASE(test_combined),
		CHECK_CASE(test_long_subject),
		CHECK_CASE(test_free),
	};
	return CHECK_RUN(argc, argv, cases);
}
