/* An empty string means unset, for every string option of every plugin, as in
 * Telegraf (the helm chart's and InfluxData's sample configs carry
 * `username = ""`): driven by the option tables themselves, so a new plugin or
 * option is covered without touching this file. For each input and output and
 * each string option (the plugin's own, the common ones, and those of sections
 * such as buffer:), the config with the option set to "" must
 *   - load;
 *   - read exactly as the config without the option: its default, or NULL
 *     (unless the table marks "" as a value of its own, OPT_F_EMPTY_IS_VALUE);
 *   - start as the agent starts it (hg_agent_new: outputs and inputs initialised)
 *     with the same outcome as the config without the option. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "agent.h"
#include "config.h"
#include "log.h"
#include "check.h"

static uv_loop_t loop;
static int options_tried, starts_compared, starts_ok;

/* One option, nested under at most one section. */
struct where {
	bool output;
	const char *plugin;
	const struct opt_desc *section; /* NULL, or the OPT_SECTION holding opt */
	const struct opt_desc *opt;
	bool common;                    /* in input/hg_output_common_options */
};

static void yaml_for(const struct where *w, bool with_option, char *out, size_t outlen)
{
	if (!with_option)
		snprintf(out, outlen, "%s:\n  - %s\n", w->output ? "outputs" : "inputs", w->plugin);
	else if (w->section)
		snprintf(out, outlen, "%s:\n  - %s:\n      %s: {%s: \"\"}\n", w->output ? "outputs" : "inputs", w->plugin,
			 w->section->name, w->opt->name);
	else
		snprintf(out, outlen, "%s:\n  - %s:\n      %s: \"\"\n", w->output ? "outputs" : "inputs", w->plugin,
			 w->opt->name);
}

static const char *value_of(const struct where *w, const struct agent_config *c)
{
	char *base;
	if (w->output)
		base = w->common ? (char *)&c->outputs[0].common : (char *)c->outputs[0].config;
	else
		base = w->common ? (char *)&c->inputs[0].common : (char *)c->inputs[0].config;
	if (w->section)
		base += w->section->offset;
	return *(char **)(base + w->opt->offset);
}

/* Builds the agent from c as main does and tears it down; 0 when it started,
 * else -1 with the error. */
static int start(struct agent_config *c, char *err, size_t errlen)
{
	struct agent_opts opts = { 0 };
	struct agent *a = hg_agent_new(&loop, c, &opts, err, errlen);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (!a)
		return -1;
	hg_agent_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	return 0;
}

static void try_option(const struct where *w)
{
	char yaml[512], err[1024] = "", err0[1024] = "";
	struct agent_config c0, c;
	yaml_for(w, false, yaml, sizeof(yaml));
	if (hg_config_load_buffer(&c0, "t.yaml", yaml, strlen(yaml), err0, sizeof(err0)) != 0) {
		fprintf(stderr, "%s: baseline does not load: %s\n", w->plugin, err0);
		check_failures++;
		return;
	}
	yaml_for(w, true, yaml, sizeof(yaml));
	options_tried++;
	if (hg_config_load_buffer(&c, "t.yaml", yaml, strlen(yaml), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s.%s%s%s = \"\" does not load: %s\n", w->plugin, w->section ? w->section->name : "",
			w->section ? "." : "", w->opt->name, err);
		check_failures++;
		hg_config_free(&c0);
		return;
	}
	const char *v = value_of(w, &c), *v0 = value_of(w, &c0);
	if (w->opt->flags & OPT_F_EMPTY_IS_VALUE) {
		CHECK_STR(v, "");
	} else if (!(v == NULL && v0 == NULL) && !(v && v0 && !strcmp(v, v0))) {
		fprintf(stderr, "%s.%s = \"\" reads \"%s\", without it \"%s\"\n", w->plugin, w->opt->name, v ? v : "(null)",
			v0 ? v0 : "(null)");
		check_failures++;
	}
	if (!(w->opt->flags & OPT_F_EMPTY_IS_VALUE)) {
		/* Same outcome at start; the error text may name the position, so compare after it. */
		int rc0 = start(&c0, err0, sizeof(err0));
		int rc = start(&c, err, sizeof(err));
		starts_compared++;
		starts_ok += rc0 == 0;
		if (rc != rc0) {
			fprintf(stderr, "%s.%s = \"\": start %s (%s), without it %s (%s)\n", w->plugin, w->opt->name,
				rc ? "fails" : "works", err, rc0 ? "fails" : "works", err0);
			check_failures++;
		}
	}
	hg_config_free(&c);
	hg_config_free(&c0);
}

