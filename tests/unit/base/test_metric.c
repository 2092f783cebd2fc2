/* The metric builder's field and tag arrays: empty until used, grow to the largest metric
 * built, keep that size across resets, refuse field METRIC_MAX_FIELDS + 1 / tag
 * METRIC_MAX_TAGS + 1 (overflow), and a repeated key replaces the value without growing. */
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "metric.h"

static char keys[METRIC_MAX_FIELDS + 1][8];

static void test_fields(void)
{
	struct metric m = { 0 };
	for (int i = 0; i <= METRIC_MAX_FIELDS; i++)
		snprintf(keys[i], sizeof keys[i], "f%d", i);

	hg_metric_reset(&m, sv_c("small"));
	CHECK(m.fields == NULL && m.fields_cap == 0); /* nothing held before the first field */
	for (int i = 0; i < 10; i++)
		hg_metric_int(&m, keys[i], i);
	CHECK_INT(m.nfields, 10);
	CHECK(m.fields_cap >= 10 && m.fields_cap <= 16);
	hg_metric_int(&m, keys[3], 33); /* last value wins, no new entry */
	CHECK_INT(m.nfields, 10);
	CHECK_INT(hg_metric_find_field(&m, "f3")->v.i, 33);

	hg_metric_reset(&m, sv_c("large"));
	for (int i = 0; i < METRIC_MAX_FIELDS; i++)
		hg_metric_uint(&m, keys[i], (uint64_t)i);
	CHECK(!m.overflow);
	CHECK_INT(m.nfields, METRIC_MAX_FIELDS);
	CHECK_INT(m.fields_cap, METRIC_MAX_FIELDS);
	for (int i = 0; i < METRIC_MAX_FIELDS; i += 97)
		CHECK_INT(hg_metric_find_field(&m, keys[i])->v.u, i);
	hg_metric_uint(&m, keys[METRIC_MAX_FIELDS], 1);
	CHECK(m.overflow);
	CHECK_INT(m.nfields, METRIC_MAX_FIELDS);
	CHECK(hg_metric_find_field(&m, keys[METRIC_MAX_FIELDS]) == NULL);

	/* The capacity stays: the next gather allocates nothing. */
	struct metric_field *kept = m.fields;
	hg_metric_reset(&m, sv_c("again"));
	CHECK(!m.overflow && m.nfields == 0);
	for (int i = 0; i < 200; i++)
		hg_metric_float(&m, keys[i], i / 2.0);
	CHECK(m.fields == kept);
	CHECK(hg_metric_reserve(&m, METRIC_MAX_FIELDS));
	CHECK(!hg_metric_reserve(&m, METRIC_MAX_FIELDS + 1));

	hg_metric_release(&m);
	CHECK(m.fields == NULL && m.fields_cap == 0 && m.nfields == 0);
	hg_metric_reset(&m, sv_c("after release"));
	hg_metric_bool(&m, "b", true);
	CHECK_INT(m.nfields, 1);
	hg_metric_release(&m);
}

static void test_tags(void)
{
	struct metric m = { 0 };
	/* Tags grow the same way, up to METRIC_MAX_TAGS, then overflow; the
	 * heapsort puts any order (here a fixed shuffle) in key order. */
	static char tk[METRIC_MAX_TAGS + 1][8];
	hg_metric_reset(&m, sv_c("tags"));
	CHECK(m.tags == NULL && m.tags_cap == 0);
	for (int i = 0; i <= METRIC_MAX_TAGS; i++)
		snprintf(tk[i], sizeof tk[i], "k%05d", (int)(((unsigned)i * 7919u) % (METRIC_MAX_TAGS + 1)));
	for (int i = 0; i < METRIC_MAX_TAGS; i++)
		hg_metric_tag(&m, tk[i], "v");
	CHECK(!m.overflow);
	CHECK_INT(m.ntags, METRIC_MAX_TAGS);
	CHECK_INT(m.tags_cap, METRIC_MAX_TAGS);
	hg_metric_tag(&m, tk[3], "w"); /* a repeated key replaces the value */
	CHECK(!m.overflow && m.ntags == METRIC_MAX_TAGS);
	hg_metric_tag(&m, tk[METRIC_MAX_TAGS], "v");
	CHECK(m.overflow);
	CHECK_INT(m.ntags, METRIC_MAX_TAGS);
	hg_metric_sort_tags(&m);
	bool in_order = true;
	for (size_t i = 1; i < m.ntags; i++)
		in_order = in_order && hg_sv_cmp(m.tags[i - 1].key, m.tags[i].key) < 0;
	CHECK(in_order);
	CHECK(sv_eq_c(hg_metric_find_tag(&m, tk[3])->value, "w"));
	hg_metric_reset(&m, sv_c("few"));
	hg_metric_tag(&m, "b", "1");
	hg_metric_tag(&m, "c", "1");
	hg_metric_tag(&m, "a", "1");
	hg_metric_sort_tags(&m);
	CHECK(sv_eq_c(m.tags[0].key, "a") && sv_eq_c(m.tags[1].key, "b") && sv_eq_c(m.tags[2].key, "c"));
	hg_metric_release(&m);
	CHECK(m.tags == NULL && m.tags_cap == 0 && m.ntags == 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_fields),
		CHECK_CASE(test_tags),
	};
	return CHECK_RUN(argc, argv, cases);
}
