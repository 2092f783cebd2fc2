/* inputs.deploy_events: deploys seen in the Kubernetes API, as the `deploy`
 * measurement (README.md). A watch-driven input: the gather only hands over
 * the accumulator; points are emitted from the watch callbacks, stamped with
 * the times the API objects carry. Only the Lease holder watches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acc.h"
#include "kube_client.h"
#include "kube_lease.h"
#include "kube_watch.h"
#include "kubeconfig.h"
#include "log.h"
#include "plugin.h"
#include "track.h"
#include "clock.h"

enum { W_SERVICES, W_REPLICASETS, W_DEPLOYMENTS, W_ROLLOUTS, W_N };

static const char *const watch_paths[W_N] = {
	"/api/v1/services",
	"/apis/apps/v1/replicasets",
	"/apis/apps/v1/deployments",
	"/apis/argoproj.io/v1alpha1/rollouts",
};
static const enum kobj_kind watch_kinds[W_N] = { KOBJ_SERVICE, KOBJ_REPLICASET, KOBJ_DEPLOYMENT, KOBJ_ROLLOUT };

struct de_config {
	char *kubeconfig, *context, *cluster;
	char *lease_namespace, *lease_name, *identity;
	int64_t lease_duration, renew_interval, retry_interval;
	bool release_on_shutdown;
	int64_t watch_timeout, discovery_interval;
};

static const struct opt_desc de_options[] = {
	{ "kubeconfig", OPT_STRING, offsetof(struct de_config, kubeconfig), NULL,
	  "kubeconfig file; default: in-cluster ServiceAccount, else $KUBECONFIG / ~/.kube/config" },
	{ "context", OPT_STRING, offsetof(struct de_config, context), NULL, "kubeconfig context" },
	{ "cluster", OPT_STRING, offsetof(struct de_config, cluster), "default", "cluster tag" },
	{ "lease_namespace", OPT_STRING, offsetof(struct de_config, lease_namespace), NULL,
	  "namespace of the Lease; default: the agent's own (in-cluster) or the context's" },
	{ "lease_name", OPT_STRING, offsetof(struct de_config, lease_name), "heliograph-agent-leader",
	  "name of the Lease (k8s-manifests grant get/update on this name only)" },
	{ "identity", OPT_STRING, offsetof(struct de_config, identity), NULL,
	  "holderIdentity; default: $POD_NAME, else the host name" },
	{ "lease_duration", OPT_DURATION, offsetof(struct de_config, lease_duration), "15s",
	  "a dead leader is replaced within two of these" },
	{ "renew_interval", OPT_DURATION, offsetof(struct de_config, renew_interval), "0s",
	  "leader's renew period; 0 = lease_duration / 3" },
	{ "retry_interval", OPT_DURATION, offsetof(struct de_config, retry_interval), "0s",
	  "candidates' poll period; 0 = lease_duration / 4" },
	{ "release_on_shutdown", OPT_BOOL, offsetof(struct de_config, release_on_shutdown), "true",
	  "hand the Lease over when the agent stops" },
	{ "watch_timeout", OPT_DURATION, offsetof(struct de_config, watch_timeout), "5m",
	  "length of each watch request (resumed from its resourceVersion)" },
	{ "discovery_interval", OPT_DURATION, offsetof(struct de_config, discovery_interval), "1m",
	  "how often to look again for the Argo Rollouts CRD while it is absent" },
	OPT_END,
};

struct de;

struct wctx {
	struct de *s;
	int idx;
};

struct de {
	char label[96];
	char *cluster;
	struct kube_config kc;
	struct kube_client *c;
	struct lease *lease;
	struct track *track;
	struct acc *acc;
	struct kube_watch *w[W_N];
	struct wctx wc[W_N];
	bool synced[W_N];
	unsigned watch_timeout;
	uint64_t discovery_ms;
	uv_timer_t disc_timer;
	bool disc_busy, leader, freed;
	char *json;
	size_t jcap;
	struct kobj obj;
	struct lease_opts lo;
	char identity[256];
	bool release;
};

static void emit_point(void *arg, const struct deploy_point *p)
{
	struct de *s = arg;
	if (!s->acc)
		return;
	const struct kobj *o = p->o;
	struct metric *m = hg_acc_metric(s->acc, "deploy");
	hg_metric_tag(m, "namespace", p->ns);
	hg_metric_tag(m, "name", p->name);
	hg_metric_tag(m, "kind", p->kind);
	hg_metric_tag(m, "strategy", hg_track_strategy_name(p->strategy));
	hg_metric_tag(m, "phase", hg_track_phase_name(p->phase));
	hg_metric_tag(m, "source", "cluster");
	hg_metric_tag(m, "cluster", s->cluster);
	hg_metric_int(m, "revision", o->revision);
	hg_metric_string(m, "image", o->image);
	hg_metric_string(m, "version", o->version);
	hg_metric_int(m, "replicas", o->replicas);
	hg_metric_int(m, "updated_replicas", o->updated);
	hg_metric_int(m, "available_replicas", o->available);
	hg_metric_int(m, "unavailable_replicas", o->unavailable);
	if (p->canary_weight >= 0)
		hg_metric_int(m, "canary_weight", p->canary_weight);
	if (p->duration_s >= 0)
		hg_metric_float(m, "duration_s", p->duration_s);
	hg_metric_string(m, "message", p->message ? p->message : "");
	hg_acc_emit(s->acc, m, p->time_ns);
}

/* ---- watches ---- */

