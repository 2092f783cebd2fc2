/* The running agent: builds plugin instances from the config, schedules
 * the inputs on libuv timers, and stops cleanly (flush bounded by
 * shutdown_timeout). A slow or failing input never delays another: each has
 * its own timer, and an input still gathering at its next tick skips that
 * tick (counted as a gather timeout) instead of piling up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "acc.h"
#include "agent_internal.h"
#include "httpc.h"
#include "httpd_health.h"
#include "log.h"

static void handle_closed(uv_handle_t *h)
{
	struct agent *a = h->data;
	if (--a->closes_pending == 0 && a->on_stopped)
		a->on_stopped(a, a->on_stopped_arg);
}

void hg_agent_close_handle(struct agent *a, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	h->data = a;
	a->closes_pending++;
	uv_close(h, handle_closed);
}

static void schedule_gather(struct running_input *ri, bool first);

static void run_gather(struct running_input *ri)
{
	ri->gathering = true;
	ri->gather_started_ns = uv_hrtime();
	ri->gather_metrics = 0;
	hg_acc_begin_gather(ri->acc, hg_now_ns());
	if (ri->cfg->plugin->gather(ri->state, ri->acc) == GATHER_DONE)
		hg_agent_gather_finished(ri);
}

static void on_gather_timer(uv_timer_t *t)
{
	struct running_input *ri = t->data;
	if (ri->agent->stopping)
		return;
	if (ri->gathering) {
		ri->stats.gather_timeouts++;
		log_warn(ri->label, "previous gather has not finished; skipping this interval");
	} else {
		run_gather(ri);
	}
	if (!ri->agent->once && !ri->agent->test_mode)
		schedule_gather(ri, false);
}

/* With round_interval the gathers land on multiples of the interval (:00,
 * :10, ...), as Telegraf's do, so series from many nodes line up; the first
 * one too (an immediate first gather could share its rounded timestamp with
 * the last gather of an agent restarted within the same interval, and
 * overwrite it in InfluxDB). --test and --once gather at once. The next tick
 * is computed from the previous nominal tick, not from the clock: a timer
 * that fires a millisecond early must not gather twice for one tick; one
 * that fires late (a busy loop) skips to the next tick after now. */
static void schedule_gather(struct running_input *ri, bool first)
{
	struct agent *a = ri->agent;
	int64_t now = hg_now_ns(), iv = ri->interval_ns;
	if (first && (a->once || a->test_mode)) {
		ri->baseline = ri->cfg->plugin->needs_baseline;
		uv_timer_start(&ri->timer, on_gather_timer, 0, 0);
		return;
	}
	int64_t prev = first ? now : ri->tick_ns;
	int64_t next = a->cfg->round_interval ? (prev / iv + 1) * iv : prev + (first ? 0 : iv);
	if (!first && next <= now - iv) /* missed ticks: resume at the next one */
		next = a->cfg->round_interval ? (now / iv + 1) * iv : now + iv;
	ri->tick_ns = next;
	if (ri->jitter_ns > 0)
		next += (int64_t)((double)rand() / RAND_MAX * (double)ri->jitter_ns);
	uint64_t delay_ms = next > now ? (uint64_t)((next - now + 999999) / 1000000) : 0;
	uv_timer_start(&ri->timer, on_gather_timer, delay_ms, 0);
}

static void stop_when_gathered(struct agent *a);

/* --test/--once: between the baseline gather of a needs_baseline input and
 * the one reported; Telegraf's --test waits 500 ms. */
#define BASELINE_WAIT_MS 500

void hg_agent_gather_finished(struct running_input *ri)
{
	struct agent *a = ri->agent;
	ri->gathering = false;
	ri->stats.gather_time_ns = (int64_t)(uv_hrtime() - ri->gather_started_ns);
	for (size_t i = 0; i < a->noutputs; i++) {
		hg_output_tell_fit(&a->outputs[i], ri);
		hg_output_gather_ended(&a->outputs[i]);
	}
	if (ri->baseline) {
		/* A timer, not a sleep: the other inputs gather meanwhile. */
		ri->baseline = false;
		uv_timer_start(&ri->timer, on_gather_timer, BASELINE_WAIT_MS, 0);
		return;
	}
	if ((a->once || a->test_mode) && a->gathers_pending > 0 && --a->gathers_pending == 0)
		stop_when_gathered(a);
}

static void stop_when_gathered(struct agent *a)
{
	hg_agent_stop(a, false, a->on_stopped, a->on_stopped_arg);
}

