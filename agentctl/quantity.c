/* Kubernetes quantities for the placement plan (see quantity.h): parsed by
 * the kube client's hg_kube_quantity, formatted for people here. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "kube_quantity.h"
#include "quantity.h"

int hg_quantity_parse(const char *s, int64_t *out)
{
	/* The kube client's exact parser; the plan has no use for negative
	 * quantities, so they are not quantities here. */
	if (!s || *s == '-')
		return -1;
	return hg_kube_quantity(s, strlen(s), 1, out);
}

void hg_quantity_format(int64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = {"", "Ki", "Mi", "Gi", "Ti"};
	size_t u = 0;
	double v = (double)bytes;
	while (u + 1 < sizeof units / sizeof *units && (v >= 1024.0 || v <= -1024.0)) {
		v /= 1024.0;
		u++;
	}
	if (v == floor(v))
		snprintf(out, outlen, "%.0f%s", v, units[u]);
	else
		snprintf(out, outlen, "%.1f%s", v, units[u]);
}
