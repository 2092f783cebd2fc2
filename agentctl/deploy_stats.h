/* The comparison deploy-check makes of two sets of samples (CPU or memory
 * per pod, before and after a deploy, or stable and canary pods): robust
 * to flapping and outliers, and silent when there is too little to judge.
 * docs/deploy-check.md explains the rule. */
#ifndef AGENTCTL_DEPLOY_STATS_H
#define AGENTCTL_DEPLOY_STATS_H
#include <stdbool.h>
#include <stddef.h>

/* The nearest-rank quantile p (0..1] of n sorted values (n > 0). */
double hg_ds_quantile(const double *sorted, size_t n, double p);
/* Sorts v in place (ascending). */
void hg_ds_sort(double *v, size_t n);

struct ds_shift {
	double hl;   /* Hodges-Lehmann shift: the median of every after - before difference */
	double z;    /* Mann-Whitney U as a z-score; > 0 when after tends to be larger */
};

/* The shift of after (m values) from before (n values), both sorted. When
 * n x m is large, evenly spaced subsets of each (at most ~500 values) are
 * compared, so time and memory stay bounded. 0, or -1 out of memory. */
int hg_ds_compare(const double *before, size_t n, const double *after, size_t m, struct ds_shift *out);

/* One-sided significance used with the shift: z above this is a real
 * increase (p < 0.01), below it noise. */
#define DS_Z_SIGNIFICANT 2.33

/* Whether a rise from `before` to `after` (an increase only) is larger than
 * both rel x before and abs. */
bool hg_ds_exceeds(double before, double after, double rel, double abs);

#endif
