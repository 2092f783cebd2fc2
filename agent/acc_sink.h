/* Where an accumulator's metrics go. acc.c implements the plugin-facing
 * API (acc.h) over a sink: the engine's sink serves a running input
 * (input_emit.c: filters, names, tags, every output's buffer, or stdout for
 * --test), and the capture sink (acc_capture.c) keeps text for unit tests.
 * The accumulator itself knows neither. */
#ifndef HG_ACC_SINK_H
#define HG_ACC_SINK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "metric.h"

struct acc;

struct acc_sink {
	/* m is the input's metric, its time set; round: the agent's precision
	 * applies (not to a service input's lines); raw: the line as received
	 * (hg_acc_emit_line), which the sink may push as it is, or NULL. */
	void (*emit)(void *ctx, struct acc *a, struct metric *m, bool round, const char *raw, size_t rawlen);
	void (*error)(void *ctx, const char *msg);
	void (*gather_done)(void *ctx);  /* optional */
	void (*service_done)(void *ctx); /* optional */
};

/* An accumulator delivering to sink (static; ctx: its argument). NULL when
 * out of memory. */
struct acc *hg_acc_new(const struct acc_sink *sink, void *ctx);
void hg_acc_free(struct acc *a);
void hg_acc_begin_gather(struct acc *a, int64_t time_ns);
/* The ctx the accumulator was made with. */
void *hg_acc_sink_ctx(const struct acc *a);

#endif
