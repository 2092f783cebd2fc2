/* What serializing a metric needs only while it runs: a copy of the metric
 * for outputs with filters of their own, the line per serializer flavour and
 * the renamed measurement. One per agent, shared by every input (the loop is
 * single-threaded and an emit does not yield), which keeps ~75 KiB per input
 * off the heap; the capture sink has its own. */
#ifndef HG_ACC_SCRATCH_H
#define HG_ACC_SCRATCH_H
#include <stddef.h>
#include <stdint.h>
#include "metric.h"

#define ACC_NAME_MAX 512

struct acc_scratch {
	struct metric out;        /* a copy for outputs with filters of their own */
	char *line[2];            /* serialized line per flavour: [0] clamped ints, [1] uint */
	size_t line_cap;
	long line_len[2];
	char name[ACC_NAME_MAX];  /* the measurement after name_override/prefix/suffix */
};

struct acc_scratch *hg_acc_scratch_new(void);
void hg_acc_scratch_free(struct acc_scratch *sc);
/* Serializes m into line[flavour] (1: 'u' integers), growing both lines up
 * to a bound: a metric larger than that is refused (-ENOSPC) rather than
 * buffered. zero_time_explicit: time 0 is the epoch, not "unset". Fields
 * left out (NaN, Inf) are added to *dropped. The length, or -errno. */
long hg_acc_scratch_serialize(struct acc_scratch *sc, const struct metric *m, int flavour, bool zero_time_explicit,
			   uint64_t *dropped);

#endif