/* agent.precision, or when unset Telegraf's choice from the interval:
 * whole seconds for intervals of a second or more, and so on down. */
static int64_t input_precision(int64_t precision_ns, int64_t interval_ns)
{
	if (precision_ns > 0)
		return precision_ns;
	for (int64_t p = 1000000000; p > 1; p /= 1000)
		if (interval_ns >= p)
			return p;
	return 1;
}

static int start_input(struct agent *a, struct running_input *ri, const struct input_cfg *cfg, char *err,
		       size_t errlen)
{
	const struct agent_config *ac = a->cfg;
	memset(ri, 0, sizeof *ri);
	ri->agent = a;
	ri->cfg = cfg;
	hg_plugin_label(ri->label, sizeof ri->label, "inputs", cfg->plugin->name, cfg->common.alias);
	ri->interval_ns = cfg->common.interval_ns > 0 ? cfg->common.interval_ns : ac->interval_ns;
	if (ri->interval_ns <= 0)
		ri->interval_ns = 10 * 1000000000LL;
	ri->jitter_ns = cfg->common.collection_jitter_ns >= 0 ? cfg->common.collection_jitter_ns
							      : ac->collection_jitter_ns;
	ri->precision_ns = input_precision(ac->precision_ns, ri->interval_ns);
	ri->stats.name = cfg->plugin->name;
	ri->stats.alias = cfg->common.alias;
	ri->acc = hg_input_acc_new(ri);
	if (!ri->acc) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct plugin_env env = { a->loop, a->http, ac, a, ri->label, ri->acc };
	if (cfg->plugin->init && cfg->plugin->init(&ri->state, cfg->config, &env, err, errlen) < 0) {
		hg_acc_free(ri->acc);
		ri->acc = NULL;
		return -1;
	}
	return 0;
}

static void resolve_hostname(struct agent *a)
{
	const char *h = a->cfg->hostname;
	if (h && *h) {
		snprintf(a->hostname, sizeof a->hostname, "%s", h);
		return;
	}
	if (gethostname(a->hostname, sizeof a->hostname - 1) != 0)
		snprintf(a->hostname, sizeof a->hostname, "localhost");
	a->hostname[sizeof a->hostname - 1] = '\0';
}

/* output_plugin.check of one output; 0 when it has none. */
static int output_check(const struct output_cfg *oc, char *err, size_t errlen)
{
	err[0] = '\0';
	return oc->plugin->check ? oc->plugin->check(oc->config, err, errlen) : 0;
}

int hg_agent_check_outputs(const struct agent_config *cfg, const struct agent_opts *opts, char *err, size_t errlen)
{
	size_t selected_n = 0, usable = 0;
	char perr[512];
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct output_cfg *oc = &cfg->outputs[i];
		if (!hg_plugin_selected(opts ? opts->output_filter : NULL, oc->plugin->name))
			continue;
		selected_n++;
		int rc = output_check(oc, perr, sizeof perr);
		if (rc < 0) {
			snprintf(err, errlen, "%s: outputs.%s: %s", oc->origin ? oc->origin : "", oc->plugin->name, perr);
			return -1;
		}
		if (rc == OUTPUT_UNSUPPORTED) {
			char label[96];
			hg_plugin_label(label, sizeof label, "outputs", oc->plugin->name, oc->common.alias);
			log_error(label, "%s: %s; this output is disabled, the agent runs without it",
				  oc->origin ? oc->origin : "", perr);
			continue;
		}
		usable++;
	}
	if (selected_n > 0 && usable == 0) {
		snprintf(err, errlen, "no usable output: %s %zu configured output%s disabled (see above)",
			 selected_n == 1 ? "the" : "all", selected_n, selected_n == 1 ? " is" : "s are");
		return -1;
	}
	return 0;
}