static void on_event(void *arg, const struct kube_event *ev)
{
	struct wctx *wc = arg;
	struct de *s = wc->s;
	if (ev->type == KUBE_EV_BOOKMARK || !s->track)
		return;
	if (ev->object_len + 1 > s->jcap) {
		char *p = realloc(s->json, ev->object_len + 1);
		if (!p)
			return;
		s->json = p;
		s->jcap = ev->object_len + 1;
	}
	memcpy(s->json, ev->object, ev->object_len);
	s->json[ev->object_len] = '\0';
	char err[160];
	if (hg_kobj_parse(&s->obj, watch_kinds[wc->idx], s->json, err, sizeof err) != 0) {
		log_warn(s->label, "%s %s/%s: %s", watch_paths[wc->idx], ev->namespace, ev->name, err);
		return;
	}
	hg_track_object(s->track, &s->obj, ev->type == KUBE_EV_DELETED, ev->from_list, hg_now_ns());
}

static void start_watch(struct de *s, int i);

static void on_synced(void *arg)
{
	struct wctx *wc = arg;
	struct de *s = wc->s;
	s->synced[wc->idx] = true;
	log_debug(s->label, "%s listed: watching", watch_paths[wc->idx]);
	/* Pairs are found through Services, rollbacks through ReplicaSets: those
	 * first, so the Deployments of the first list are read with them known. */
	if (wc->idx == W_SERVICES && !s->w[W_REPLICASETS])
		start_watch(s, W_REPLICASETS);
	if (wc->idx == W_REPLICASETS && !s->w[W_DEPLOYMENTS])
		start_watch(s, W_DEPLOYMENTS);
}

static void on_watch_error(void *arg, const char *msg)
{
	struct wctx *wc = arg;
	log_warn(wc->s->label, "%s", msg);
}

static void start_watch(struct de *s, int i)
{
	s->wc[i] = (struct wctx){ s, i };
	struct kube_watch_opts o = {
		.path = watch_paths[i],
		.on_event = on_event,
		.on_synced = on_synced,
		.on_error = on_watch_error,
		.arg = &s->wc[i],
		.timeout_seconds = s->watch_timeout,
	};
	char err[256];
	s->synced[i] = false;
	s->w[i] = hg_kube_watch_start(s->c, &o, err, sizeof err);
	if (!s->w[i])
		log_error(s->label, "watch %s: %s", watch_paths[i], err);
}

