/* Leader election: one timer, at most one request in flight; while leader,
 * a second timer steps down at the renew deadline (2/3 of the duration after
 * the last successful renew was sent), whatever the requests do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "kube_lease.h"
#include "kube_util.h"
#include "log.h"
#include "clock.h"

struct lease {
	struct kube_client *c;
	struct lease_opts o;
	char *ns, *name, *id, *label, *ann;
	char path[512];
	uv_timer_t timer;
	uv_timer_t deadline;      /* leader: steps down at renewed_ms + 2/3 of the duration */
	int handles;              /* open timers; l is freed when the last one is closed */
	bool leader, busy, stopping, release, closed;
	bool want_release; /* stop asked for a hand-over while a request was in flight */
	int release_tries; /* releases answered 409 (a renew the server applied late moved it) */
	/* The record as last read. */
	bool exists;
	char rv[64], holder[256], record[512], acquire[40], recorded[48];
	int64_t transitions;
	uint64_t record_seen_ms;  /* loop time when the record last changed */
	uint64_t renewed_ms;      /* loop time when our last successful write was sent */
	uint64_t sent_ms;         /* loop time when the request in flight was sent */
	char *body;
	void (*done)(void *);
	void *done_arg;
};

static uint64_t mono_ms(struct lease *l)
{
	uv_update_time(hg_kube_client_loop(l->c));
	return uv_now(hg_kube_client_loop(l->c));
}

static void micro_time(char *out, size_t n, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	if (k)
		snprintf(out + k, n - k, ".%06ldZ", (long)(ns % 1000000000 / 1000));
}