struct agent *hg_agent_new(uv_loop_t *loop, struct agent_config *cfg, const struct agent_opts *opts, char *err,
			size_t errlen)
{
	struct agent *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->loop = loop;
	a->cfg = cfg;
	a->test_mode = opts && opts->test_mode;
	a->once = opts && opts->once;
	a->start_ns = hg_now_ns();
	resolve_hostname(a);
	a->http = hg_httpc_new(loop);
	a->acc_scratch = hg_acc_scratch_new();
	a->inputs = calloc(cfg->ninputs ? cfg->ninputs : 1, sizeof *a->inputs);
	a->outputs = calloc(cfg->noutputs ? cfg->noutputs : 1, sizeof *a->outputs);
	if (!a->http || !a->acc_scratch || !a->inputs || !a->outputs) {
		snprintf(err, errlen, "out of memory");
		hg_agent_free(a);
		return NULL;
	}
	char perr[512];
	if (!a->test_mode) {
		for (size_t i = 0; i < cfg->noutputs; i++) {
			if (!hg_plugin_selected(opts ? opts->output_filter : NULL, cfg->outputs[i].plugin->name))
				continue;
			if (output_check(&cfg->outputs[i], perr, sizeof perr) == OUTPUT_UNSUPPORTED) {
				a->totals.outputs_disabled++;
				continue;
			}
			if (hg_output_start(&a->outputs[a->noutputs], a, &cfg->outputs[i], perr, sizeof perr) < 0) {
				snprintf(err, errlen, "%s: outputs.%s: %s", cfg->outputs[i].origin ? cfg->outputs[i].origin : "",
					 cfg->outputs[i].plugin->name, perr);
				hg_agent_free(a);
				return NULL;
			}
			a->outputs[a->noutputs].fail_fast = a->once;
			a->noutputs++;
		}
	}
	for (size_t i = 0; i < cfg->ninputs; i++) {
		if (!hg_plugin_selected(opts ? opts->input_filter : NULL, cfg->inputs[i].plugin->name))
			continue;
		if (start_input(a, &a->inputs[a->ninputs], &cfg->inputs[i], perr, sizeof perr) < 0) {
			snprintf(err, errlen, "%s: inputs.%s: %s", cfg->inputs[i].origin ? cfg->inputs[i].origin : "",
				 cfg->inputs[i].plugin->name, perr);
			hg_agent_free(a);
			return NULL;
		}
		a->ninputs++;
	}
	if (cfg->health_listen && *cfg->health_listen && !a->test_mode && !a->once) {
		if (hg_health_start(a, cfg->health_listen, perr, sizeof perr) < 0) {
			snprintf(err, errlen, "agent.health_listen: %s", perr);
			hg_agent_free(a);
			return NULL;
		}
	}
	return a;
}

void hg_agent_start(struct agent *a, void (*on_stopped)(struct agent *a, void *arg), void *arg)
{
	a->on_stopped = on_stopped;
	a->on_stopped_arg = arg;
	uv_timer_init(a->loop, &a->stop_timer);
	a->stop_timer.data = a;
	for (size_t i = 0; i < a->ninputs; i++) {
		uv_timer_init(a->loop, &a->inputs[i].timer);
		a->inputs[i].timer.data = &a->inputs[i];
	}
	for (size_t i = 0; i < a->noutputs; i++)
		hg_output_start_timers(&a->outputs[i], !a->once);
	a->started = true;
	if (a->once || a->test_mode) {
		a->gathers_pending = a->ninputs;
		if (a->ninputs == 0) {
			stop_when_gathered(a);
			return;
		}
	}
	for (size_t i = 0; i < a->ninputs; i++)
		schedule_gather(&a->inputs[i], true);
}

static void close_everything(struct agent *a)
{
	uv_timer_stop(&a->stop_timer);
	/* First, so requests still in flight complete (aborted) while their
	 * plugins' state is alive: an aborted write puts its batch back and is
	 * counted below; an aborted gather ends normally. */
	hg_httpc_free(a->http);
	a->http = NULL;
	for (size_t i = 0; i < a->ninputs; i++) {
		struct running_input *ri = &a->inputs[i];
		if (a->started)
			hg_agent_close_handle(a, (uv_handle_t *)&ri->timer);
		if (ri->cfg->plugin->free && ri->state)
			ri->cfg->plugin->free(ri->state);
		ri->state = NULL;
	}
	for (size_t i = 0; i < a->noutputs; i++) {
		struct running_output *o = &a->outputs[i];
		uint64_t left = hg_output_pending(o);
		/* A disk buffer keeps them for the next start (it says so itself);
		 * a memory buffer loses them: say exactly how many, and count them. */
		if (left && !a->reloading && !o->store->durable) {
			log_error(o->label, "%llu metrics lost: they could not be written before shutdown",
				  (unsigned long long)left);
			o->server_dropped += left;
			o->stats.metrics_dropped += left;
		}
		hg_output_close(o);
	}
	if (a->health)
		hg_health_stop(a);
	hg_agent_close_handle(a, (uv_handle_t *)&a->stop_timer);
}

static void output_drained(struct running_output *o)
{
	struct agent *a = o->agent;
	if (a->outputs_pending > 0 && --a->outputs_pending == 0)
		close_everything(a);
}

