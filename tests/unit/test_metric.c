/* The metric builder's field array: empty until used, grows to the largest metric built,
 * keeps that size across resets, refuses field METRIC_MAX_FIELDS + 1 (overflow), and a
 * repeated key replaces the value without growing. */
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "metric.h"

static char keys[METRIC_MAX_FIELDS + 1][8];

int main(void)
{
	struct metric m = { 0 };
	for (int i = 0; i <= METRIC_MAX_FIELDS; i++)
		snprintf(keys[i], sizeof keys[i], "f%d", i);

	metric_reset(&m, sv_c("small"));
	CHECK(m.fields == NULL && m.fields_cap == 0); /* nothing held before the first field */
	for (int i = 0; i < 10; i++)
		metric_int(&m, keys[i], i);
	CHECK_INT(m.nfields, 10);
	CHECK(m.fields_cap >= 10 && m.fields_cap <= 16);
	metric_int(&m, keys[3], 33); /* last value wins, no new entry */
	CHECK_INT(m.nfields, 10);
	CHECK_INT(metric_find_field(&m, "f3")->v.i, 33);

	metric_reset(&m, sv_c("large"));
	for (int i = 0; i < METRIC_MAX_FIELDS; i++)
		metric_uint(&m, keys[i], (uint64_t)i);
	CHECK(!m.overflow);
	CHECK_INT(m.nfields, METRIC_MAX_FIELDS);
	CHECK_INT(m.fields_cap, METRIC_MAX_FIELDS);
	for (int i = 0; i < METRIC_MAX_FIELDS; i += 97)
		CHECK_INT(metric_find_field(&m, keys[i])->v.u, i);
	metric_uint(&m, keys[METRIC_MAX_FIELDS], 1);
	CHECK(m.overflow);
	CHECK_INT(m.nfields, METRIC_MAX_FIELDS);
	CHECK(metric_find_field(&m, keys[METRIC_MAX_FIELDS]) == NULL);

	/* The capacity stays: the next gather allocates nothing. */
	struct metric_field *kept = m.fields;
	metric_reset(&m, sv_c("again"));
	CHECK(!m.overflow && m.nfields == 0);
	for (int i = 0; i < 200; i++)
		metric_float(&m, keys[i], i / 2.0);
	CHECK(m.fields == kept);
	CHECK(metric_reserve(&m, METRIC_MAX_FIELDS));
	CHECK(!metric_reserve(&m, METRIC_MAX_FIELDS + 1));

	metric_release(&m);
	CHECK(m.fields == NULL && m.fields_cap == 0 && m.nfields == 0);
	metric_reset(&m, sv_c("after release"));
	metric_bool(&m, "b", true);
	CHECK_INT(m.nfields, 1);
	metric_release(&m);
	CHECK_DONE();
}