static void try_table(struct where w, const struct opt_desc *opts)
{
	for (const struct opt_desc *o = opts; o && o->name; o++) {
		if (o->type == OPT_SECTION) {
			struct where s = w;
			s.section = o;
			for (const struct opt_desc *so = o->sub; so && so->name; so++) {
				if (so->type != OPT_STRING && so->type != OPT_SECRET)
					continue;
				s.opt = so;
				try_option(&s);
			}
		} else if (o->type == OPT_STRING || o->type == OPT_SECRET) {
			w.opt = o;
			try_option(&w);
		}
	}
}

/* The two reported cases, checked by name so that the table walk above cannot
 * pass by skipping them: both start, and "" reads as unset. */
static void reported_cases(void)
{
	static const char *const yaml[] = {
		"outputs:\n  - influxdb:\n      urls: [\"http://127.0.0.1:1\"]\n      username: \"\"\n      password: \"\"\n"
		"      database: \"\"\n      retention_policy: \"\"\n      content_encoding: \"\"\n",
		"inputs:\n  - kubernetes:\n      tls_ca: \"\"\n      tls_cert: \"\"\n      tls_key: \"\"\n",
		/* ${VAR} expanding to "" is the same "" (a placeholder left unset). */
		"outputs:\n  - influxdb:\n      username: \"${HG_TEST_UNSET_USER}\"\n",
	};
	for (size_t i = 0; i < sizeof(yaml) / sizeof(*yaml); i++) {
		struct agent_config c;
		char err[1024] = "";
		int rc = hg_config_load_buffer(&c, "t.yaml", yaml[i], strlen(yaml[i]), err, sizeof(err));
		CHECK_INT(rc, 0);
		if (rc) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		rc = start(&c, err, sizeof(err));
		if (rc)
			fprintf(stderr, "case %zu: %s\n", i, err);
		CHECK_INT(rc, 0);
		if (c.noutputs == 1) {
			const struct opt_desc *o = c.outputs[0].plugin->options;
			void *base = c.outputs[0].config;
			for (; o->name; o++) {
				if (o->type != OPT_STRING && o->type != OPT_SECRET)
					continue;
				const char *v = *(char **)((char *)base + o->offset);
				if (!strcmp(o->name, "username") || !strcmp(o->name, "password") ||
				    !strcmp(o->name, "retention_policy"))
					CHECK(v == NULL);
				if (!strcmp(o->name, "database"))
					CHECK_STR(v, "telegraf"); /* Telegraf's default for "" */
				if (!strcmp(o->name, "content_encoding"))
					CHECK_STR(v, "gzip");
			}
		}
		hg_config_free(&c);
	}
}

/* Every string option of every plugin's table, empty. */
static void test_every_option(void)
{
	for (size_t i = 0; hg_input_registry[i]; i++) {
		struct where w = { .output = false, .plugin = hg_input_registry[i]->name };
		try_table(w, hg_input_registry[i]->options);
		w.common = true;
		try_table(w, hg_input_common_options);
	}
	for (size_t i = 0; hg_output_registry[i]; i++) {
		struct where w = { .output = true, .plugin = hg_output_registry[i]->name };
		try_table(w, hg_output_registry[i]->options);
		w.common = true;
		try_table(w, hg_output_common_options);
	}
	/* The walk saw the tables (a registry or type mix-up would make it vacuous). */
	fprintf(stderr, "%d string options tried, %d starts compared, %d of them start\n", options_tried,
		starts_compared, starts_ok);
	CHECK(options_tried > 50);
	CHECK(starts_ok > starts_compared / 2);
}

/* What the in-cluster defaults expand; the kubernetes input then starts. */
static int suite_setup(void)
{
	setenv("NODE_IP", "127.0.0.1", 1);
	setenv("NODE_NAME", "test-node", 1);
	unsetenv("HG_TEST_UNSET_USER");
	hg_log_open(NULL, false, true);
	uv_loop_init(&loop);
	return 0;
}

static void suite_teardown(void)
{
	uv_loop_close(&loop);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(reported_cases),
		CHECK_CASE(test_every_option),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
