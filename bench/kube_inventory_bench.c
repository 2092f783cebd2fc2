/* kube_inventory, list mode beside watch mode, against the test API server
 * (tests/servers/kube_api_server.py) holding a cluster made by
 * tests/servers/kube_scale.py from captured objects: per mode, the API
 * requests and response bytes per interval, the agent's CPU per interval
 * (getrusage of this process: the gathers, the watch events, the idle
 * loop), and watch mode's cache bytes per object; plus watch mode's first
 * list (what a start, a relist or a new leader costs), and a leader
 * handover timed from the new leader taking the Lease to its first full
 * gather (measure_handover). CPU per gather is
 * the gather call to its end; CPU per interval adds the rest (watch events,
 * the loop). Each interval 1% of
 * the pods change (restartCount), the same rounds in both modes, and the
 * last gathers of the two modes are compared line by line.
 *
 *   bench_kube_inventory [PODS,...] [INTERVAL_S] [INTERVALS]
 *   (defaults 100,1000,5000 10 3; run from the source tree's tests/ dir,
 *   or with FIXTURES=tests/fixtures). A pod count P brings P/10
 *   Deployments, P/5 ReplicaSets, P/10 Services and P/50 Nodes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "../tests/unit/support/input_check.h"
#include "../tests/unit/support/kube_server.h"
#include "acc.h"
#include "plugin.h"

extern const struct input_plugin hg_input_kube_inventory;
bool hg_kube_inventory_busy(const void *state);
size_t hg_kube_inventory_cache(const void *state, size_t *bytes, unsigned *gaps, bool *synced);
int64_t hg_kube_inventory_handover_ms(const void *state);
bool hg_kube_inventory_leader(const void *state);

static struct kube_server ks;
static uv_loop_t loop;
static char kubeconfig[512];

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
	       (double)u.ru_stime.tv_usec / 1e6;
}

/* CPU seconds the test API server (another process) has used so far. */
static double server_cpu_s(void)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)ks.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* fields after the command name: state is field 3, utime 14, stime 15 */
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Requests the API server saw (control endpoints aside) and their body bytes so far. */
static void api_totals(long *requests, double *bytes)
{
	char url[256], ca[320];
	snprintf(url, sizeof url, "%s/_control/requests", ks.url);
	snprintf(ca, sizeof ca, "%s/tls/ca.crt", ks.dir);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, mem);
	curl_easy_perform(e);
	curl_easy_cleanup(e);
	fclose(mem);
	yajl_val doc = yajl_tree_parse(buf, NULL, 0);
	*requests = 0;
	*bytes = 0;
	for (size_t i = 0; doc && YAJL_IS_ARRAY(doc) && i < doc->u.array.len; i++) {
		const char *pb[] = { "bytes", NULL };
		yajl_val b = yajl_tree_get(doc->u.array.values[i], pb, yajl_t_number);
		(*requests)++;
		*bytes += b ? YAJL_GET_DOUBLE(b) : 0;
	}
	yajl_tree_free(doc);
	free(buf);
}

static int run_py(char *const argv[])
{
	pid_t pid;
	if (posix_spawnp(&pid, "python3", NULL, NULL, argv, environ) != 0)
		return -1;
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char script[1024], ca[512];
static char a_pods[16], a_dep[16], a_rs[16], a_svc[16], a_nodes[16];

static void scale_cmd(int touch, int round)
{
	char t[16], r[16];
	snprintf(t, sizeof t, "%d", touch);
	snprintf(r, sizeof r, "%d", round);
	char *argv[] = { "python3", script, ks.url, "--ca", ca, "--pods", a_pods, "--deployments", a_dep,
			 "--replicasets", a_rs, "--services", a_svc, "--nodes", a_nodes, "--touch", t, "--round", r, NULL };
	if (run_py(argv) != 0) {
		fprintf(stderr, "kube_scale.py failed\n");
		exit(2);
	}
}

static void wake(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for secs, sleeping in it when nothing is due (list mode
 * has no handle between gathers: a UV_RUN_ONCE loop would spin). */
static void run_for(double secs)
{
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, wake, (uint64_t)(secs * 1000), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static bool synced(const void *s)
{
	size_t b;
	unsigned g;
	bool ok;
	hg_kube_inventory_cache(s, &b, &g, &ok);
	return ok;
}

/* A watch- or list-mode instance; identity: with leader election (the
 * default 15 s Lease: renewed every 5 s, a follower polls every 3.75 s),
 * else without. */
static void *start_as(const char *mode, const char *identity)
{
	void *c = config_new(&hg_input_kube_inventory);
	*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, "kubeconfig")->offset) = kubeconfig;
	*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, "namespace")->offset) = NULL;
	*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, "mode")->offset) = mode;
	*(int64_t *)((char *)c + hg_opt_find(&hg_input_kube_inventory, "response_timeout")->offset) = 60000000000LL;
	config_bool(&hg_input_kube_inventory, c, "leader_election", identity != NULL);
	if (identity) {
		*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, "identity")->offset) = identity;
		*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, "lease_namespace")->offset) = "default";
		*(int64_t *)((char *)c + hg_opt_find(&hg_input_kube_inventory, "lease_duration")->offset) = 15000000000LL;
	}
	void *s = NULL;
	char err[512];
	struct plugin_env env = { .loop = &loop, .instance_name = "inputs.kube_inventory" };
	if (hg_input_kube_inventory.init(&s, c, &env, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		exit(2);
	}
	free(c);
	return s;
}

