/* The shared pod watch against the test API server: one list+watch per
 * process for both inputs; the kubernetes input's labels and requests come
 * from it (pod_metadata_source: apiserver) and follow a pod change without a
 * re-list; the prometheus input scrapes this node's annotated pod (a local
 * HTTP server standing at podIP 127.0.0.1) with Telegraf's pod tags, and
 * stops when the pod goes away. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acc.h"
#include "check.h"
#include "config.h"
#include "fault_server.h"
#include "httpc.h"
#include "input_check.h"
#include "kube_podwatch.h"
#include "kube_server.h"
#include "loop_wait.h"
#include "plugin.h"

#define TOKEN "podwatch-test-token"

static uv_loop_t *loop;
static struct httpc *hc;

static bool http_idle(void *arg)
{
	(void)arg;
	return hg_httpc_active(hc) == 0;
}

static bool pw_synced(void *arg)
{
	return hg_kube_podwatch_synced(arg);
}

static uint64_t want_gen;
static bool pw_moved(void *arg)
{
	return hg_kube_podwatch_generation(arg) != want_gen;
}

/* A pod on node NODE in namespace ns; annotated for scraping at
 * 127.0.0.1:port<path> when port > 0. */
static void put_pod_in(const struct kube_server *ks, const char *ns, const char *name, const char *node, const char *app,
		       int port, const char *path)
{
	char body[2048], ann[256] = "";
	if (port > 0)
		snprintf(ann, sizeof ann,
			 ",\"annotations\":{\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"%d\","
			 "\"prometheus.io/path\":\"%s\"}",
			 port, path);
	snprintf(body, sizeof body,
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"uid-%s\","
		 "\"labels\":{\"app\":\"%s\",\"tier\":\"front\"}%s},"
		 "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"web\",\"image\":\"nginx\","
		 "\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"1\","
		 "\"memory\":\"128Mi\"}}},{\"name\":\"sidecar\",\"image\":\"busybox\"}]},"
		 "\"status\":{\"phase\":\"Running\",\"podIP\":\"127.0.0.1\",\"containerStatuses\":["
		 "{\"name\":\"web\",\"ready\":true},{\"name\":\"sidecar\",\"ready\":true}]}}",
		 name, ns, name, app, ann, node);
	CHECK_INT(ks_control(ks, "/_control/objects", body), 200);
}

static void put_pod(const struct kube_server *ks, const char *name, const char *node, const char *app, int port)
{
	put_pod_in(ks, "app", name, node, app, port, "/custom/metrics");
}

static const char SUMMARY[] =
	"{\"node\":{\"nodeName\":\"node-a\",\"startTime\":\"2024-01-01T00:00:00Z\"},\"pods\":[{\"podRef\":"
	"{\"name\":\"web-1\",\"namespace\":\"app\",\"uid\":\"u1\"},\"startTime\":\"2024-01-01T00:00:00Z\","
	"\"containers\":[{\"name\":\"web\",\"startTime\":\"2024-01-01T00:00:00Z\",\"cpu\":{\"time\":"
	"\"2024-01-01T00:00:00Z\",\"usageNanoCores\":1000,\"usageCoreNanoSeconds\":5000}}]}]}";

static void script_summary(const struct fault_server *fs)
{
	/* The summary as a scripted response: JSON-escape it into the script. */
	char script[4096], esc[2048], *w = esc;
	for (const char *r = SUMMARY; *r; r++) {
		if (*r == '"' || *r == '\\')
			*w++ = '\\';
		*w++ = *r;
	}
	*w = '\0';
	snprintf(script, sizeof script, "[{\"path\":\"/stats/summary\",\"status\":200,\"body\":\"%s\"}]", esc);
	fs_script(fs, script);
}

static void script_metrics(const struct fault_server *fs)
{
	fs_script(fs, "[{\"path\":\"/custom/metrics\",\"status\":200,\"content_type\":\"text/plain; version=0.0.4\","
		      "\"body\":\"# TYPE requests_total counter\\nrequests_total{code=\\\"200\\\",app=\\\"x\\\"} 7\\n\"}]");
}

static size_t requests_to(const struct fault_server *fs, const char *path)
{
	yajl_val r = fs_requests(fs);
	size_t n = 0;
	for (size_t i = 0; i < fs_count(r); i++)
		n += !strcmp(fs_get(fs_at(r, i), "path"), path);
	yajl_tree_free(r);
	return n;
}

static const char *gather(const struct input_plugin *ip, void *st, struct acc *acc)
{
	hg_acc_capture_clear(acc);
	int rc = ip->gather(st, acc);
	if (rc == GATHER_PENDING)
		CHECK(loop_run_until(loop, http_idle, NULL, 10));
	return hg_acc_capture_text(acc);
}

