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

struct acc *acc_new(const struct acc_sink *sink, void *ctx)
{
	struct acc *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->sink = sink;
	a->ctx = ctx;
	return a;
}

void acc_free(struct acc *a)
{
	if (!a)
		return;
	metric_release(&a->m);
	free(a);
}

void acc_begin_gather(struct acc *a, int64_t time_ns)
{
	a->gather_time_ns = time_ns;
}

void *acc_sink_ctx(const struct acc *a)
{
	return a->ctx;
}

int64_t acc_gather_time(const struct acc *a)
{
	return a->gather_time_ns;
}

struct metric *acc_metric(struct acc *a, const char *measurement)
{
	metric_reset(&a->m, sv_c(measurement));
	return &a->m;
}

void acc_emit(struct acc *a, struct metric *m, int64_t time_ns)
{
	m->time_ns = time_ns ? time_ns : a->gather_time_ns;
	a->sink->emit(a->ctx, a, m, true, NULL, 0);
}

void acc_emit_line(struct acc *a, struct metric *m, const char *line, size_t len)
{
	a->sink->emit(a->ctx, a, m, false, line, line ? len : 0);
}

void acc_service_done(struct acc *a)
{
	if (a->sink->service_done)
		a->sink->service_done(a->ctx);
}

void acc_error(struct acc *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->sink->error(a->ctx, msg);
}

void acc_gather_done(struct acc *a)
{
	if (a->sink->gather_done)
		a->sink->gather_done(a->ctx);
}