/* An RFC 3339 time with its fraction, in ns since the epoch; 0 if unreadable. */
static int64_t recorded_ns(const char *s)
{
	time_t t;
	/* Past 2262 does not fit int64 ns: as unreadable. */
	if (hg_kube_parse_time(s, &t) != 0 || t >= INT64_MAX / 1000000000 || t <= INT64_MIN / 1000000000)
		return 0;
	int64_t ns = 0;
	const char *dot = strchr(s, '.');
	if (dot) {
		int64_t scale = 100000000;
		for (const char *p = dot + 1; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
			ns += (*p - '0') * scale;
	}
	return (int64_t)t * 1000000000 + ns;
}

static void error(struct lease *l, const char *fmt, const char *a)
{
	char msg[600];
	snprintf(msg, sizeof msg, fmt, a);
	if (l->o.on_error)
		l->o.on_error(l->o.arg, msg);
}

static void set_leader(struct lease *l, bool on, int64_t prev)
{
	if (!on)
		uv_timer_stop(&l->deadline);
	if (l->leader == on)
		return;
	l->leader = on;
	l->o.on_change(l->o.arg, on, prev);
}

static void tick(uv_timer_t *t);

/* The others may take over a duration after they saw our last write, which
 * was after we sent it: a leader steps down 2/3 of the duration after that. */
static uint64_t renew_deadline(const struct lease *l)
{
	return l->renewed_ms + (uint64_t)(l->o.duration_ms * 2 / 3);
}

static void step_down(struct lease *l)
{
	log_warn(l->label, "%s could not renew the Lease in time: stepping down", l->id);
	set_leader(l, false, 0);
}

/* On time even with a renew in flight (whose answer, if it comes, cannot be
 * later: its timeout ends at this deadline). */
static void deadline_passed(uv_timer_t *t)
{
	struct lease *l = t->data;
	if (l->leader && !l->stopping)
		step_down(l);
}

/* A renew failed (or could not be sent): a leader that has not renewed for
 * 2/3 of the duration steps down before the others may take over. */
static void renew_failed(struct lease *l)
{
	if (l->leader && mono_ms(l) >= renew_deadline(l))
		step_down(l);
}

static void schedule(struct lease *l)
{
	if (l->stopping)
		return;
	uv_timer_start(&l->timer, tick, (uint64_t)(l->leader ? l->o.renew_ms : l->o.retry_ms), 0);
}

/* Reads the Lease into l's record fields; false when the body is not one. */
static bool read_record(struct lease *l, const char *json)
{
	char e[128];
	yajl_val root = yajl_tree_parse(json, e, sizeof e);
	if (!root)
		return false;
	const char *rvp[] = { "metadata", "resourceVersion", NULL }, *hp[] = { "spec", "holderIdentity", NULL },
		   *rp[] = { "spec", "renewTime", NULL }, *ap[] = { "spec", "acquireTime", NULL },
		   *tp[] = { "spec", "leaseTransitions", NULL },
		   *anp[] = { "metadata", "annotations", l->ann ? l->ann : "", NULL };
	yajl_val v;
	v = yajl_tree_get(root, rvp, yajl_t_string);
	snprintf(l->rv, sizeof l->rv, "%s", v ? YAJL_GET_STRING(v) : "");
	v = yajl_tree_get(root, hp, yajl_t_string);
	snprintf(l->holder, sizeof l->holder, "%s", v ? YAJL_GET_STRING(v) : "");
	v = yajl_tree_get(root, ap, yajl_t_string);
	snprintf(l->acquire, sizeof l->acquire, "%s", v ? YAJL_GET_STRING(v) : "");
	v = l->ann ? yajl_tree_get(root, anp, yajl_t_string) : NULL;
	snprintf(l->recorded, sizeof l->recorded, "%s", v ? YAJL_GET_STRING(v) : "");
	v = yajl_tree_get(root, tp, yajl_t_number);
	l->transitions = v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
	char record[512];
	v = yajl_tree_get(root, rp, yajl_t_string);
	snprintf(record, sizeof record, "%s|%s", l->holder, v ? YAJL_GET_STRING(v) : "");
	if (strcmp(record, l->record) != 0) {
		snprintf(l->record, sizeof l->record, "%s", record);
		l->record_seen_ms = mono_ms(l);
	}
	l->exists = true;
	yajl_tree_free(root);
	return true;
}

static void free_lease(uv_handle_t *h)
{
	struct lease *l = h->data;
	if (--l->handles > 0)
		return;
	free(l->body);
	free(l->ns);
	free(l->name);
	free(l->id);
	free(l->label);
	free(l->ann);
	free(l);
}

static void write_record(struct lease *l, bool acquire);

/* Ends a stop once no request is in flight; l is freed after done runs. */
static void finish_stop(struct lease *l)
{
	if (l->want_release) {
		l->want_release = false;
		l->release = true;
		l->leader = true; /* writes our recorded-until one last time */
		write_record(l, false);
		l->leader = false;
		/* In flight; or it could not be sent and the stop has ended already. */
		if (l->busy || l->closed)
			return;
	}
	void (*done)(void *) = l->done;
	void *arg = l->done_arg;
	l->closed = true;
	uv_close((uv_handle_t *)&l->timer, free_lease);
	uv_close((uv_handle_t *)&l->deadline, free_lease);
	if (done)
		done(arg);
}

static void write_done(void *arg, const struct kube_response *r);
static void get_done(void *arg, const struct kube_response *r);

static void lease_send(struct lease *l, const char *method, const char *path, const char *body, kube_done_fn done)
{
	struct kube_request q = { .method = method, .path = path, .what = "leases", .timeout_ms = l->o.renew_ms };
	l->sent_ms = mono_ms(l);
	if (l->leader && !l->stopping) {
		/* A renew ends by the deadline: its timeout cannot keep us leader past it. */
		uint64_t end = renew_deadline(l);
		if (l->sent_ms >= end) {
			step_down(l);
			schedule(l);
			return;
		}
		if (end - l->sent_ms < (uint64_t)q.timeout_ms)
			q.timeout_ms = (int64_t)(end - l->sent_ms);
	}
	if (body) {
		q.body = body;
		q.body_len = strlen(body);
		q.content_type = "application/json";
	}
	char err[512];
	if (hg_kube_send(l->c, &q, done, l, err, sizeof err) != 0) {
		error(l, "lease: %s", err);
		if (l->stopping) {
			finish_stop(l);
			return;
		}
		renew_failed(l);
		schedule(l);
		return;
	}
	l->busy = true;
}

/* PUT (or POST when absent) the record with us (or nobody) as holder. */
static void write_record(struct lease *l, bool acquire)
{
	int64_t now = hg_now_ns();
	char t[40], trans[32];
	micro_time(t, sizeof t, now);
	char recorded[48] = "";
	int64_t ru = l->leader && l->o.recorded_until ? l->o.recorded_until(l->o.arg) : 0;
	if (ru)
		micro_time(recorded, sizeof recorded, ru);
	else
		snprintf(recorded, sizeof recorded, "%s", l->recorded);
	int64_t secs = (l->o.duration_ms + 999) / 1000;
	const char *holder = l->release ? "" : l->id;
	if (acquire) {
		snprintf(l->acquire, sizeof l->acquire, "%s", t);
		if (l->exists && strcmp(l->holder, l->id) != 0)
			l->transitions++;
	}
	snprintf(trans, sizeof trans, "%lld", (long long)l->transitions);
	free(l->body);
	l->body = NULL;
	size_t cap = 2048 + strlen(l->ns) + strlen(l->name) + strlen(holder);
	l->body = malloc(cap);
	if (!l->body) {
		schedule(l);
		return;
	}
	char rvpart[96] = "", annpart[160] = "";
	if (l->exists)
		snprintf(rvpart, sizeof rvpart, ",\"resourceVersion\":\"%s\"", l->rv);
	if (recorded[0] && l->ann)
		snprintf(annpart, sizeof annpart, ",\"annotations\":{\"%s\":\"%s\"}", l->ann, recorded);
	/* Names and identities are DNS labels / pod names: nothing to escape. */
	snprintf(l->body, cap,
		 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"%s\","
		 "\"namespace\":\"%s\"%s%s},\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%lld,"
		 "\"acquireTime\":\"%s\",\"renewTime\":\"%s\",\"leaseTransitions\":%s}}",
		 l->name, l->ns, rvpart, annpart, holder, (long long)(l->release ? 1 : secs),
		 l->acquire[0] ? l->acquire : t, t, trans);
	if (l->exists) {
		char path[600];
		snprintf(path, sizeof path, "%s/%s", l->path, l->name);
		lease_send(l, "PUT", path, l->body, write_done);
	} else {
		lease_send(l, "POST", l->path, l->body, write_done);
	}
}

static void write_done(void *arg, const struct kube_response *r)
{
	struct lease *l = arg;
	l->busy = false;
	if (l->closed)
		return;
	if (l->stopping) {
		if (r->status == 200 || r->status == 201) {
			read_record(l, r->body); /* the release needs the new resourceVersion */
		} else if (r->status == 409 && l->release && l->release_tries++ < 2) {
			/* A renew we gave up on (timed out) can still be applied by the server, and
			 * then the release's resourceVersion is stale. Read the Lease and release it
			 * again if it is still ours: otherwise the next leader waits a whole duration. */
			char path[600];
			snprintf(path, sizeof path, "%s/%s", l->path, l->name);
			lease_send(l, "GET", path, NULL, get_done); /* or, unsent, it ended the stop */
			return;
		} else if (r->status == 0) {
			/* Never answered, or never sent (the exec plugin failed). */
			error(l, "lease release: %s", r->message);
		}
		finish_stop(l);
		return;
	}
	if (r->status == 200 || r->status == 201) {
		int64_t prev = 0;
		if (!l->leader && l->recorded[0])
			prev = recorded_ns(l->recorded);
		/* Fraction of the recorded time matters little: a second's worth is re-checked. */
		read_record(l, r->body);
		l->renewed_ms = l->sent_ms;
		uint64_t now = mono_ms(l), end = renew_deadline(l);
		if (now >= end) {
			/* Written, but answered too late to lead on it (an acquire that took 2/3 of the duration). */
			if (l->leader)
				step_down(l);
		} else {
			if (!l->leader)
				log_info(l->label, "%s became the leader (Lease %s/%s)", l->id, l->ns, l->name);
			set_leader(l, true, prev);
			uv_timer_start(&l->deadline, deadline_passed, end - now, 0);
		}
	} else if (r->status == 409) {
		/* Someone else wrote it first: read again. */
		if (l->leader)
			log_warn(l->label, "%s lost the Lease %s/%s", l->id, l->ns, l->name);
		set_leader(l, false, 0);
	} else {
		error(l, "lease write: %s", r->message);
		renew_failed(l);
	}
	schedule(l);
}

static void get_done(void *arg, const struct kube_response *r)
{
	struct lease *l = arg;
	l->busy = false;
	if (l->closed)
		return;
	if (l->stopping) {
		/* The read after a release met a 409: release again while the Lease is ours. */
		if (l->release && r->status == 200 && read_record(l, r->body) && strcmp(l->holder, l->id) == 0)
			l->want_release = true;
		finish_stop(l);
		return;
	}
	if (r->status == 404) {
		l->exists = false;
		write_record(l, true);
		return;
	}
	if (r->status != 200 || !read_record(l, r->body)) {
		error(l, "lease read: %s", r->status || r->message[0] ? r->message : "no answer");
		schedule(l);
		return;
	}
	uint64_t now = mono_ms(l);
	bool mine = strcmp(l->holder, l->id) == 0;
	bool expired = now - l->record_seen_ms >= (uint64_t)l->o.duration_ms;
	if (mine || !l->holder[0] || expired)
		write_record(l, !mine);
	else
		schedule(l);
}

static void tick(uv_timer_t *t)
{
	struct lease *l = t->data;
	if (l->busy || l->stopping)
		return;
	if (l->leader) {
		write_record(l, false);
		return;
	}
	char path[600];
	snprintf(path, sizeof path, "%s/%s", l->path, l->name);
	lease_send(l, "GET", path, NULL, get_done);
}

struct lease *hg_lease_start(struct kube_client *c, const struct lease_opts *o, char *err, size_t errlen)
{
	struct lease *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->c = c;
	l->o = *o;
	l->ns = strdup(o->ns);
	l->name = strdup(o->name);
	l->id = strdup(o->identity);
	l->label = strdup(o->log_label ? o->log_label : "lease");
	l->ann = o->recorded_annotation ? strdup(o->recorded_annotation) : NULL;
	if (!l->ns || !l->name || !l->id || !l->label || (o->recorded_annotation && !l->ann)) {
		free(l->ns), free(l->name), free(l->id), free(l->label), free(l->ann), free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(l->path, sizeof l->path, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
	uv_timer_init(hg_kube_client_loop(c), &l->timer);
	l->timer.data = l;
	uv_timer_init(hg_kube_client_loop(c), &l->deadline);
	l->deadline.data = l;
	l->handles = 2;
	uv_timer_start(&l->timer, tick, 0, 0);
	return l;
}

bool hg_lease_is_leader(const struct lease *l)
{
	return l->leader;
}

bool hg_lease_request_in_flight(const struct lease *l)
{
	return l->busy;
}

unsigned hg_lease_transitions_seen(const struct lease *l)
{
	return (unsigned)l->transitions;
}

void hg_lease_stop(struct lease *l, bool release, void (*done)(void *arg), void *arg)
{
	l->stopping = true;
	l->done = done;
	l->done_arg = arg;
	uv_timer_stop(&l->timer);
	uv_timer_stop(&l->deadline);
	l->want_release = release && l->leader;
	l->leader = false;
	/* With a request in flight, its callback ends the stop. */
	if (!l->busy)
		finish_stop(l);
}

void hg_lease_identity(const char *configured, char *out, size_t cap)
{
	const char *id = configured ? configured : getenv("POD_NAME");
	if (id && *id)
		snprintf(out, cap, "%s", id);
	else if (gethostname(out, cap - 1) != 0)
		snprintf(out, cap, "heliograph-%ld", (long)getpid());
	else
		out[cap - 1] = '\0';
}

int64_t hg_lease_duration_ms(int64_t configured_ns)
{
	int64_t dur = configured_ns > 0 ? configured_ns / 1000000 : 15000;
	return dur < 1000 ? 1000 : dur;
}
