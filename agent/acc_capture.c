/* The capture sink (acc.h's acc_capture_*): every emitted metric serialized
 * as the outputs would get it with uint support (ns timestamps, no host tag,
 * time 0 kept as "unset"), errors one per line, for the unit tests of
 * inputs. */
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "acc_scratch.h"
#include "acc_sink.h"
#include "clock.h"
#include "strbuf.h"

struct capture {
	struct acc *acc;
	struct acc_scratch *sc;
	struct strbuf lines, errors;
};

static void capture_emit(void *ctx, struct acc *a, struct metric *m, bool round, const char *raw, size_t rawlen)
{
	(void)round, (void)raw, (void)rawlen;
	struct capture *c = ctx;
	metric_sort_tags(m);
	long n = acc_scratch_serialize(c->sc, m, 1, false, NULL);
	if (n > 0)
		strbuf_append(&c->lines, c->sc->line[1], (size_t)n);
	else
		acc_error(a, "metric %.*s not serializable (%ld)", (int)m->name.len, m->name.p, n);
}

static void capture_error(void *ctx, const char *msg)
{
	struct capture *c = ctx;
	strbuf_append(&c->errors, msg, strlen(msg));
	strbuf_append(&c->errors, "\n", 1);
}

static const struct acc_sink capture_sink = { .emit = capture_emit, .error = capture_error };

struct acc *acc_capture_new(void)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->sc = acc_scratch_new();
	c->acc = c->sc ? acc_new(&capture_sink, c) : NULL;
	if (!c->acc) {
		acc_scratch_free(c->sc);
		free(c);
		return NULL;
	}
	acc_begin_gather(c->acc, now_ns());
	return c->acc;
}

const char *acc_capture_text(const struct acc *a)
{
	const struct capture *c = acc_sink_ctx(a);
	return strbuf_str(&c->lines);
}

const char *acc_capture_errors(const struct acc *a)
{
	const struct capture *c = acc_sink_ctx(a);
	return strbuf_str(&c->errors);
}

void acc_capture_clear(struct acc *a)
{
	struct capture *c = acc_sink_ctx(a);
	strbuf_clear(&c->lines);
	strbuf_clear(&c->errors);
}

void acc_capture_free(struct acc *a)
{
	if (!a)
		return;
	struct capture *c = acc_sink_ctx(a);
	acc_free(a);
	acc_scratch_free(c->sc);
	strbuf_free(&c->lines);
	strbuf_free(&c->errors);
	free(c);
}
