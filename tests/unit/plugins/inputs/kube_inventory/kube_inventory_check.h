/* Shared by the kube_inventory tests (list mode, watch mode): the test API
 * server and loop, instances made through the plugin's option table,
 * gathers run to their end, the server's request log, and gathers' lines
 * as sorted sets without timestamps. */
#ifndef HG_KUBE_INVENTORY_CHECK_H
#define HG_KUBE_INVENTORY_CHECK_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "acc.h"
#include "check.h"
#include "input_check.h"
#include "kube_server.h"
#include "plugin.h"

extern const struct input_plugin hg_input_kube_inventory;
bool hg_kube_inventory_busy(const void *state);
bool hg_kube_inventory_leader(const void *state);

static struct kube_server ks;
static const char *kubeconfig;
static uv_loop_t loop;

static void set_str(void *c, const char *name, const char *v)
{
	*(const char **)((char *)c + hg_opt_find(&hg_input_kube_inventory, name)->offset) = v;
}

static void set_int(void *c, const char *name, int64_t v)
{
	*(int64_t *)((char *)c + hg_opt_find(&hg_input_kube_inventory, name)->offset) = v;
}

static void *start(void *cfg)
{
	void *state = NULL;
	char err[512] = "";
	struct plugin_env env = { .loop = &loop, .instance_name = "inputs.kube_inventory" };
	if (hg_input_kube_inventory.init(&state, cfg, &env, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		exit(2);
	}
	return state;
}

static void run_until(bool (*cond)(const void *), const void *state, bool want, double secs)
{
	uint64_t end = uv_now(&loop) + (uint64_t)(secs * 1000);
	while (cond(state) != want && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
}

static bool never(const void *s)
{
	(void)s;
	return false;
}

static void stop(void *state)
{
	hg_input_kube_inventory.free(state);
	run_until(never, NULL, true, 0.3); /* lets handles close and a lease hand-over go out */
}

static struct acc *gather(void *state)
{
	struct acc *a = hg_acc_capture_new();
	if (hg_input_kube_inventory.gather(state, a) == GATHER_PENDING)
		run_until(hg_kube_inventory_busy, state, false, 60);
	CHECK(!hg_kube_inventory_busy(state));
	return a;
}

/* GET /_control/requests: how many requests to path with query_part. */
static int requests_to(const char *path, const char *query_part)
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
	int n = 0;
	char needle[256];
	snprintf(needle, sizeof needle, "\"path\": \"%s\"", path);
	for (const char *p = buf; (p = strstr(p, needle)); p++) {
		const char *end = strchr(p, '}');
		const char *q = strstr(p, query_part);
		if (q && end && q < end)
			n++;
	}
	free(buf);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines without their timestamps, sorted, joined by '\n' (malloc'd);
 * *n their number, *stamps (optional) how many times the timestamp changes
 * from line to line plus one (1: one timestamp for the gather). */
static char *series(const char *text, int *n, int *stamps)
{
	char *copy = strdup(text), *save = NULL;
	char **v = NULL;
	char prev_ts[32] = "";
	int st = 0;
	*n = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');
		if (sp && sp[1] && strspn(sp + 1, "0123456789") == strlen(sp + 1)) {
			if (!st || strcmp(prev_ts, sp + 1) != 0)
				st++;
			snprintf(prev_ts, sizeof prev_ts, "%s", sp + 1);
			*sp = '\0';
		}
		v = realloc(v, sizeof *v * (size_t)(*n + 1));
		v[(*n)++] = l;
	}
	qsort(v, (size_t)*n, sizeof *v, cmp_str);
	size_t len = 0;
	for (int i = 0; i < *n; i++)
		len += strlen(v[i]) + 1;
	char *out = calloc(1, len + 1), *p = out;
	for (int i = 0; i < *n; i++)
		p += sprintf(p, "%s\n", v[i]);
	free(v);
	free(copy);
	if (stamps)
		*stamps = st;
	return out;
}

/* How many times a line (sorted, no timestamps) appears twice. */
static int duplicates(const char *sorted)
{
	int d = 0;
	const char *prev = NULL;
	size_t plen = 0;
	for (const char *l = sorted; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = (size_t)(e - l);
		if (prev && len == plen && memcmp(prev, l, len) == 0)
			d++;
		prev = l;
		plen = len;
		l = e + 1;
	}
	return d;
}

#endif
