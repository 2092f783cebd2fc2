/* Streaming LIST/WATCH parsing (real watch streams fed in small pieces) and
 * list+watch against the test API server: events, bookmarks, resume, and a
 * re-list after 410 Gone. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kube_server.h"
#include "kube_util.h"
#include "kube_watch.h"
#include "kube_watch_parse.h"

struct seen {
	int n, list_items, added, modified, deleted, bookmarks, synced, errors;
	char last_name[256], last_rv[64], types[4096];
	size_t max_len;
};

static void on_parsed(void *arg, struct kwp *p, bool from_list)
{
	struct seen *s = arg;
	const char *json;
	size_t len;
	hg_kwp_object(p, &json, &len);
	s->n++;
	s->list_items += from_list;
	if (len > s->max_len)
		s->max_len = len;
	snprintf(s->last_name, sizeof(s->last_name), "%s", p->name);
	size_t k = strlen(s->types);
	snprintf(s->types + k, sizeof(s->types) - k, "%s%s", k ? "," : "", from_list ? "LIST" : p->type);
	/* the captured object is complete JSON on its own */
	CHECK(len > 2 && json[0] == '{' && json[len - 1] == '}');
}

static void feed_file(const char *rel, bool list, size_t chunk, struct seen *s)
{
	char path[1200], err[256], *buf;
	size_t len;
	const char *fix = getenv("FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", fix ? fix : "fixtures", rel);
	CHECK_INT(hg_kube_read_file(path, 1 << 20, &buf, &len, err, sizeof(err)), 0);
	struct kwp p;
	hg_kwp_init(&p, list, 1 << 20, on_parsed, s);
	for (size_t off = 0; off < len; off += chunk)
		CHECK_INT(hg_kwp_feed(&p, buf + off, len - off < chunk ? len - off : chunk, err, sizeof(err)), 0);
	CHECK_INT(hg_kwp_finish(&p, err, sizeof(err)), 0);
	hg_kwp_free(&p);
	free(buf);
}

static void test_parse(void)
{
	struct seen s = { 0 };
	feed_file("k8s-api/watch/kind-v1.36-watch-pods-sendInitialEvents-bookmark.jsonl", false, 7, &s);
	CHECK_INT(s.n, 9);
	CHECK(strncmp(s.types, "ADDED,ADDED,ADDED,ADDED,ADDED,ADDED,ADDED,ADDED,BOOKMARK", 57) == 0);
	memset(&s, 0, sizeof(s));
	feed_file("k8s-api/watch/kind-v1.36-watch-customresource-foobars.jsonl", false, 1, &s);
	CHECK_INT(s.n, 2);
	CHECK_STR(s.types, "ADDED,ADDED");

	/* a list body: items one by one, the list's resourceVersion and continue */
	const char *list = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"42\","
			   "\"continue\":\"tok\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\","
			   "\"resourceVersion\":\"7\",\"labels\":{\"k\":\"v\"}},\"spec\":{\"n\":[1,2.5,true,null]}},"
			   "{\"metadata\":{\"name\":\"b\"}}]}";
	memset(&s, 0, sizeof(s));
	struct kwp p;
	char err[256];
	hg_kwp_init(&p, true, 1 << 20, on_parsed, &s);
	for (size_t i = 0; list[i]; i++)
		CHECK_INT(hg_kwp_feed(&p, list + i, 1, err, sizeof(err)), 0);
	CHECK_INT(hg_kwp_finish(&p, err, sizeof(err)), 0);
	CHECK_INT(s.list_items, 2);
	CHECK_STR(s.last_name, "b");
	CHECK_STR(p.list_rv, "42");
	CHECK_STR(p.cont, "tok");
	hg_kwp_free(&p);

	/* an object over the bound is refused, not buffered */
	memset(&s, 0, sizeof(s));
	hg_kwp_init(&p, false, 64, on_parsed, &s);
	const char *big = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}";
	CHECK_INT(hg_kwp_feed(&p, big, strlen(big), err, sizeof(err)), -1);
	CHECK(strstr(err, "larger than 64 bytes"));
	CHECK_INT(s.n, 0);
	hg_kwp_free(&p);
	/* truncated stream */
	hg_kwp_init(&p, true, 1 << 20, on_parsed, &s);
	CHECK_INT(hg_kwp_feed(&p, "{\"items\":[{\"a\":1}", 17, err, sizeof(err)), 0);
	CHECK_INT(hg_kwp_finish(&p, err, sizeof(err)), -1);
	hg_kwp_free(&p);
}

static struct seen ws;

static void on_event(void *arg, const struct kube_event *ev)
{
	(void)arg;
	if (ev->from_list)
		ws.list_items++;
	else if (ev->type == KUBE_EV_ADDED)
		ws.added++;
	else if (ev->type == KUBE_EV_MODIFIED)
		ws.modified++;
	else if (ev->type == KUBE_EV_DELETED)
		ws.deleted++;
	else if (ev->type == KUBE_EV_BOOKMARK)
		ws.bookmarks++;
	if (ev->type != KUBE_EV_BOOKMARK)
		snprintf(ws.last_name, sizeof(ws.last_name), "%s", ev->name);
	snprintf(ws.last_rv, sizeof(ws.last_rv), "%s", ev->resource_version);
}

static char ws_last_err[1024];

static void on_synced(void *arg)
{
	(void)arg;
	ws.synced++;
}

