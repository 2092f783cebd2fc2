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
	hg_metric_sort_tags(m);
	long n = hg_acc_scratch_serialize(c->sc, m, 1, false, NULL);
	if (n > 0)
		hg_strbuf_append(&c->lines, c->sc->line[1], (size_t)n);
	else
		hg_acc_error(a, "metric %.*s not serializable (%ld)", (int)m->name.len, m->name.p, n);
}

static void capture_error(void *ctx, const char *msg)
{
	struct capture *c = ctx;
	hg_strbuf_append(&c->errors, msg, strlen(msg));
	hg_strbuf_append(&c->errors, "\n", 1);
}

static const struct acc_sink capture_sink = { .emit = capture_emit, .error = capture_error };

struct acc *hg_acc_capture_new(void)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->sc = hg_acc_scratch_new();
	c->acc = c->sc ? hg_acc_new(&capture_sink, c) : NULL;
	if (!c->acc) {
		hg_acc_scratch_free(c->sc);
		free(c);
		return NULL;
	}
	hg_acc_begin_gather(c->acc, hg_now_ns());
	return c->acc;
}

const char *hg_acc_capture_text(const struct acc *a)
{
	const struct capture *c = hg_acc_sink_ctx(a);
	return hg_strbuf_str(&c->lines);
}

const char *hg_acc_capture_errors(const struct acc *a)
{
	const struct capture *c = hg_acc_sink_ctx(a);
	return hg_strbuf_str(&c->errors);
}

void hg_acc_capture_clear(struct acc *a)
{
	struct capture *c = hg_acc_sink_ctx(a);
	hg_strbuf_clear(&c->lines);
	hg_strbuf_clear(&c->errors);
}

void hg_acc_capture_free(struct acc *a)
{
	if (!a)
		return;
	struct capture *c = hg_acc_sink_ctx(a);
	hg_acc_free(a);
	hg_acc_scratch_free(c->sc);
	hg_strbuf_free(&c->lines);
	hg_strbuf_free(&c->errors);
	free(c);
}
