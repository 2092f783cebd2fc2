/* See deploy_stats.h. */
#include "deploy_stats.h"
#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void hg_ds_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_double);
}

double hg_ds_quantile(const double *sorted, size_t n, double p)
{
	/* Nearest rank: the smallest value with at least p of the set at or below it. */
	double r = ceil(p * (double)n);
	size_t i = r < 1 ? 0 : (size_t)r - 1;
	return sorted[i < n ? i : n - 1];
}

#define SUBSET_MAX 500

/* Evenly spaced picks of a sorted set keep its distribution's shape. */
static size_t subset(const double *v, size_t n, double *out)
{
	if (n <= SUBSET_MAX) {
		for (size_t i = 0; i < n; i++)
			out[i] = v[i];
		return n;
	}
	for (size_t i = 0; i < SUBSET_MAX; i++)
		out[i] = v[(size_t)(((double)i + 0.5) * (double)n / SUBSET_MAX)];
	return SUBSET_MAX;
}

int hg_ds_compare(const double *before, size_t n, const double *after, size_t m, struct ds_shift *out)
{
	*out = (struct ds_shift){ 0 };
	if (!n || !m)
		return 0;
	double *b = malloc(SUBSET_MAX * sizeof *b), *a = malloc(SUBSET_MAX * sizeof *a);
	double *d = malloc((size_t)SUBSET_MAX * SUBSET_MAX * sizeof *d);
	if (!a || !b || !d) {
		free(a);
		free(b);
		free(d);
		return -1;
	}
	size_t nb = subset(before, n, b), na = subset(after, m, a), k = 0;
	double u = 0;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++) {
			double diff = a[i] - b[j];
			d[k++] = diff;
			u += diff > 0 ? 1 : diff == 0 ? 0.5 : 0;
		}
	hg_ds_sort(d, k);
	out->hl = k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
	double nn = (double)na, mm = (double)nb;
	double sd = sqrt(nn * mm * (nn + mm + 1) / 12);
	out->z = sd > 0 ? (u - nn * mm / 2) / sd : 0;
	free(a);
	free(b);
	free(d);
	return 0;
}

bool hg_ds_exceeds(double before, double after, double rel, double abs)
{
	double rise = after - before;
	return rise > abs && rise > rel * fabs(before);
}
