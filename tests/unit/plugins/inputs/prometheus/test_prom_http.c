/* The prometheus input's HTTP side, against the scriptable fault server and
 * the TLS test kubelet: the bearer token file is re-read when it is
 * rotated (rewritten, or swapped by symlink as projected volumes do);
 * 401/403/500 are counted errors that say what to check and emit nothing
 * from the error body; content_length_limit stops the read; a timeout is an
 * error; TLS verifies with tls_ca (a self-signed certificate made here) and
 * refuses without it; free() while a scrape is in flight is safe. */
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acc.h"
#include "check.h"
#include "config.h"
#include "fault_server.h"
#include "httpc.h"
#include "input_check.h"
#include "plugin.h"

static uv_loop_t *loop;
static struct httpc *hc;
static struct fault_server fs;
static char dir[64];

static const char EXPO[] = "# TYPE up gauge\\nup 1\\n# TYPE hits_total counter\\nhits_total{code=\\\"200\\\"} 42\\n";

/* Lines of measurement name (any tags). */
static int count_of(const char *text, const char *name)
{
	int n = 0;
	size_t l = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, name, l) && (p[l] == ',' || p[l] == ' ');
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_idle(double secs)
{
	double end = now_s() + secs;
	while (hg_httpc_active(hc) > 0 && now_s() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

struct inst {
	struct agent_config cfg;
	const struct input_plugin *ip;
	void *st;
};

/* An instance from one YAML mapping of prometheus options. */
static int start(struct inst *in, const char *opts, char *err, size_t errlen)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml, "inputs:\n  - prometheus: {%s}\noutputs: [{file: {files: [\"/dev/null\"]}}]\n", opts);
	if (hg_config_load_buffer(&in->cfg, "t.yaml", yaml, strlen(yaml), err, errlen) != 0)
		return -1;
	in->ip = in->cfg.inputs[0].plugin;
	struct plugin_env env = { .loop = loop, .http = hc, .instance_name = "prometheus" };
	if (in->ip->init(&in->st, in->cfg.inputs[0].config, &env, err, errlen) != 0) {
		hg_config_free(&in->cfg);
		return -1;
	}
	return 0;
}

static void stop(struct inst *in)
{
	in->ip->free(in->st);
	hg_config_free(&in->cfg);
}

static const char *gather(struct inst *in, struct acc *acc)
{
	hg_acc_capture_clear(acc);
	if (in->ip->gather(in->st, acc) == GATHER_PENDING)
		run_idle(20);
	CHECK_INT(hg_httpc_active(hc), 0);
	return hg_acc_capture_text(acc);
}

static void script_ok(int n)
{
	char s[512];
	for (int i = 0; i < n; i++) {
		snprintf(s, sizeof s,
			 "[{\"path\":\"/metrics\",\"content_type\":\"text/plain; version=0.0.4\",\"body\":\"%s\"}]", EXPO);
		fs_script(&fs, s);
	}
}

