/* The harness of the Lease election tests (test_kube_lease_*.c): candidates
 * on one loop against the test API server (tests/servers/kube_api_server.py:
 * coordination.k8s.io/v1 leases, PUT with resourceVersion preconditions,
 * scripted failures), the loop run until an event, and the server side read
 * with blocking calls between loop runs: the Lease as stored, the requests
 * the server saw, the agent's log, failure rules. Test-only; every definition
 * is static. Include after check.h.
 *
 * Timing: every request a candidate sends times out after its renew period
 * (kube_lease.c), and a leader steps down 2/3 of the duration after its last
 * successful renew. A fresh candidate's first request opens a TLS connection
 * to a Python server; with both cores busy that took longer than the 200 ms
 * renew period these tests once used (a waiting candidate reported a timed-out
 * read, about 1 run in 5 under load). Leases of 2 s renewed every 400 ms
 * keep the same proportions with twice the room; the checks are made in those
 * units. The server's own calls reuse one connection, so that the loop
 * stands still for as short a time as possible between runs. */
#ifndef HG_KUBE_LEASE_HARNESS_H
#define HG_KUBE_LEASE_HARNESS_H
#define KL_FN static __attribute__((unused))

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "check.h"
#include "kube_client.h"
#include "kube_lease.h"
#include "kube_server.h"
#include "kube_util.h"
#include "log.h"

#define DUR_MS 2000
#define RENEW_MS 400
#define RETRY_MS 100
#define EXEC_DUR_MS 3000 /* test_send_failure's */
#define EXEC_RENEW_MS 500
#define ANN "heliograph.io/test-recorded-until"
#define LEASES "/apis/coordination.k8s.io/v1/namespaces/kt/leases"

KL_FN uv_loop_t loop;
KL_FN struct kube_server ks;
KL_FN char logpath[300];
KL_FN const char *kubeconfig;

/* ---- a candidate ---- */

struct cand {
	const char *id;
	struct kube_config kc;
	struct kube_client *c;
	struct lease *l;
	bool leader;
	int ups, downs, errors, stopped;
	int64_t prev;     /* prev_recorded_ns of the last election */
	int64_t recorded; /* what recorded_until answers */
	char err[1024];   /* the last on_error message */
	/* The first on_error naming a failed exec plugin (test_send_failure): under
	 * load a request may also end at its own timeout while the plugin runs. */
	char exec_err[1024];
};

KL_FN void on_change(void *arg, bool leader, int64_t prev)
{
	struct cand *c = arg;
	c->leader = leader;
	if (leader) {
		c->ups++;
		c->prev = prev;
	} else {
		c->downs++;
	}
}

KL_FN int64_t recorded_until(void *arg)
{
	return ((struct cand *)arg)->recorded;
}

KL_FN void on_error(void *arg, const char *msg)
{
	struct cand *c = arg;
	c->errors++;
	snprintf(c->err, sizeof c->err, "%s", msg);
	if (!c->exec_err[0] && strstr(msg, "failed (exit status"))
		snprintf(c->exec_err, sizeof c->exec_err, "%s", msg);
}

KL_FN void on_stopped(void *arg)
{
	((struct cand *)arg)->stopped++;
}

KL_FN bool cand_start_renew(struct cand *c, const char *id, const char *kcpath, const char *lease, int64_t dur_ms,
			     int64_t renew_ms)
{
	memset(c, 0, sizeof *c);
	c->id = id;
	char err[1024];
	struct kube_config_opts ko = { .kubeconfig = kcpath };
	if (hg_kube_config_load(&c->kc, &ko, err, sizeof err) != 0 ||
	    !(c->c = hg_kube_client_new(&loop, NULL, &c->kc, err, sizeof err))) {
		fprintf(stderr, "client: %s\n", err);
		return false;
	}
	struct lease_opts o = {
		.ns = "kt", .name = lease, .identity = id, .log_label = "lease-test", .recorded_annotation = ANN,
		.duration_ms = dur_ms, .renew_ms = renew_ms, .retry_ms = RETRY_MS,
		.on_change = on_change, .recorded_until = recorded_until, .on_error = on_error, .arg = c,
	};
	c->l = hg_lease_start(c->c, &o, err, sizeof err);
	if (!c->l)
		fprintf(stderr, "lease_start: %s\n", err);
	return c->l != NULL;
}

KL_FN bool cand_start(struct cand *c, const char *id, const char *kcpath, const char *lease, int64_t dur_ms)
{
	return cand_start_renew(c, id, kcpath, lease, dur_ms, RENEW_MS);
}

KL_FN void cand_free(struct cand *c)
{
	hg_kube_client_free(c->c);
	hg_kube_config_free(&c->kc);
	c->c = NULL;
}

/* ---- the loop ---- */

KL_FN uint64_t now_ms(void)
{
	uv_update_time(&loop);
	return uv_now(&loop);
}

KL_FN int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs the loop until *flag reaches want, at most ms; true when it did. */
KL_FN bool run_until(const int *flag, int want, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	while (*flag < want && now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	return *flag >= want;
}

KL_FN void run_for(int ms)
{
	static const int never = 0;
	run_until(&never, 1, ms);
}

KL_FN uv_timer_t ticker; /* bounds how long one uv_run(UV_RUN_ONCE) blocks */

KL_FN void tick(uv_timer_t *t)
{
	(void)t;
}

/* ---- the server side: blocking calls made between loop runs ---- */

/* One handle for every read, so that its connection is kept (the server
 * speaks HTTP/1.1) and a read is one request, not a TLS handshake. */
KL_FN CURL *server_handle;

KL_FN char *http_get(const char *path)
{
	char url[512], ca[320];
	snprintf(url, sizeof url, "%s%s", ks.url, path);
	snprintf(ca, sizeof ca, "%s/tls/ca.crt", ks.dir);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!server_handle)
		server_handle = curl_easy_init();
	CURL *e = server_handle;
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer admin");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, mem);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_perform(e);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	fclose(mem);
	return buf;
}

