/* The accumulator an input gathers into (acc.h): the input's scratch metric
 * and the time of its gather, handed to a sink (acc_sink.h) that does the
 * rest. The engine's sink is input_emit.c; the test capture is
 * acc_capture.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "acc.h"
#include "acc_sink.h"

struct acc {
	struct metric m;          /* what the input fills (it may span loop turns: streaming parsers) */
	const struct acc_sink *sink;
	void *ctx;
	int64_t gather_time_ns;
};

struct acc *hg_acc_new(const struct acc_sink *sink, void *ctx)
{
	struct acc *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->sink = sink;
	a->ctx = ctx;
	return a;
}

void hg_acc_free(struct acc *a)
{
	if (!a)
		return;
	hg_metric_release(&a->m);
	free(a);
}

void hg_acc_begin_gather(struct acc *a, int64_t time_ns)
{
	a->gather_time_ns = time_ns;
}

void *hg_acc_sink_ctx(const struct acc *a)
{
	return a->ctx;
}

int64_t hg_acc_gather_time(const struct acc *a)
{
	return a->gather_time_ns;
}

struct metric *hg_acc_metric(struct acc *a, const char *measurement)
{
	hg_metric_reset(&a->m, sv_c(measurement));
	return &a->m;
}

void hg_acc_emit(struct acc *a, struct metric *m, int64_t time_ns)
{
	m->time_ns = time_ns ? time_ns : a->gather_time_ns;
	a->sink->emit(a->ctx, a, m, true, NULL, 0);
}

void hg_acc_emit_line(struct acc *a, struct metric *m, const char *line, size_t len)
{
	a->sink->emit(a->ctx, a, m, false, line, line ? len : 0);
}

void hg_acc_service_done(struct acc *a)
{
	if (a->sink->service_done)
		a->sink->service_done(a->ctx);
}

void hg_acc_error(struct acc *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->sink->error(a->ctx, msg);
}

void hg_acc_gather_done(struct acc *a)
{
	if (a->sink->gather_done)
		a->sink->gather_done(a->ctx);
}