static void *start(const char *mode)
{
	return start_as(mode, NULL);
}

/* Runs the loop until ok(s) or secs have passed; returns ok(s). */
static bool run_until(bool (*ok)(const void *), const void *s, double secs)
{
	uv_update_time(&loop);
	uint64_t end = uv_now(&loop) + (uint64_t)(secs * 1000);
	while (!ok(s) && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
	return ok(s);
}

/* One gather; returns its text (malloc'd), errors to stderr. */
static char *gather(void *s)
{
	struct acc *a = hg_acc_capture_new();
	if (hg_input_kube_inventory.gather(s, a) == GATHER_PENDING)
		while (hg_kube_inventory_busy(s)) {
			uv_run(&loop, UV_RUN_ONCE);
			uv_update_time(&loop);
		}
	if (*hg_acc_capture_errors(a))
		fprintf(stderr, "gather errors: %s", hg_acc_capture_errors(a));
	char *t = strdup(hg_acc_capture_text(a));
	hg_acc_capture_free(a);
	return t;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines without timestamps, sorted, in place; returns their count. */
static size_t sorted_lines(char *t, char ***out)
{
	size_t n = 0, cap = 1024;
	char **v = malloc(cap * sizeof *v), *save = NULL;
	for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');
		if (sp)
			*sp = '\0';
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = l;
	}
	qsort(v, n, sizeof *v, cmp);
	*out = v;
	return n;
}

struct result {
	double req, bytes, cpu, gather_cpu;
	size_t lines;
	char *last;
};

static struct result measure(void *s, int intervals, double interval_s, int touch)
{
	struct result r = { 0 };
	free(gather(s)); /* warm */
	long r0, r1;
	double b0, b1;
	api_totals(&r0, &b0);
	double c0 = cpu_s(), cpu = 0;
	for (int i = 0; i < intervals; i++) {
		cpu += cpu_s() - c0;
		scale_cmd(touch, i); /* 1% of the pods change (python's CPU is not ours) */
		c0 = cpu_s();
		run_for(interval_s);
		free(r.last);
		double g0 = cpu_s();
		r.last = gather(s);
		r.gather_cpu += cpu_s() - g0;
	}
	cpu += cpu_s() - c0;
	api_totals(&r1, &b1);
	r.req = (double)(r1 - r0 - 0) / intervals;
	r.bytes = (b1 - b0) / intervals;
	r.cpu = cpu / intervals;
	r.gather_cpu /= intervals;
	return r;
}

struct handover {
	int64_t gap_ms;
	long requests;
	double bytes, cpu, server_cpu;
	size_t lines;
};

/* A leader change in watch mode, as test_leader_handover does it: A leads
 * and has listed; B, a follower (no cache, no watch), polls the Lease; A
 * stops and releases it; B takes it and gathers at once, which waits for
 * B's fresh LIST. gap_ms: from B taking the Lease to that first full
 * gather (hg_kube_inventory_handover_ms); requests, bytes and CPU: from A's
 * stop to the end of that gather (B's lists and watches, its Lease writes). */
static struct handover measure_handover(void)
{
	struct handover h = { .gap_ms = -1 };
	void *a = start_as("watch", "bench-a");
	if (!run_until(hg_kube_inventory_leader, a, 30) || !run_until(synced, a, 120)) {
		fprintf(stderr, "handover: A did not lead and list\n");
		hg_input_kube_inventory.free(a);
		return h;
	}
	void *b = start_as("watch", "bench-b");
	run_for(1.0); /* B has read the Lease (at its start): a follower */
	size_t bytes;
	unsigned gaps;
	bool ok;
	if (hg_kube_inventory_leader(b) || hg_kube_inventory_cache(b, &bytes, &gaps, &ok) != 0)
		fprintf(stderr, "handover: B is not a follower without cache\n");
	long q0, q1;
	double b0, b1;
	api_totals(&q0, &b0);
	double c0 = cpu_s(), s0 = server_cpu_s();
	hg_input_kube_inventory.free(a); /* releases the Lease */
	if (!run_until(hg_kube_inventory_leader, b, 30)) {
		fprintf(stderr, "handover: B did not take the Lease\n");
	} else {
		char *t = gather(b); /* at once: waits for B's first lists */
		h.gap_ms = hg_kube_inventory_handover_ms(b);
		h.cpu = cpu_s() - c0;
		h.server_cpu = server_cpu_s() - s0;
		char **v;
		h.lines = sorted_lines(t, &v);
		free(v);
		free(t);
	}
	api_totals(&q1, &b1);
	h.requests = q1 - q0;
	h.bytes = b1 - b0;
	hg_input_kube_inventory.free(b);
	run_for(0.3);
	return h;
}

int main(int argc, char **argv)
{
	const char *scales = argc > 1 ? argv[1] : "100,1000,5000";
	double interval = argc > 2 ? atof(argv[2]) : 10;
	int intervals = argc > 3 ? atoi(argv[3]) : 3;
	/* a real API server sends a bookmark about once a minute */
	setenv("HG_KUBE_BOOKMARK_INTERVAL", "60", 0);
	uv_loop_init(&loop);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(script, sizeof script, "%s/../servers/kube_scale.py", fixtures_dir());
	printf("| pods | mode | API requests / interval | API bytes / interval | CPU-s / gather | CPU-s / interval | cache B / object | lines / gather |\n");
	printf("|---:|---|---:|---:|---:|---:|---:|---:|\n");
	char list[256];
	snprintf(list, sizeof list, "%s", scales);
	for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		int pods = atoi(p);
		snprintf(a_pods, sizeof a_pods, "%d", pods);
		snprintf(a_dep, sizeof a_dep, "%d", pods / 10);
		snprintf(a_rs, sizeof a_rs, "%d", pods / 5);
		snprintf(a_svc, sizeof a_svc, "%d", pods / 10);
		snprintf(a_nodes, sizeof a_nodes, "%d", pods / 50 > 0 ? pods / 50 : 1);
		if (ks_start(&ks, "tok", "ro") != 0) {
			fprintf(stderr, "cannot start the test API server\n");
			return 2;
		}
		snprintf(ca, sizeof ca, "%s/tls/ca.crt", ks.dir);
		snprintf(kubeconfig, sizeof kubeconfig, "%s", ks_kubeconfig(&ks, "kc.yaml", "    token: tok"));
		scale_cmd(0, 0);
		int touch = pods / 100 > 0 ? pods / 100 : 1;

		void *s = start("list");
		struct result l = measure(s, intervals, interval, touch);
		hg_input_kube_inventory.free(s);
		run_for(0.3);

		long q0, q1;
		double b0, b1;
		api_totals(&q0, &b0);
		double c0 = cpu_s(), s0 = server_cpu_s();
		uint64_t t0 = uv_hrtime();
		s = start("watch");
		while (!synced(s)) {
			uv_run(&loop, UV_RUN_ONCE);
			uv_update_time(&loop);
		}
		double first_s = (double)(uv_hrtime() - t0) / 1e9, first_cpu = cpu_s() - c0, first_server = server_cpu_s() - s0;
		api_totals(&q1, &b1);
		struct result w = measure(s, intervals, interval, touch);
		size_t bytes;
		unsigned gaps;
		bool ok;
		size_t objects = hg_kube_inventory_cache(s, &bytes, &gaps, &ok);
		hg_input_kube_inventory.free(s);
		run_for(0.3);

		char **lv, **wv;
		size_t ln = sorted_lines(l.last, &lv), wn = sorted_lines(w.last, &wv);
		size_t differ = ln == wn ? 0 : 1;
		for (size_t i = 0; !differ && i < ln; i++)
			differ = strcmp(lv[i], wv[i]) != 0;
		printf("| %d | list | %.1f | %.0f | %.4f | %.4f | - | %zu |\n", pods, l.req, l.bytes, l.gather_cpu, l.cpu, ln);
		printf("| %d | watch | %.1f | %.0f | %.4f | %.4f | %.0f | %zu |\n", pods, w.req, w.bytes, w.gather_cpu, w.cpu,
		       (double)bytes / (double)objects, wn);
		printf("| %d | watch: first list | %ld | %.0f | - | %.3f (%.2f s wall; server %.2f CPU-s) | %zu objects, %zu B | %s |\n",
		       pods, q1 - q0, b1 - b0, first_cpu, first_s, first_server, objects, bytes,
		       differ ? "**last gathers differ**" : "last gathers equal");
		fflush(stdout);
		struct handover h = measure_handover();
		printf("| %d | watch: leader handover | %ld | %.0f | - | %.3f (gap %lld ms; server %.2f CPU-s) | fresh LIST, no follower cache | %zu%s |\n",
		       pods, h.requests, h.bytes, h.cpu, (long long)h.gap_ms, h.server_cpu, h.lines,
		       h.gap_ms >= 0 && h.gap_ms < (int64_t)(interval * 1000) ? ", within one interval" : ", **not within one interval**");
		fflush(stdout);
		free(lv);
		free(wv);
		free(l.last);
		free(w.last);
		ks_stop(&ks);
	}
	uv_loop_close(&loop);
	curl_global_cleanup();
	return 0;
}