static void stop_watches(struct de *s)
{
	for (int i = 0; i < W_N; i++) {
		if (s->w[i])
			hg_kube_watch_stop(s->w[i]);
		s->w[i] = NULL;
		s->synced[i] = false;
	}
}

/* ---- Argo Rollouts discovery ---- */

static void disc_done(void *arg, const struct kube_response *r)
{
	struct de *s = arg;
	s->disc_busy = false;
	if (s->freed || !s->leader || s->w[W_ROLLOUTS])
		return;
	if (r->status == 200 && r->body && strstr(r->body, "\"rollouts\"")) {
		log_info(s->label, "Argo Rollouts found: watching rollouts.argoproj.io");
		start_watch(s, W_ROLLOUTS);
		uv_timer_stop(&s->disc_timer);
	} else if (r->status != 404 && r->status != 200) {
		log_warn(s->label, "discovery of argoproj.io/v1alpha1: %s", r->message);
	}
}

static void disc_tick(uv_timer_t *t)
{
	struct de *s = t->data;
	if (s->disc_busy || !s->leader || s->w[W_ROLLOUTS])
		return;
	struct kube_request q = { .method = "GET", .path = "/apis/argoproj.io/v1alpha1", .what = "discovery" };
	char err[256];
	if (hg_kube_send(s->c, &q, disc_done, s, err, sizeof err) == 0)
		s->disc_busy = true;
}

/* ---- leadership ---- */

static void on_leader(void *arg, bool leader, int64_t prev_recorded_ns)
{
	struct de *s = arg;
	s->leader = leader;
	stop_watches(s);
	uv_timer_stop(&s->disc_timer);
	hg_track_flush(s->track); /* started points waiting for a revision number: the next leader skips them */
	hg_track_free(s->track);
	s->track = NULL;
	if (!leader) {
		log_info(s->label, "not the leader any more: deploy watches stopped");
		return;
	}
	s->track = hg_track_new(emit_point, s);
	if (!s->track)
		return;
	/* Whole seconds: the API's times are, and a phase within the previous
	 * leader's last second is better recorded twice (same point) than lost. */
	int64_t from = prev_recorded_ns ? prev_recorded_ns : hg_now_ns();
	hg_track_set_skip_before(s->track, from / 1000000000 * 1000000000);
	start_watch(s, W_SERVICES);
	uv_timer_start(&s->disc_timer, disc_tick, 0, s->discovery_ms);
}

static int64_t recorded_until(void *arg)
{
	struct de *s = arg;
	for (int i = 0; i < W_N; i++)
		if (i != W_ROLLOUTS && !s->synced[i])
			return 0;
	if (s->w[W_ROLLOUTS] && !s->synced[W_ROLLOUTS])
		return 0;
	return hg_now_ns();
}

static void on_lease_error(void *arg, const char *msg)
{
	struct de *s = arg;
	log_warn(s->label, "%s", msg);
}

/* ---- plugin ---- */

static void destroy(struct de *s)
{
	hg_kube_client_free(s->c);
	hg_kube_config_free(&s->kc);
	free(s->cluster);
	free(s->json);
	hg_kobj_free(&s->obj);
	free(s);
}

static void disc_closed(uv_handle_t *h)
{
	struct de *s = h->data;
	destroy(s);
}

static void lease_stopped(void *arg)
{
	struct de *s = arg;
	s->lease = NULL;
	uv_close((uv_handle_t *)&s->disc_timer, disc_closed);
}