static char *last_header(const char *name)
{
	yajl_val r = fs_requests(&fs);
	const char *h = fs_count(r) ? fs_header(fs_at(r, fs_count(r) - 1), name) : NULL;
	char *out = strdup(h ? h : "");
	yajl_tree_free(r);
	return out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

static struct acc *shared_acc; /* one capture for the cases */

static void test_token_rotation(void)
{
	struct acc *acc = shared_acc;
	char tokfile[128], opts[512], err[256];
	/* rewritten in place, same length: the change of mtime is enough */
	snprintf(tokfile, sizeof tokfile, "%s/token", dir);
	write_file(tokfile, "token-one-aaaa\n");
	snprintf(opts, sizeof opts, "urls: [\"%s/metrics\"], bearer_token: \"%s\"", fs.base, tokfile);
	struct inst in;
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	fs_reset(&fs);
	script_ok(4);
	const char *t = gather(&in, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(count_of(t, "up") == 1);
	char *h = last_header("authorization");
	CHECK_STR(h, "Bearer token-one-aaaa");
	free(h);
	usleep(20000); /* a distinct mtime even on coarse clocks */
	write_file(tokfile, "token-two-bbbb\n");
	gather(&in, acc);
	h = last_header("authorization");
	CHECK_STR(h, "Bearer token-two-bbbb");
	free(h);
	stop(&in);

	/* the projected-volume way: token -> ..data/token, ..data swapped to a new dir */
	char d1[128], d2[128], data[128], link[128], cmd[512];
	snprintf(d1, sizeof d1, "%s/..2024_1", dir);
	snprintf(d2, sizeof d2, "%s/..2024_2", dir);
	snprintf(data, sizeof data, "%s/..data", dir);
	snprintf(link, sizeof link, "%s/proj-token", dir);
	mkdir(d1, 0700);
	mkdir(d2, 0700);
	snprintf(cmd, sizeof cmd, "%s/token", d1);
	write_file(cmd, "projected-one");
	snprintf(cmd, sizeof cmd, "%s/token", d2);
	write_file(cmd, "projected-two");
	CHECK_INT(symlink("..2024_1", data), 0);
	CHECK_INT(symlink("..data/token", link), 0);
	snprintf(opts, sizeof opts, "urls: [\"%s/metrics\"], bearer_token: \"%s\"", fs.base, link);
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	script_ok(2);
	gather(&in, acc);
	h = last_header("authorization");
	CHECK_STR(h, "Bearer projected-one");
	free(h);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s/..data_tmp", dir);
	CHECK_INT(symlink("..2024_2", tmp), 0);
	CHECK_INT(rename(tmp, data), 0); /* atomic swap, as the kubelet does */
	gather(&in, acc);
	h = last_header("authorization");
	CHECK_STR(h, "Bearer projected-two");
	free(h);
	/* a token file that disappears is an error naming the file, never the token */
	unlink(link);
	gather(&in, acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "proj-token") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "projected-two") == NULL);
	stop(&in);
}