static void on_stop_timeout(uv_timer_t *t)
{
	struct agent *a = t->data;
	log_warn("agent", "shutdown timeout reached with writes pending");
	a->outputs_pending = 0;
	close_everything(a);
}

void hg_agent_stop(struct agent *a, bool reload, void (*on_stopped)(struct agent *a, void *arg), void *arg)
{
	if (a->stopping)
		return;
	a->stopping = true;
	a->reloading = reload;
	a->on_stopped = on_stopped;
	a->on_stopped_arg = arg;
	for (size_t i = 0; i < a->ninputs; i++) {
		uv_timer_stop(&a->inputs[i].timer);
		if (a->inputs[i].cfg->plugin->stop && a->inputs[i].state)
			a->inputs[i].cfg->plugin->stop(a->inputs[i].state);
	}
	if (a->noutputs == 0) {
		close_everything(a);
		return;
	}
	uint64_t timeout_ms = a->cfg->shutdown_timeout_ns > 0 ? (uint64_t)(a->cfg->shutdown_timeout_ns / 1000000) : 20000;
	uv_timer_start(&a->stop_timer, on_stop_timeout, timeout_ms, 0);
	a->outputs_pending = a->noutputs;
	for (size_t i = 0; i < a->noutputs; i++) {
		if (reload)
			hg_output_finish_inflight(&a->outputs[i], output_drained);
		else
			hg_output_flush_all(&a->outputs[i], output_drained);
	}
}

void hg_agent_carry_over(struct agent *old, struct agent *new_agent)
{
	for (size_t i = 0; i < old->noutputs; i++) {
		struct running_output *from = &old->outputs[i];
		struct running_output *to = NULL;
		for (size_t j = 0; j < new_agent->noutputs && !to; j++)
			if (strcmp(new_agent->outputs[j].label, from->label) == 0)
				to = &new_agent->outputs[j];
		if (!from->buf || hg_output_is_disk(from))
			continue; /* the spool is reopened by the new output of the same name */
		hg_output_unget_inflight(from);
		size_t n = hg_lpbuf_count(from->buf);
		if (!to) {
			if (n)
				log_warn(from->label, "removed by the new config; %zu unwritten metrics dropped", n);
			continue;
		}
		struct batch b = { 0 };
		while (hg_lpbuf_take(from->buf, 1000, &b) > 0) {
			const char *p = b.data, *end = b.data + b.len;
			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
				hg_output_push(to, p, len);
				p += len;
			}
		}
		hg_batch_free(&b);
	}
}

int hg_agent_exit_code(const struct agent *a)
{
	if (!a->once)
		return 0;
	for (size_t i = 0; i < a->noutputs; i++)
		if (a->outputs[i].failed || hg_output_pending(&a->outputs[i]) > 0)
			return 1;
	return 0;
}

void hg_agent_free(struct agent *a)
{
	if (!a)
		return;
	/* a may be one hg_agent_new gave up on: its arrays may be missing. */
	for (size_t i = 0; a->inputs && i < a->ninputs; i++) {
		if (a->inputs[i].state && a->inputs[i].cfg->plugin->free)
			a->inputs[i].cfg->plugin->free(a->inputs[i].state);
		hg_acc_free(a->inputs[i].acc);
	}
	for (size_t i = 0; a->outputs && i < a->noutputs; i++) {
		if (a->outputs[i].state && a->outputs[i].cfg->plugin->free)
			a->outputs[i].cfg->plugin->free(a->outputs[i].state);
		hg_output_release(&a->outputs[i]);
	}
	if (a->http)
		hg_httpc_free(a->http);
	hg_acc_scratch_free(a->acc_scratch);
	free(a->inputs);
	free(a->outputs);
	free(a);
}

size_t hg_agent_input_count(const struct agent *a)
{
	return a->ninputs;
}

const struct input_stats *hg_agent_input_stats(const struct agent *a, size_t i)
{
	return i < a->ninputs ? &a->inputs[i].stats : NULL;
}

size_t hg_agent_output_count(const struct agent *a)
{
	return a->noutputs;
}

const struct output_stats *hg_agent_output_stats(const struct agent *a, size_t i)
{
	return i < a->noutputs ? &a->outputs[i].stats : NULL;
}

struct agent_stats hg_agent_totals(const struct agent *a)
{
	struct agent_stats t = a->totals;
	t.metrics_dropped = 0;
	for (size_t i = 0; i < a->noutputs; i++)
		t.metrics_dropped += a->outputs[i].stats.metrics_dropped;
	return t;
}

const struct agent_config *hg_agent_config(const struct agent *a)
{
	return a->cfg;
}
