/* The shared pod watch relists after 410 Gone, and that relist is itself
 * interrupted after its first page: the continue token of its second page
 * has expired by the time the page is asked for (the test API server
 * compacted meanwhile), so the watch lists again from the start. Pods
 * deleted between the two lists were in the first page of the broken one;
 * the cache must end with exactly the server's pods, none of them left
 * over from the list that never completed.
 *
 * More pods than one LIST page (the watch asks for 500) put the list on
 * two pages; a "hold" fault rule keeps the broken list's second page
 * waiting until the test has deleted and compacted. Every step waits on
 * what the server saw or what the watch did, never on time. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "check.h"
#include "kube_podwatch.h"
#include "kube_server.h"
#include "loop_wait.h"

#define TOKEN "relist-test-token"
#define NPODS 505 /* two pages of the watch's 500 */
#define NGONE 10  /* deleted while the relist is held: p-000 .. p-009, all in its first page */

static uv_loop_t *loop;

static bool pw_synced(void *arg)
{
	return hg_kube_podwatch_synced(arg);
}

static const struct kube_server *server;

/* LIST pages asked for with a continue token, as the server recorded them
 * (a held request is recorded before it is held). */
static size_t continue_requests(void)
{
	char *body = ks_get(server, "/_control/requests", NULL);
	size_t n = 0;
	for (const char *p = body ? strstr(body, "continue=") : NULL; p; p = strstr(p + 1, "continue="))
		n++;
	free(body);
	return n;
}

static size_t want_continues;
static bool continues_reached(void *arg)
{
	(void)arg;
	return continue_requests() >= want_continues;
}

static uint64_t gen_before;
static bool relisted(void *arg)
{
	return hg_kube_podwatch_lists(arg) >= 3 && hg_kube_podwatch_generation(arg) != gen_before;
}

static void put_pods(const struct kube_server *ks)
{
	size_t cap = NPODS * 256 + 16, len = 0;
	char *body = malloc(cap);
	len += (size_t)snprintf(body + len, cap - len, "[");
	for (int i = 0; i < NPODS; i++)
		len += (size_t)snprintf(body + len, cap - len,
					"%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%03d\","
					"\"namespace\":\"app\",\"uid\":\"uid-%03d\"},\"spec\":{\"nodeName\":\"node-a\","
					"\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\"}}",
					i ? "," : "", i, i);
	snprintf(body + len, cap - len, "]");
	CHECK_INT(ks_control(ks, "/_control/objects", body), 200);
	free(body);
}