static void on_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "watch error: %s\n", msg);
	snprintf(ws_last_err, sizeof ws_last_err, "%s", msg);
	ws.errors++;
}

static uv_loop_t loop;

static struct kube_watch *stop_me;
static int stopped_in_synced;

static void stop_in_synced(void *arg)
{
	hg_kube_watch_stop(*(struct kube_watch **)arg);
	stopped_in_synced++;
}

static bool run_until(int *counter, int want, double secs)
{
	uint64_t end = uv_now(&loop) + (uint64_t)(secs * 1000);
	while (*counter < want && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(2000);
		uv_update_time(&loop);
	}
	return *counter >= want;
}

static int apply(struct kube_client *c, const char *doc)
{
	char err[1024];
	struct kube_apply_opts o = { .force = true };
	int rc = hg_kube_apply(c, doc, strlen(doc), &o, NULL, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "apply: %s\n", err);
	return rc;
}

static void test_watch(void)
{
	struct kube_server ks;
	if (ks_start(&ks, "admin", "ro") != 0) {
		CHECK(!"kube_api_server.py started");
		return;
	}
	char err[1024];
	struct kube_config kc;
	struct kube_config_opts o = { .kubeconfig = ks_kubeconfig(&ks, "kc", "    token: admin") };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	struct kube_client *c = hg_kube_client_new(&loop, NULL, &kc, err, sizeof(err));
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"kt\"}}"), 0);
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"labels\":{\"w\":\"1\"}}}"), 0);
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\",\"labels\":{\"w\":\"1\"}}}"), 0);
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"other\"}}"), 0);

	struct kube_watch_opts wo = { .path = "/api/v1/namespaces/kt/configmaps", .label_selector = "w=1",
				      .on_event = on_event, .on_synced = on_synced, .on_error = on_error,
				      .timeout_seconds = 1, .page_size = 1 };
	struct kube_watch *w = hg_kube_watch_start(c, &wo, err, sizeof(err));
	CHECK(w != NULL);
	CHECK(run_until(&ws.synced, 1, 10));
	CHECK_INT(ws.list_items, 2); /* page_size 1: two pages, "other" filtered out */

	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"w\":\"1\"}}}"), 0);
	CHECK(run_until(&ws.added, 1, 10));
	CHECK_STR(ws.last_name, "c");
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"w\":\"1\"}},\"data\":{\"k\":\"v\"}}"), 0);
	CHECK(run_until(&ws.modified, 1, 10));
	CHECK_INT(hg_kube_delete(c, "v1", "ConfigMap", "kt", "c", err, sizeof(err)), 0);
	CHECK(run_until(&ws.deleted, 1, 10));
	CHECK(run_until(&ws.bookmarks, 1, 10)); /* every 0.5 s from the server */
	CHECK_STR(hg_kube_watch_resource_version(w), ws.last_rv);

	/* Watches end every second (timeoutSeconds 1) and resume from the last
	 * resourceVersion. The server now forgets its history and drops open
	 * watches: resuming gets 410 Gone, and the watch lists again. */
	CHECK_INT(hg_kube_watch_lists(w), 1);
	int synced = ws.synced;
	CHECK_INT(apply(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"d\",\"labels\":{\"w\":\"1\"}}}"), 0);
	ks_control(&ks, "/_control/compact", "");
	CHECK(run_until(&ws.synced, synced + 1, 10));
	CHECK_INT(hg_kube_watch_lists(w), 2);
	CHECK_INT(ws.list_items, 2 + 3); /* a, b, d */
	CHECK_INT(ws.deleted, 1);
	CHECK_INT(ws.errors, 0);

	/* A LIST page whose body breaks off after 20 bytes: reported as the
	 * transport error (not as unfinished JSON), and the watch lists again. */
	CHECK_INT(ks_control(&ks, "/_control/fail", "{\"method\":\"GET\",\"path\":\"/api/v1/namespaces/kt/configmaps\","
						 "\"query\":\"continue=\",\"cut\":20,\"times\":1}"),
		  200);
	synced = ws.synced;
	ks_control(&ks, "/_control/compact", "");
	CHECK(run_until(&ws.errors, 1, 10));
	CHECK(strstr(ws_last_err, "broke off after 20 bytes") != NULL);
	CHECK(strstr(ws_last_err, "not JSON") == NULL);
	CHECK(run_until(&ws.synced, synced + 1, 10));
	ks_control(&ks, "/_control/fail", "[]");

	hg_kube_watch_stop(w);
	int dummy = 0;
	run_until(&dummy, 1, 1.5); /* let the abandoned request finish */

	/* A watch stopped from its own on_synced (kube_inventory's first gather
	 * ends there, and with --once the agent stops): freed once, after the
	 * callback (ASan: it was freed twice). */
	struct kube_watch_opts so = { .path = "/api/v1/namespaces/kt/configmaps", .on_event = on_event,
				      .on_synced = stop_in_synced, .arg = &stop_me };
	stop_me = hg_kube_watch_start(c, &so, err, sizeof(err));
	CHECK(stop_me != NULL);
	CHECK(run_until(&stopped_in_synced, 1, 10));
	run_until(&dummy, 1, 0.3);
	hg_kube_client_free(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	hg_kube_config_free(&kc);
	ks_stop(&ks);
}

static int suite_setup(void)
{
	uv_loop_init(&loop);
	return 0;
}

static void suite_teardown(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_parse),
		CHECK_CASE(test_watch),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