static bool count_is_3(void *arg)
{
	return hg_kube_podwatch_count(arg) == 3;
}

/* The Authorization header of the last request to path ("" when none,
 * NULL when no request). */
static char *auth_to(const struct fault_server *fs, const char *path)
{
	yajl_val r = fs_requests(fs);
	char *out = NULL;
	for (size_t i = 0; i < fs_count(r); i++)
		if (!strcmp(fs_get(fs_at(r, i), "path"), path)) {
			const char *h = fs_header(fs_at(r, i), "authorization");
			free(out);
			out = strdup(h ? h : "");
		}
	yajl_tree_free(r);
	return out;
}

/* pod_credentials: any pod can annotate itself for scraping, so the bearer
 * token and basic credentials go to pods only as the user said: by default
 * to none (the urls still get them), to the pods of
 * pod_credentials_namespaces, or with "all" to every pod (Telegraf's way). */
static void test_pod_credentials(const struct kube_server *ks, const struct fault_server *fs, const char *kcpath,
				 struct kube_podwatch *pw, struct acc *acc)
{
	put_pod_in(ks, "trusted", "tr-1", "node-a", "tr", fs->port, "/trusted/metrics");
	put_pod_in(ks, "app", "ap-2", "node-a", "ap", fs->port, "/app/metrics");
	CHECK(loop_run_until(loop, count_is_3, pw, 10)); /* db-1 (not annotated) and the two */
	char yaml[4096], err[512] = "";
	snprintf(yaml, sizeof yaml,
		 "inputs:\n"
		 "  - prometheus: {alias: dflt, urls: [\"%s/static/metrics\"], bearer_token_string: sekrit-tok,"
		 " monitor_kubernetes_pods: true, kube_config: \"%s\", node_name: node-a, format: text}\n"
		 "  - prometheus: {alias: ns, urls: [], username: u, password: sekrit-pw, monitor_kubernetes_pods: true,"
		 " pod_credentials_namespaces: [trusted], kube_config: \"%s\", node_name: node-a, format: text}\n"
		 "  - prometheus: {alias: all, urls: [], bearer_token_string: sekrit-tok, monitor_kubernetes_pods: true,"
		 " pod_credentials: all, kube_config: \"%s\", node_name: node-a, format: text}\n"
		 "outputs: [{file: {files: [\"/dev/null\"]}}]\n",
		 fs->base, kcpath, kcpath, kcpath);
	struct agent_config cfg;
	int lrc = hg_config_load_buffer(&cfg, "creds.yaml", yaml, strlen(yaml), err, sizeof err);
	if (lrc != 0)
		fprintf(stderr, "config: %s\n", err);
	CHECK_INT(lrc, 0);
	if (lrc != 0)
		return;
	/* want[i][k]: the Authorization instance i sends to /static, /trusted, /app */
	static const char *const want[3][3] = {
		{ "Bearer sekrit-tok", "", "" },
		{ NULL, "Basic dTpzZWtyaXQtcHc=", "" }, /* base64("u:sekrit-pw") */
		{ NULL, "Bearer sekrit-tok", "Bearer sekrit-tok" },
	};
	static const char *const paths[3] = { "/static/metrics", "/trusted/metrics", "/app/metrics" };
	for (size_t i = 0; i < 3; i++) {
		const struct input_plugin *ip = cfg.inputs[i].plugin;
		struct plugin_env env = { .loop = loop, .http = hc, .instance_name = "prometheus" };
		void *st = NULL;
		CHECK_INT(ip->init(&st, cfg.inputs[i].config, &env, err, sizeof err), 0);
		fs_reset(fs);
		for (size_t k = 0; k < 3; k++) {
			char script[256];
			snprintf(script, sizeof script, "[{\"path\":\"%s\",\"status\":200,\"content_type\":\"text/plain\","
				 "\"body\":\"up 1\\n\"}]", paths[k]);
			fs_script(fs, script);
		}
		gather(ip, st, acc);
		CHECK_STR(hg_acc_capture_errors(acc), "");
		for (size_t k = 0; k < 3; k++) {
			char *got = auth_to(fs, paths[k]);
			if (want[i][k] == NULL) {
				CHECK(got == NULL);
			} else {
				if (!got || strcmp(got, want[i][k]) != 0)
					fprintf(stderr, "instance %zu, %s: Authorization \"%s\"\n", i, paths[k], got ? got : "(no request)");
				CHECK_STR(got, want[i][k]);
			}
			free(got);
		}
		ip->free(st);
	}
	hg_config_free(&cfg);