static int de_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct de_config *cfg = config;
	struct de *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(s->label, sizeof s->label, "%s", env->instance_name ? env->instance_name : "inputs.deploy_events");
	struct kube_config_opts ko = { .kubeconfig = cfg->kubeconfig, .context = cfg->context, .option = "kubeconfig" };
	if (hg_kube_config_auto(&s->kc, &ko, err, errlen) != 0) {
		free(s);
		return -1;
	}
	hg_kube_config_warn_insecure(&s->kc, s->label);
	s->c = hg_kube_client_new(env->loop, NULL, &s->kc, err, errlen);
	if (!s->c) {
		hg_kube_config_free(&s->kc);
		free(s);
		return -1;
	}
	hg_kube_client_set_user_agent(s->c, "heliograph/" HG_VERSION " deploy_events");
	s->cluster = strdup(cfg->cluster ? cfg->cluster : "default");
	hg_lease_identity(cfg->identity, s->identity, sizeof s->identity);
	int64_t dur = hg_lease_duration_ms(cfg->lease_duration);
	s->lo = (struct lease_opts){
		.ns = cfg->lease_namespace ? cfg->lease_namespace : s->kc.namespace,
		.name = cfg->lease_name ? cfg->lease_name : "heliograph-agent-leader",
		.identity = s->identity,
		.log_label = "deploy_events",
		.recorded_annotation = "heliograph.io/deploy-events-recorded-until",
		.duration_ms = dur,
		.renew_ms = cfg->renew_interval > 0 ? cfg->renew_interval / 1000000 : dur / 3,
		.retry_ms = cfg->retry_interval > 0 ? cfg->retry_interval / 1000000 : dur / 4,
		.on_change = on_leader,
		.recorded_until = recorded_until,
		.on_error = on_lease_error,
		.arg = s,
	};
	if (s->lo.renew_ms >= dur || s->lo.retry_ms >= dur) {
		snprintf(err, errlen, "renew_interval and retry_interval must be shorter than lease_duration");
		destroy(s);
		return -1;
	}
	if (!s->cluster || !s->lo.ns) {
		snprintf(err, errlen, "out of memory");
		destroy(s);
		return -1;
	}
	s->release = cfg->release_on_shutdown;
	s->watch_timeout = cfg->watch_timeout > 0 ? (unsigned)(cfg->watch_timeout / 1000000000) : 300;
	s->discovery_ms = cfg->discovery_interval > 0 ? (uint64_t)(cfg->discovery_interval / 1000000) : 60000;
	uv_timer_init(env->loop, &s->disc_timer);
	s->disc_timer.data = s;
	*state = s;
	return 0;
}

/* The first gather hands over the accumulator and starts campaigning; from
 * then on points go out as the watches deliver. */
static int de_gather(void *state, struct acc *acc)
{
	struct de *s = state;
	s->acc = acc;
	if (!s->lease) {
		char err[256];
		s->lease = hg_lease_start(s->c, &s->lo, err, sizeof err);
		if (!s->lease)
			hg_acc_error(acc, "leader election: %s", err);
	}
	return GATHER_DONE;
}

/* The agent stops: no more watching, and the started points waiting for a
 * revision number go out now, with what is known, before the outputs' last
 * flush. The next leader would skip them (their spec write is before what
 * this one recorded): held back, they would be lost. */
static void de_stop(void *state)
{
	struct de *s = state;
	stop_watches(s);
	uv_timer_stop(&s->disc_timer);
	hg_track_flush(s->track);
}

static void de_free(void *state)
{
	struct de *s = state;
	s->freed = true;
	stop_watches(s);
	uv_timer_stop(&s->disc_timer);
	hg_track_flush(s->track); /* when free comes without stop (a failed start) */
	s->acc = NULL;
	hg_track_free(s->track);
	s->track = NULL;
	if (s->lease)
		hg_lease_stop(s->lease, s->release, lease_stopped, s); /* the client lives until the hand-over is written */
	else
		lease_stopped(s);
}

const struct input_plugin hg_input_deploy_events = {
	.name = "deploy_events",
	.summary = "Deploys (strategy and phases) from the Kubernetes API, on the Lease holder only",
	.config_size = sizeof(struct de_config),
	.options = de_options,
	.init = de_init,
	.gather = de_gather,
	.free = de_free,
	.stop = de_stop,
};