static void test_status(void)
{
	struct acc *acc = shared_acc;
	char opts[512], err[256];
	snprintf(opts, sizeof opts, "urls: [\"%s/metrics\"], bearer_token_string: sekrit-token", fs.base);
	struct inst in;
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	static const struct {
		int status;
		const char *want;
	} cases[] = {
		{ 401, "returned HTTP status 401 Unauthorized: the credentials were not accepted" },
		{ 403, "returned HTTP status 403 Forbidden: the credentials lack permission" },
		{ 404, "returned HTTP status 404" },
		{ 500, "returned HTTP status 500" },
		{ 503, "returned HTTP status 503" },
		{ 204, "returned HTTP status 204" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fs_reset(&fs);
		char s[512];
		/* an error answer whose body is a valid exposition: never parsed */
		snprintf(s, sizeof s, "[{\"path\":\"/metrics\",\"status\":%d,\"content_type\":\"text/plain\",\"body\":\"%s\"}]",
			 cases[i].status, EXPO);
		fs_script(&fs, s);
		const char *t = gather(&in, acc);
		CHECK_STR(t, "");
		const char *e = hg_acc_capture_errors(acc);
		if (!strstr(e, cases[i].want))
			fprintf(stderr, "status %d: got %s\n", cases[i].status, e);
		CHECK(strstr(e, cases[i].want) != NULL);
		CHECK(strstr(e, "sekrit") == NULL);
	}
	stop(&in);
}

/* Secrets in a scrape URL (userinfo, ?token=) never reach a message; the
 * url tag keeps the query as Telegraf's does (only the userinfo goes). */
static void test_url_secrets(void)
{
	struct acc *acc = shared_acc;
	char opts[512], err[256], want[256];
	const char *hostport = fs.base + strlen("http://");
	snprintf(opts, sizeof opts, "urls: [\"http://scraper:pw-sekrit@%s/metrics?token=tok-sekrit&x=1&api_key=k-sekrit\"]",
		 hostport);
	struct inst in;
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\":\"/metrics\",\"status\":500,\"body\":\"no\"}]");
	gather(&in, acc);
	const char *e = hg_acc_capture_errors(acc);
	snprintf(want, sizeof want, "http://%s/metrics?token=redacted&x=1&api_key=redacted returned HTTP status 500",
		 hostport);
	if (!strstr(e, want))
		fprintf(stderr, "got %s\n", e);
	CHECK(strstr(e, want) != NULL);
	CHECK(strstr(e, "sekrit") == NULL);
	/* the request itself carries them */
	yajl_val r = fs_requests(&fs);
	const char *tk = fs_count(r) == 1 ? fs_param(fs_at(r, 0), "token") : NULL;
	CHECK_STR(tk, "tok-sekrit");
	yajl_tree_free(r);

	fs_reset(&fs);
	script_ok(1);
	const char *t = gather(&in, acc);
	/* (line protocol escapes '=' in tag values) */
	snprintf(want, sizeof want, "url=http://%s/metrics?token\\=tok-sekrit&x\\=1&api_key\\=k-sekrit", hostport);
	if (!strstr(t, want))
		fprintf(stderr, "got %s\n", t);
	CHECK(strstr(t, want) != NULL);
	CHECK(strstr(t, "pw-sekrit") == NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	stop(&in);

	/* a transport error too */
	snprintf(opts, sizeof opts, "urls: [\"http://127.0.0.1:1/m?password=pw-sekrit\"]");
	if (start(&in, opts, err, sizeof err) != 0) {
		fprintf(stderr, "start: %s\n", err);
		CHECK(0);
		return;
	}
	gather(&in, acc);
	e = hg_acc_capture_errors(acc);
	CHECK(strstr(e, "error making HTTP request to http://127.0.0.1:1/m?password=redacted") != NULL);
	CHECK(strstr(e, "sekrit") == NULL);
	stop(&in);
}

static void test_limit_and_timeout(void)
{
	struct acc *acc = shared_acc;
	char opts[512], err[256];
	snprintf(opts, sizeof opts, "urls: [\"%s/metrics\"], content_length_limit: 200, response_timeout: 1s", fs.base);
	struct inst in;
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	fs_reset(&fs);
	/* within the limit: parsed */
	script_ok(1);
	const char *t = gather(&in, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(count_of(t, "hits_total"), 1);
	/* 100 kB of samples, sent in chunks: the read stops at the limit */
	char *big = malloc(200000), *w = big;
	w += sprintf(w, "[{\"path\":\"/metrics\",\"content_type\":\"text/plain\",\"chunk\":1024,\"body\":\"");
	for (int i = 0; i < 4000; i++)
		w += sprintf(w, "m%d 1\\n", i);
	sprintf(w, "\"}]");
	fs_script(&fs, big);
	free(big);
	t = gather(&in, acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "body larger than content_length_limit (200 bytes)") != NULL);
	/* what was parsed before the limit is kept (README), nothing after it */
	CHECK_INT(count_of(t, "m0"), 1);
	CHECK_INT(count_of(t, "m100"), 0);
	/* a server slower than response_timeout */
	fs_script(&fs, "[{\"path\":\"/metrics\",\"delay\":3,\"body\":\"up 1\\n\"}]");
	double t0 = now_s();
	t = gather(&in, acc);
	CHECK(now_s() - t0 < 2.5);
	CHECK_STR(t, "");
	CHECK(strstr(hg_acc_capture_errors(acc), "error making HTTP request") != NULL);
	stop(&in);
}

/* The test kubelet serves a file at /stats/summary over HTTPS: here a
 * Prometheus exposition, behind a bearer token. */
static void test_tls(void)
{
	struct acc *acc = shared_acc;
	char cmd[1024], opts[1024], err[256];
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem -days 2 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
		 dir, dir);
	CHECK_INT(system(cmd), 0);
	char expo[160], tok[160], portf[160];
	snprintf(expo, sizeof expo, "%s/expo.txt", dir);
	snprintf(tok, sizeof tok, "%s/kubelet-token", dir);
	snprintf(portf, sizeof portf, "%s/port", dir);
	write_file(expo, "# TYPE up gauge\nup 1\n");
	write_file(tok, "tls-token\n");
	const char *fix = getenv("FIXTURES");
	char script[512];
	snprintf(script, sizeof script, "%s/../servers/kubelet_server.py", fix ? fix : "fixtures");
	char cert[160], key[160];
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("python3", "python3", script, "--cert", cert, "--key", key, "--token-file", tok, "--summary", expo,
		       "--pods", expo, "--port-file", portf, (char *)NULL);
		_exit(127);
	}
	double end = now_s() + 15;
	while (access(portf, R_OK) != 0 && now_s() < end)
		usleep(20000);
	FILE *f = fopen(portf, "r");
	int port = 0;
	CHECK(f && fscanf(f, "%d", &port) == 1);
	if (f)
		fclose(f);

	struct inst in;
	/* with the CA: verified, scraped */
	snprintf(opts, sizeof opts,
		 "urls: [\"https://127.0.0.1:%d/stats/summary\"], tls_ca: \"%s\", bearer_token: \"%s\"", port, cert, tok);
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	const char *t = gather(&in, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(count_of(t, "up"), 1);
	stop(&in);
	/* without it: the self-signed certificate is refused, nothing emitted */
	snprintf(opts, sizeof opts, "urls: [\"https://127.0.0.1:%d/stats/summary\"], bearer_token: \"%s\"", port, tok);
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	t = gather(&in, acc);
	CHECK_STR(t, "");
	CHECK(strstr(hg_acc_capture_errors(acc), "certificate") != NULL || strstr(hg_acc_capture_errors(acc), "SSL") != NULL);
	stop(&in);
	/* insecure_skip_verify: accepted */
	snprintf(opts, sizeof opts,
		 "urls: [\"https://127.0.0.1:%d/stats/summary\"], insecure_skip_verify: true, bearer_token: \"%s\"", port,
		 tok);
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	t = gather(&in, acc);
	CHECK_INT(count_of(t, "up"), 1);
	stop(&in);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* free() while scrapes are in flight: one answered, one slow, one in the
 * middle of a chunked body. Nothing reaches the acc afterwards; ASan and
 * valgrind check the rest. */
static void test_free_in_flight(void)
{
	struct acc *acc = shared_acc;
	char opts[512], err[256];
	snprintf(opts, sizeof opts, "urls: [\"%s/metrics\", \"%s/slow\", \"%s/chunked\"], response_timeout: 10s",
		 fs.base, fs.base, fs.base);
	struct inst in;
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	fs_reset(&fs);
	script_ok(1);
	fs_script(&fs, "[{\"path\":\"/slow\",\"delay\":1.5,\"body\":\"up 1\\n\"}]");
	char *big = malloc(300000), *w = big;
	w += sprintf(w, "[{\"path\":\"/chunked\",\"content_type\":\"text/plain\",\"chunk\":100,\"delay\":0.2,\"body\":\"");
	for (int i = 0; i < 20000; i++)
		w += sprintf(w, "c%d 1\\n", i);
	sprintf(w, "\"}]");
	fs_script(&fs, big);
	free(big);
	hg_acc_capture_clear(acc);
	CHECK_INT(in.ip->gather(in.st, acc), GATHER_PENDING);
	double end = now_s() + 0.5;
	while (now_s() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	CHECK(hg_httpc_active(hc) > 0);
	size_t before = strlen(hg_acc_capture_text(acc)), errs = strlen(hg_acc_capture_errors(acc));
	in.ip->free(in.st);
	run_idle(10);
	CHECK_INT(hg_httpc_active(hc), 0);
	CHECK_INT(strlen(hg_acc_capture_text(acc)), before);
	CHECK_INT(strlen(hg_acc_capture_errors(acc)), errs);
	hg_config_free(&in.cfg);

	/* and with the HTTP client freed under it (agent shutdown) */
	CHECK_INT(start(&in, opts, err, sizeof err), 0);
	fs_script(&fs, "[{\"path\":\"/slow\",\"delay\":1.0,\"body\":\"up 1\\n\"}]");
	CHECK_INT(in.ip->gather(in.st, acc), GATHER_PENDING);
	for (int i = 0; i < 50; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(2000);
	}
	in.ip->free(in.st);
	hg_httpc_free(hc);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	hc = hg_httpc_new(loop);
	hg_config_free(&in.cfg);
}

static int suite_setup(void)
{
	loop = uv_default_loop();
	hc = hg_httpc_new(loop);
	snprintf(dir, sizeof dir, "/tmp/hg-prom-http.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(fs_start(&fs), 0);
	shared_acc = hg_acc_capture_new();
	return 0;
}

static void suite_teardown(void)
{
	hg_acc_capture_free(shared_acc);
	hg_httpc_free(hc);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	fs_stop(&fs);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(uv_loop_close(loop), 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_token_rotation),
		CHECK_CASE(test_status),
		CHECK_CASE(test_url_secrets),
		CHECK_CASE(test_limit_and_timeout),
		CHECK_CASE(test_tls),
		CHECK_CASE(test_free_in_flight),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