	/* A value other than none/all is refused by the loader, at the value. */
	static const char some[] =
		"inputs:\n  - prometheus: {urls: [\"http://h\"], pod_credentials: some}\noutputs: [{file: {}}]\n";
	CHECK_INT(hg_config_load_buffer(&cfg, "bad.yaml", some, strlen(some), err, sizeof err), -1);
	CHECK_STR(err, "bad.yaml:2:55: option \"pod_credentials\": expected none or all, got \"some\"");
	/* Init's own check, for a config built without the loader (pod_credentials
	 * "some" set in place of the default), and a namespace list with all: errors. */
	static const char *const bad[] = {
		"inputs:\n  - prometheus: {urls: [\"http://h\"]}\noutputs: [{file: {}}]\n",
		"inputs:\n  - prometheus: {urls: [\"http://h\"], pod_credentials: all, pod_credentials_namespaces: [a]}\n"
		"outputs: [{file: {}}]\n",
	};
	for (size_t i = 0; i < 2; i++) {
		CHECK_INT(hg_config_load_buffer(&cfg, "bad.yaml", bad[i], strlen(bad[i]), err, sizeof err), 0);
		const struct opt_desc *pc = hg_opt_find(cfg.inputs[0].plugin, "pod_credentials");
		CHECK(pc != NULL);
		if (i == 0 && pc) {
			char **f = (char **)((char *)cfg.inputs[0].config + pc->offset);
			free(*f);
			*f = strdup("some");
		}
		void *st = NULL;
		struct plugin_env env = { .loop = loop, .http = hc, .instance_name = "prometheus" };
		CHECK(cfg.inputs[0].plugin->init(&st, cfg.inputs[0].config, &env, err, sizeof err) < 0);
		CHECK(strstr(err, i == 0 ? "pod_credentials: must be none or all" : "pod_credentials_namespaces:") != NULL);
		hg_config_free(&cfg);
	}
}

