/* The shared serialization scratch (see acc_scratch.h). */
#include "acc_scratch.h"
#include <errno.h>
#include <stdlib.h>
#include "lp.h"

#define ACC_LINE_START (16 * 1024)
#define ACC_LINE_MAX (4 * 1024 * 1024)

struct acc_scratch *hg_acc_scratch_new(void)
{
	struct acc_scratch *sc = calloc(1, sizeof *sc);
	if (!sc)
		return NULL;
	sc->line_cap = ACC_LINE_START;
	sc->line[0] = malloc(sc->line_cap);
	sc->line[1] = malloc(sc->line_cap);
	if (!sc->line[0] || !sc->line[1]) {
		hg_acc_scratch_free(sc);
		return NULL;
	}
	return sc;
}

void hg_acc_scratch_free(struct acc_scratch *sc)
{
	if (!sc)
		return;
	free(sc->line[0]);
	free(sc->line[1]);
	hg_metric_release(&sc->out);
	free(sc);
}

long hg_acc_scratch_serialize(struct acc_scratch *sc, const struct metric *m, int flavour, bool zero_time_explicit,
			   uint64_t *dropped)
{
	struct lp_opts o = { .precision_ns = 1, .uint_support = flavour == 1, .zero_time_explicit = zero_time_explicit };
	for (;;) {
		struct lp_stats st = { 0 };
		long n = hg_lp_serialize(m, &o, sc->line[flavour], sc->line_cap, &st);
		if (dropped)
			*dropped += st.dropped_fields;
		if (n != -ENOSPC)
			return n;
		if (sc->line_cap >= ACC_LINE_MAX)
			return -ENOSPC;
		size_t cap = sc->line_cap * 2;
		char *l0 = realloc(sc->line[0], cap);
		if (!l0)
			return -ENOMEM;
		sc->line[0] = l0;
		char *l1 = realloc(sc->line[1], cap);
		if (!l1)
			return -ENOMEM;
		sc->line[1] = l1;
		sc->line_cap = cap;
		sc->line_len[0] = sc->line_len[1] = 0; /* both must be redone after a resize */
		if (dropped)
			*dropped -= st.dropped_fields; /* counted again on the retry */
	}
}