static void delete_pods(const struct kube_server *ks)
{
	char body[4096];
	size_t len = (size_t)snprintf(body, sizeof body, "[");
	for (int i = 0; i < NGONE; i++)
		len += (size_t)snprintf(body + len, sizeof body - len,
					"%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%03d\","
					"\"namespace\":\"app\"}}",
					i ? "," : "", i);
	snprintf(body + len, sizeof body - len, "]");
	CHECK_INT(ks_control(ks, "/_control/delete", body), 200);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of node-a's pods as the server lists them (one page), sorted;
 * the count in *n. */
static char **server_pods(const struct kube_server *ks, size_t *n)
{
	*n = 0;
	char *body = ks_get(ks, "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a", TOKEN);
	CHECK(body != NULL);
	if (!body)
		return NULL;
	char perr[128];
	yajl_val root = yajl_tree_parse(body, perr, sizeof perr);
	free(body);
	static const char *p_items[] = { "items", NULL };
	static const char *p_name[] = { "metadata", "name", NULL };
	yajl_val items = yajl_tree_get(root, p_items, yajl_t_array);
	CHECK(items != NULL);
	char **v = calloc(items ? items->u.array.len + 1 : 1, sizeof(*v));
	for (size_t i = 0; items && i < items->u.array.len; i++) {
		yajl_val name = yajl_tree_get(items->u.array.values[i], p_name, yajl_t_string);
		const char *s = name ? YAJL_GET_STRING(name) : NULL;
		v[(*n)++] = strdup(s ? s : "");
	}
	yajl_tree_free(root);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* The watch's pods, by name, sorted; the count in *n. */
static char **watch_pods(const struct kube_podwatch *pw, size_t *n)
{
	*n = hg_kube_podwatch_count(pw);
	char **v = calloc(*n + 1, sizeof(*v));
	for (size_t i = 0; i < *n; i++)
		v[i] = strdup(hg_kube_podwatch_pod(pw, i)->name);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void test_relist(void)
{
	loop = uv_default_loop();
	struct kube_server ks;
	CHECK_INT(ks_start(&ks, TOKEN, "ro-" TOKEN), 0);
	server = &ks;
	char kcpath[512];
	snprintf(kcpath, sizeof kcpath, "%s", ks_kubeconfig(&ks, "kubeconfig", "    token: ro-" TOKEN));
	put_pods(&ks);

	char err[512] = "";
	struct kube_podwatch *pw = hg_kube_podwatch_acquire(loop, "node-a", kcpath, err, sizeof err);
	CHECK(pw != NULL);
	if (!pw) {
		fprintf(stderr, "acquire: %s\n", err);
		ks_stop(&ks);
		return;
	}
	CHECK(loop_run_until(loop, pw_synced, pw, 30));
	CHECK_INT(hg_kube_podwatch_count(pw), NPODS);
	CHECK_INT(hg_kube_podwatch_lists(pw), 1);
	CHECK_INT(continue_requests(), 1); /* the first list's second page */

	/* The relist's second page waits for the test. */
	CHECK_INT(ks_control(&ks, "/_control/fail",
			     "{\"method\":\"GET\",\"path\":\"/api/v1/pods\",\"query\":\"continue=\",\"hold\":\"page2\","
			     "\"times\":1}"),
		  200);
	gen_before = hg_kube_podwatch_generation(pw);
	/* Compaction: the watch's resourceVersion is gone, 410, relist. */
	CHECK_INT(ks_control(&ks, "/_control/compact", ""), 200);
	want_continues = 2;
	CHECK(loop_run_until(loop, continues_reached, NULL, 30)); /* its first page is in, the second held */
	CHECK_INT(hg_kube_podwatch_lists(pw), 2);

	/* Pods of that first page go away, and another compaction expires the
	 * held page's continue token: 410 again, a third list from the start. */
	delete_pods(&ks);
	CHECK_INT(ks_control(&ks, "/_control/compact", ""), 200);
	CHECK_INT(ks_control(&ks, "/_control/release", "{\"hold\":\"page2\"}"), 200);
	CHECK(loop_run_until(loop, relisted, pw, 30));
	CHECK_INT(hg_kube_podwatch_lists(pw), 3);
	CHECK(hg_kube_podwatch_synced(pw));

	/* Exactly the server's pods: none of the deleted ones, none twice. */
	size_t ns = 0, nw = 0;
	char **want = server_pods(&ks, &ns), **got = watch_pods(pw, &nw);
	CHECK_INT(ns, NPODS - NGONE);
	CHECK_INT(nw, ns);
	for (size_t i = 0; i < nw && i < ns; i++)
		if (strcmp(got[i], want[i]) != 0) {
			fprintf(stderr, "watch pod %zu: %s, server: %s\n", i, got[i], want[i]);
			CHECK_STR(got[i], want[i]);
			break;
		}
	for (size_t i = 0; i < nw; i++)
		for (int k = 0; k < NGONE; k++) {
			char gone[16];
			snprintf(gone, sizeof gone, "p-%03d", k);
			if (!strcmp(got[i], gone)) {
				fprintf(stderr, "deleted pod %s is still in the watch's cache\n", gone);
				CHECK(strcmp(got[i], gone) != 0);
			}
		}
	free_names(want, ns);
	free_names(got, nw);

	hg_kube_podwatch_release(pw);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	ks_stop(&ks);
	CHECK_INT(uv_loop_close(loop), 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_relist),
	};
	return CHECK_RUN(argc, argv, cases);
}
