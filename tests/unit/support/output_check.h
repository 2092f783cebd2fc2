/* Test plumbing for an output plugin against the fault server: a config
 * loaded from YAML, one write run to completion on the loop, and the raw
 * bytes of a recorded request body. Include after check.h and fault_server.h. */
#ifndef HG_OUTPUT_CHECK_H
#define HG_OUTPUT_CHECK_H
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "httpc.h"
#include "plugin.h"

static struct fault_server fs;
static uv_loop_t loop;
static struct httpc *hc;
/* Every message any write produced, to check no secret ever leaks. */
static char all_messages[16384];

struct out {
	struct agent_config cfg;
	const struct output_plugin *p;
	void *state;
};

struct wres {
	bool done;
	int calls;
	struct write_result r;
};

static void on_written(void *arg, const struct write_result *r)
{
	struct wres *w = arg;
	w->done = true;
	w->calls++;
	w->r = *r;
	strncat(all_messages, r->message, sizeof(all_messages) - strlen(all_messages) - 2);
	strcat(all_messages, "\n");
}

/* 0, or -1 with the config or init error in err. */
static int out_open_err(struct out *o, const char *yaml, char *err, size_t errlen)
{
	if (hg_config_load_buffer(&o->cfg, "test.yaml", yaml, strlen(yaml), err, errlen) != 0)
		return -1;
	if (o->cfg.noutputs != 1) {
		hg_config_free(&o->cfg);
		snprintf(err, errlen, "expected one output");
		return -1;
	}
	o->p = o->cfg.outputs[0].plugin;
	struct plugin_env env = { .loop = &loop, .http = hc, .agent = &o->cfg, .instance_name = o->p->name };
	if (o->p->init(&o->state, o->cfg.outputs[0].config, &env, err, errlen) != 0) {
		hg_config_free(&o->cfg);
		return -1;
	}
	return 0;
}

static int out_open(struct out *o, const char *yaml)
{
	char err[512];
	int rc = out_open_err(o, yaml, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "open: %s\n", err);
	return rc;
}

static void out_close(struct out *o)
{
	o->p->free(o->state);
	hg_config_free(&o->cfg);
}

static struct write_result write_batch(struct out *o, const char *lines, size_t nmetrics)
{
	struct batch b = { .data = (char *)lines, .len = strlen(lines), .cap = strlen(lines), .nmetrics = nmetrics };
	struct wres w = { 0 };
	o->p->write(o->state, &b, on_written, &w);
	while (!w.done)
		uv_run(&loop, UV_RUN_ONCE);
	CHECK_INT(w.calls, 1);
	return w.r;
}

/* The recorded requests' count (the fault server's own log). */
static size_t request_count(void)
{
	yajl_val t = fs_requests(&fs);
	size_t n = fs_count(t);
	yajl_tree_free(t);
	return n;
}

/* The body of recorded request r (gzip already undone by the server) as
 * malloc'd bytes. */
static unsigned char *body_bytes(yajl_val r, size_t *n)
{
	const char *hex = fs_get(r, "body_hex");
	*n = 0;
	if (!hex)
		return NULL;
	size_t len = strlen(hex) / 2;
	unsigned char *b = malloc(len ? len : 1);
	for (size_t i = 0; b && i < len; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (unsigned char)v;
	}
	*n = len;
	return b;
}

/* The fault server, the loop and the HTTP client the cases share: CHECK_RUN_WITH's setup. */
static int out_check_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (fs_start(&fs) != 0) {
		fprintf(stderr, "cannot start the fault server\n");
		return 1;
	}
	uv_loop_init(&loop);
	hc = hg_httpc_new(&loop);
	return 0;
}

static void out_check_stop(void)
{
	hg_httpc_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), 0);
	fs_stop(&fs);
	curl_global_cleanup();
}

#endif