struct rec {
	char holder[256], acquire[48], renew[48], rv[32], recorded[64];
	int64_t transitions, duration;
};

KL_FN const char *jstr(yajl_val root, const char **path)
{
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : "";
}

KL_FN int64_t jint(yajl_val root, const char **path)
{
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The Lease as stored; holder "(none)" when it does not exist. */
KL_FN struct rec get_lease(const char *name)
{
	struct rec r = { .transitions = -1, .duration = -1 };
	char path[256];
	snprintf(path, sizeof path, "%s/%s", LEASES, name);
	char *body = http_get(path), err[128];
	yajl_val root = yajl_tree_parse(body, err, sizeof err);
	const char *kind[] = { "kind", NULL };
	if (!root || strcmp(jstr(root, kind), "Lease") != 0) {
		snprintf(r.holder, sizeof r.holder, "(none)");
	} else {
		const char *h[] = { "spec", "holderIdentity", NULL }, *a[] = { "spec", "acquireTime", NULL },
			   *rn[] = { "spec", "renewTime", NULL }, *rv[] = { "metadata", "resourceVersion", NULL },
			   *an[] = { "metadata", "annotations", ANN, NULL }, *tr[] = { "spec", "leaseTransitions", NULL },
			   *du[] = { "spec", "leaseDurationSeconds", NULL };
		snprintf(r.holder, sizeof r.holder, "%s", jstr(root, h));
		snprintf(r.acquire, sizeof r.acquire, "%s", jstr(root, a));
		snprintf(r.renew, sizeof r.renew, "%s", jstr(root, rn));
		snprintf(r.rv, sizeof r.rv, "%s", jstr(root, rv));
		snprintf(r.recorded, sizeof r.recorded, "%s", jstr(root, an));
		r.transitions = jint(root, tr);
		r.duration = jint(root, du);
	}
	yajl_tree_free(root);
	free(body);
	return r;
}

/* "2024-06-10T06:13:20.500000Z" in ns; 0 when not a MicroTime. */
KL_FN int64_t micro_ns(const char *s)
{
	time_t t;
	const char *dot = strchr(s, '.');
	if (hg_kube_parse_time(s, &t) != 0 || !dot || strlen(dot) != 8)
		return 0;
	return (int64_t)t * 1000000000 + strtoll(dot + 1, NULL, 10) * 1000;
}

/* Requests the server saw with this method and exact path. */
KL_FN int requests(const char *method, const char *path)
{
	char *body = http_get("/_control/requests"), err[128];
	yajl_val root = yajl_tree_parse(body, err, sizeof err);
	int n = 0;
	for (size_t i = 0; root && YAJL_IS_ARRAY(root) && i < root->u.array.len; i++) {
		yajl_val q = root->u.array.values[i];
		const char *m[] = { "method", NULL }, *p[] = { "path", NULL };
		if (strcmp(jstr(q, m), method) == 0 && strcmp(jstr(q, p), path) == 0)
			n++;
	}
	yajl_tree_free(root);
	free(body);
	return n;
}

/* Lines of the agent's log containing s. */
KL_FN int log_lines(const char *s)
{
	FILE *f = fopen(logpath, "r");
	char line[2048];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, s) != NULL;
	if (f)
		fclose(f);
	return n;
}

KL_FN void fail_rule(const char *method, const char *lease, int code, const char *reason, const char *message,
		      int times)
{
	char body[1024];
	snprintf(body, sizeof body,
		 "{\"method\":\"%s\",\"path\":\"%s/%s\",\"code\":%d,\"reason\":\"%s\",\"message\":\"%s\",\"times\":%d}",
		 method, LEASES, lease, code, reason, message, times);
	CHECK_INT(ks_control(&ks, "/_control/fail", body), 200);
}

#define RECORDED_A 1718000000500000000LL /* 2024-06-10T06:13:20.5Z */
#define RECORDED_B 1718000100000000000LL /* 2024-06-10T06:15:00Z */

KL_FN int lease_setup(void)
{
	uv_loop_init(&loop);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ks_start(&ks, "admin", "ro") != 0) {
		fprintf(stderr, "cannot start the test API server\n");
		return 2;
	}
	snprintf(logpath, sizeof logpath, "%s/agent.log", ks.dir);
	hg_log_open(logpath, false, false);
	kubeconfig = strdup(ks_kubeconfig(&ks, "kc.yaml", "    token: admin"));
	CHECK_INT(ks_control(&ks, "/_control/objects", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"kt\"}}"),
		  200);
	uv_timer_init(&loop, &ticker);
	uv_timer_start(&ticker, tick, 10, 10);
	return 0;
}

KL_FN void lease_teardown(void)
{
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	hg_log_close();
	if (server_handle)
		curl_easy_cleanup(server_handle);
	ks_stop(&ks);
	free((void *)kubeconfig);
	CHECK_INT(uv_loop_close(&loop), 0);
	curl_global_cleanup();
}

#endif