static void test_shared_watch(void)
{
	loop = uv_default_loop();
	hc = hg_httpc_new(loop);
	struct kube_server ks;
	struct fault_server fs;
	CHECK_INT(ks_start(&ks, TOKEN, "ro-" TOKEN), 0);
	CHECK_INT(fs_start(&fs), 0);
	const char *kc = ks_kubeconfig(&ks, "kubeconfig", "    token: ro-" TOKEN);
	char kcpath[512];
	snprintf(kcpath, sizeof kcpath, "%s", kc);

	put_pod(&ks, "web-1", "node-a", "web", fs.port);
	put_pod(&ks, "db-1", "node-a", "db", 0);
	put_pod(&ks, "elsewhere", "node-b", "web", fs.port);

	char yaml[2048], err[512] = "";
	snprintf(yaml, sizeof yaml,
		 "inputs:\n"
		 "  - kubernetes: {url: \"%s\", pod_metadata_source: apiserver, kube_config: \"%s\", node_name: node-a,"
		 " label_include: [app], bearer_token_string: t}\n"
		 "  - prometheus: {urls: [], monitor_kubernetes_pods: true, kube_config: \"%s\", node_name: node-a,"
		 " pod_label_exclude: [tier], format: text}\n"
		 "outputs: [{file: {files: [\"/dev/null\"]}}]\n",
		 fs.base, kcpath, kcpath);
	struct agent_config cfg;
	int lrc = hg_config_load_buffer(&cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err);
	if (lrc != 0)
		fprintf(stderr, "config: %s\n", err);
	CHECK_INT(lrc, 0);
	const struct input_plugin *kp = cfg.inputs[0].plugin, *pp = cfg.inputs[1].plugin;
	struct plugin_env env = { .loop = loop, .http = hc, .instance_name = "kubernetes" };
	void *kst = NULL, *pst = NULL;
	CHECK_INT(kp->init(&kst, cfg.inputs[0].config, &env, err, sizeof err), 0);
	env.instance_name = "prometheus";
	CHECK_INT(pp->init(&pst, cfg.inputs[1].config, &env, err, sizeof err), 0);

	/* both inputs hold the same watch: acquiring it again gives it back */
	struct kube_podwatch *pw = hg_kube_podwatch_acquire(loop, "node-a", kcpath, err, sizeof err);
	CHECK(pw != NULL);
	CHECK_INT(hg_kube_podwatch_users(pw), 3);
	CHECK(loop_run_until(loop, pw_synced, pw, 15));
	CHECK_INT(hg_kube_podwatch_count(pw), 2); /* node-b's pod is not ours */
	CHECK_INT(hg_kube_podwatch_lists(pw), 1);

	struct acc *acc = hg_acc_capture_new();
	char line[4096], v[64];

	/* kubernetes: labels (label_include) and requests/limits from the watch */
	script_summary(&fs);
	const char *t = gather(kp, kst, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "kubernetes_pod_container,app=web,container_name=web,namespace=app,node_name=node-a,"
			 "pod_name=web-1", 0, line, sizeof line));
	CHECK(lp_field(line, "resource_requests_millicpu_units", v, sizeof v));
	CHECK_STR(v, "250i");
	CHECK(lp_field(line, "resource_requests_memory_bytes", v, sizeof v));
	CHECK_STR(v, "67108864i");
	CHECK(lp_field(line, "resource_limits_millicpu_units", v, sizeof v));
	CHECK_STR(v, "1000i");
	CHECK(lp_field(line, "resource_limits_memory_bytes", v, sizeof v));
	CHECK_STR(v, "134217728i");
	CHECK(strstr(t, "tier=") == NULL); /* not in label_include */

	/* prometheus: the annotated pod of this node, at its port and path, with the pod tags */
	script_metrics(&fs);
	t = gather(pp, pst, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(requests_to(&fs, "/custom/metrics"), 1);
	char want[512];
	snprintf(want, sizeof want,
		 "requests_total,address=127.0.0.1,app=web,code=200,namespace=app,pod_name=web-1,"
		 "url=http://127.0.0.1:%d/custom/metrics",
		 fs.port);
	CHECK(lp_find(t, want, 0, line, sizeof line));
	CHECK(lp_field(line, "counter", v, sizeof v));
	CHECK_STR(v, "7");

	/* a pod change: the watch event updates the tags, no second LIST */
	want_gen = hg_kube_podwatch_generation(pw);
	put_pod(&ks, "web-1", "node-a", "web-v2", fs.port);
	CHECK(loop_run_until(loop, pw_moved, pw, 10));
	CHECK_INT(hg_kube_podwatch_lists(pw), 1);
	script_summary(&fs);
	t = gather(kp, kst, acc);
	CHECK(lp_find(t, "kubernetes_pod_container,app=web-v2,container_name=web,namespace=app,node_name=node-a,"
			 "pod_name=web-1", 0, line, sizeof line));
	script_metrics(&fs);
	t = gather(pp, pst, acc);
	snprintf(want, sizeof want,
		 "requests_total,address=127.0.0.1,app=web-v2,code=200,namespace=app,pod_name=web-1,"
		 "url=http://127.0.0.1:%d/custom/metrics",
		 fs.port);
	CHECK(lp_find(t, want, 0, line, sizeof line));
	CHECK_INT(requests_to(&fs, "/custom/metrics"), 2);

	/* a status heartbeat that changes nothing we keep: no new generation */
	want_gen = hg_kube_podwatch_generation(pw);
	unsigned long ev = hg_kube_podwatch_events(pw);
	put_pod(&ks, "web-1", "node-a", "web-v2", fs.port);
	double end = loop_now_s() + 5;
	while (hg_kube_podwatch_events(pw) == ev && loop_now_s() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(2000);
	}
	CHECK(hg_kube_podwatch_events(pw) > ev);
	CHECK(hg_kube_podwatch_generation(pw) == want_gen);

	/* the pod goes away: no more scrapes, and its metadata is gone */
	{
		char url[256], ca[320];
		snprintf(url, sizeof url, "%s/api/v1/namespaces/app/pods/web-1", ks.url);
		snprintf(ca, sizeof ca, "%s/tls/ca.crt", ks.dir);
		CURL *e = curl_easy_init();
		struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		FILE *devnull = fopen("/dev/null", "w");
		curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
		long st = 0;
		CHECK_INT(curl_easy_perform(e), CURLE_OK);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
		CHECK_INT(st, 200);
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		fclose(devnull);
	}
	want_gen = hg_kube_podwatch_generation(pw);
	CHECK(loop_run_until(loop, pw_moved, pw, 10));
	CHECK_INT(hg_kube_podwatch_count(pw), 1);
	script_metrics(&fs);
	t = gather(pp, pst, acc);
	CHECK_STR(t, "");
	CHECK_INT(requests_to(&fs, "/custom/metrics"), 2);
	CHECK_INT(hg_kube_podwatch_lists(pw), 1);

	test_pod_credentials(&ks, &fs, kcpath, pw, acc);

	/* releases: the watch stops with its last user */
	hg_kube_podwatch_release(pw);
	kp->free(kst);
	CHECK_INT(hg_kube_podwatch_users(pw), 1);
	pp->free(pst);
	hg_httpc_free(hc);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	hg_acc_capture_free(acc);
	hg_config_free(&cfg);
	fs_stop(&fs);
	ks_stop(&ks);
	CHECK_INT(uv_loop_close(loop), 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_shared_watch),
	};
	return CHECK_RUN(argc, argv, cases);
}
