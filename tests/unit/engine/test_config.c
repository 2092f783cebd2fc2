/* The YAML config loader: sections, defaults, plugin options, filters,
 * merging, drop-in directories, error positions, secrets. Options with a
 * few values: test_config_choices.c; the sample config: test_config_sample.c. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config_check.h"

static void test_defaults(void)
{
	struct agent_config c;
	char err[256] = "";
	CHECK_INT(load_str(&c, "# nothing\n", err, sizeof(err)), 0);
	CHECK_INT(c.interval_ns, 10 * S);
	CHECK(c.round_interval);
	CHECK_INT(c.collection_jitter_ns, 0);
	CHECK_INT(c.flush_interval_ns, 10 * S);
	CHECK_INT(c.flush_jitter_ns, 0);
	CHECK_INT(c.metric_batch_size, 1000);
	CHECK_INT(c.metric_buffer_limit, 10000);
	CHECK_INT(c.precision_ns, 0);
	CHECK(c.hostname == NULL); /* "" means unset: the OS hostname */
	CHECK(!c.omit_hostname && !c.debug && !c.quiet);
	CHECK(c.logfile == NULL);  /* "" means unset: stderr */
	CHECK(c.health_listen == NULL);
	CHECK_INT(c.health_max_flush_intervals, 3);
	CHECK_INT(c.health_header_timeout_ns, 10 * S);
	CHECK_INT(c.health_idle_timeout_ns, 30 * S);
	CHECK_INT(c.health_write_timeout_ns, 10 * S);
	CHECK_INT(c.health_max_connections, 64);
	CHECK_INT(c.shutdown_timeout_ns, 20 * S);
	CHECK_INT(c.global_tags.n, 0);
	CHECK_INT(c.ninputs + c.noutputs, 0);
	hg_config_free(&c);
	CHECK_INT(load_str(&c, "agent:\n  health_listen: \"\"\n", err, sizeof(err)), 0);
	CHECK(c.health_listen == NULL); /* empty is off, like unset */
	hg_config_free(&c);

	/* Plugin defaults come from the plugin's table; a bare "- mem" entry is allowed. */
	CHECK_INT(load_str(&c, "inputs: [cpu, mem]\noutputs:\n  - file:\n", err, sizeof(err)), 0);
	CHECK_INT(c.ninputs, 2);
	CHECK_INT(c.noutputs, 1);
	if (c.ninputs == 2 && c.noutputs == 1) {
		const struct input_cfg *cpu = &c.inputs[0];
		CHECK_STR(cpu->plugin->name, "cpu");
		CHECK(*(bool *)field(cpu->plugin->options, cpu->config, "percpu"));
		CHECK(*(bool *)field(cpu->plugin->options, cpu->config, "totalcpu"));
		CHECK_INT(cpu->common.interval_ns, 0);
		CHECK_INT(cpu->common.collection_jitter_ns, -1);
		CHECK(cpu->common.alias == NULL);
		CHECK_STR(cpu->origin, "t.yaml:1:10");
		CHECK_STR(c.inputs[1].plugin->name, "mem");
		const struct output_cfg *f = &c.outputs[0];
		struct strlist *files = field(f->plugin->options, f->config, "files");
		CHECK_INT(files->n, 1);
		if (files->n == 1)
			CHECK_STR(files->v[0], "stdout");
		CHECK_INT(f->common.metric_batch_size, 0);
		CHECK_STR(f->origin, "t.yaml:3:5");
	}
	hg_config_free(&c);
	CHECK(c.inputs == NULL && c.ninputs == 0);
}

static void test_full(void)
{
	struct agent_config c;
	char err[256] = "";
	const char *files[] = { fixture("full.yaml") };
	unsetenv("HG_TEST_HOST");
	setenv("HG_TEST_CLUSTER", "eks-1", 1);
	int rc = hg_config_load(&c, files, 1, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_INT(rc, 0);
	if (rc)
		return;
	CHECK_INT(c.interval_ns, 90 * S);
	CHECK(!c.round_interval);
	CHECK_INT(c.collection_jitter_ns, 500000000LL);
	CHECK_INT(c.flush_interval_ns, 15 * S); /* bare integer: seconds */
	CHECK_INT(c.flush_jitter_ns, 2 * S);
	CHECK_INT(c.metric_batch_size, 2000);
	CHECK_INT(c.metric_buffer_limit, 50000);
	CHECK_INT(c.precision_ns, 1000000);
	CHECK_STR(c.hostname, "fallback-host");
	CHECK(c.omit_hostname && c.quiet && !c.debug);
	CHECK_STR(c.logfile, "/var/log/heliograph.log");
	CHECK_STR(c.health_listen, "127.0.0.1:8080");
	CHECK_INT(c.health_max_flush_intervals, 5);
	CHECK_INT(c.health_header_timeout_ns, 2 * S);
	CHECK_INT(c.health_idle_timeout_ns, 20 * S);
	CHECK_INT(c.health_write_timeout_ns, 5 * S);
	CHECK_INT(c.health_max_connections, 16);
	CHECK_INT(c.shutdown_timeout_ns, 60 * S);
	CHECK_INT(c.global_tags.n, 2);
	CHECK_STR(tag(&c.global_tags, "cluster"), "eks-1");
	CHECK_STR(tag(&c.global_tags, "env"), "prod");

	CHECK_INT(c.ninputs, 3);
	CHECK_INT(c.noutputs, 1);
	if (c.ninputs != 3 || c.noutputs != 1) {
		hg_config_free(&c);
		return;
	}
	/* The same plugin twice: two independent instances. */
	struct input_cfg *a = &c.inputs[0], *b = &c.inputs[1];
	CHECK(a->plugin == b->plugin);
	CHECK(a->config != b->config);
	CHECK(*(bool *)field(a->plugin->options, a->config, "percpu"));
	CHECK(*(bool *)field(a->plugin->options, a->config, "totalcpu"));
	CHECK(*(bool *)field(b->plugin->options, b->config, "percpu"));
	CHECK(!*(bool *)field(b->plugin->options, b->config, "totalcpu"));
	CHECK(a->common.alias == NULL);
	CHECK_STR(b->common.alias, "cpu-total-off");
	CHECK_INT(a->common.interval_ns, 30 * S);
	CHECK_INT(b->common.interval_ns, 0);
	CHECK_STR(a->common.name_prefix, "host_");
	CHECK_STR(tag(&a->common.tags, "role"), "worker");
	CHECK_STR(c.inputs[2].plugin->name, "mem");

	const struct metric_filter *f = &a->common.filter;
	CHECK_INT(f->namepass.n, 1);
	CHECK_STR(f->namepass.n ? f->namepass.v[0] : NULL, "cpu*");
	CHECK_INT(f->fielddrop.n, 2);
	CHECK_STR(f->fielddrop.n == 2 ? f->fielddrop.v[1] : NULL, "usage_guest*");
	CHECK_INT(f->tagpass.n, 1);
	if (f->tagpass.n == 1) {
		CHECK_STR(f->tagpass.key[0], "cpu");
		CHECK_INT(f->tagpass.globs[0].n, 2);
		CHECK_STR(f->tagpass.globs[0].n == 2 ? f->tagpass.globs[0].v[1] : NULL, "cpu1");
	}
	CHECK_INT(f->tagdrop.n, 1);
	CHECK_STR(f->tagdrop.n ? f->tagdrop.key[0] : NULL, "host");
	CHECK_INT(f->taginclude.n, 2);
	CHECK_INT(f->namedrop.n + f->fieldpass.n + f->tagexclude.n, 0);
	CHECK(hg_filter_is_empty(&b->common.filter));

	struct output_cfg *o = &c.outputs[0];
	CHECK_STR(o->common.alias, "out1");
	CHECK_INT(o->common.flush_interval_ns, 30 * S);
	CHECK_INT(o->common.metric_batch_size, 100);
	CHECK_INT(o->common.metric_buffer_limit, 1000);
	CHECK_INT(o->common.filter.namedrop.n, 1);
	CHECK_INT(o->common.filter.tagexclude.n, 1);
	hg_config_free(&c);
}

static void test_merge(void)
{
	struct agent_config c;
	char err[256] = "";
	char f1[1024], f2[1024], dir[1024];
	snprintf(f1, sizeof(f1), "%s", fixture("base.yaml"));
	snprintf(f2, sizeof(f2), "%s", fixture("override.yaml"));
	const char *files[] = { f1, f2 };
	snprintf(dir, sizeof(dir), "%s", fixture("conf.d"));
	int rc = hg_config_load(&c, files, 2, dir, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_INT(rc, 0);
	if (rc)
		return;
	CHECK_INT(c.interval_ns, 5 * S);        /* override.yaml over base.yaml; .hidden.yaml skipped */
	CHECK_STR(c.hostname, "base-host");     /* only base sets it */
	CHECK(c.debug);                         /* only override sets it */
	CHECK_INT(c.metric_batch_size, 200);    /* conf.d/20-file.yml last */
	CHECK_INT(c.metric_buffer_limit, 10000); /* nobody sets it */
	CHECK_INT(c.global_tags.n, 3);
	CHECK_STR(tag(&c.global_tags, "dc"), "eu-1");
	CHECK_STR(tag(&c.global_tags, "rack"), "r2");
	CHECK_STR(tag(&c.global_tags, "zone"), "a");
	/* Inputs append in file order: base, override, conf.d sorted. */
	CHECK_INT(c.ninputs, 3);
	if (c.ninputs == 3) {
		CHECK_STR(c.inputs[0].plugin->name, "cpu");
		CHECK(c.inputs[0].common.alias == NULL);
		CHECK_STR(c.inputs[1].common.alias, "second");
		CHECK_STR(c.inputs[2].plugin->name, "mem");
		CHECK(strstr(c.inputs[2].origin, "conf.d/10-mem.yaml:2:5") != NULL);
	}
	CHECK_INT(c.noutputs, 2);
	if (c.noutputs == 2) {
		struct strlist *l = field(c.outputs[1].plugin->options, c.outputs[1].config, "files");
		CHECK_STR(l->n ? l->v[0] : NULL, "/tmp/heliograph-test.out");
	}
	hg_config_free(&c);

	/* A file that fails names itself, and nothing is left allocated. */
	const char *missing[] = { f1, "/nonexistent/x.yaml" };
	CHECK_INT(hg_config_load(&c, missing, 2, NULL, err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/x.yaml: No such file or directory");
	CHECK_INT(c.ninputs, 0);
	const char *isdir[] = { dir };
	char want[1100];
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	CHECK_INT(hg_config_load(&c, isdir, 1, NULL, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	CHECK_INT(hg_config_load(&c, NULL, 0, "/nonexistent-dir", err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent-dir: No such file or directory");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A drop-in directory as the package's /etc/heliograph/agent.d: every file may
 * have its own inputs: and outputs: (which a single file may not repeat), they
 * add up in name order after --config, and an error names the file that has it. */
static void test_dropin_dir(void)
{
	char dir[] = "/tmp/hg-dropin.XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	write_file(dir, "20-net.yaml", "inputs:\n  - net: {}\noutputs:\n  - file: {files: [stdout]}\n");
	write_file(dir, "10-disk.yaml", "inputs:\n  - disk: {}\n  - diskio: {}\n");
	write_file(dir, "30-influx.yml",
		   "outputs:\n  - influxdb: {alias: second, urls: [\"http://10.0.0.2:8086\"], username: \"\"}\n");
	write_file(dir, "README", "inputs: [not yaml of ours\n");
	struct agent_config c;
	char err[512] = "", base[1024];
	snprintf(base, sizeof(base), "%s", fixture("base.yaml"));
	const char *files[] = { base };
	int rc = hg_config_load(&c, files, 1, dir, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_INT(rc, 0);
	if (!rc) {
		/* base.yaml's cpu, then 10-disk, then 20-net. */
		CHECK_INT(c.ninputs, 4);
		if (c.ninputs == 4) {
			CHECK_STR(c.inputs[0].plugin->name, "cpu");
			CHECK_STR(c.inputs[1].plugin->name, "disk");
			CHECK_STR(c.inputs[2].plugin->name, "diskio");
			CHECK_STR(c.inputs[3].plugin->name, "net");
			CHECK(strstr(c.inputs[3].origin, "/20-net.yaml:2:5") != NULL);
		}
		CHECK_INT(c.noutputs, 3);
		if (c.noutputs == 3) {
			CHECK_STR(c.outputs[1].plugin->name, "file");
			CHECK_STR(c.outputs[2].common.alias, "second");
		}
		hg_config_free(&c);
	}
	/* The same sections twice in one file stay an error, named with its position. */
	write_file(dir, "40-twice.yaml", "inputs:\n  - mem\ninputs:\n  - swap\n");
	char want[1200];
	snprintf(want, sizeof(want), "%s/40-twice.yaml:3:1: section \"inputs\" given twice", dir);
	CHECK_INT(hg_config_load(&c, files, 1, dir, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	write_file(dir, "40-twice.yaml", "inputs:\n  - mem: {percpu: true}\n");
	snprintf(want, sizeof(want), "%s/40-twice.yaml:2:11: input mem: unknown option \"percpu\"", dir);
	CHECK_INT(hg_config_load(&c, files, 1, dir, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	CHECK_INT(c.ninputs, 0);
	const char *names[] = { "10-disk.yaml", "20-net.yaml", "30-influx.yml", "README", "40-twice.yaml" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char p[1100];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void test_errors(void)
{
	expect_err("agent:\n  interval: 10s\n  intervall: 10s\n", "t.yaml:3:3: agent: unknown option \"intervall\"");
	expect_err("inputs:\n  - cpu: {percpu: true, bogus: 1}\n",
		   "t.yaml:2:25: input cpu: unknown option \"bogus\"");
	expect_err("outputs:\n  - file:\n      files: stdout\n",
		   "t.yaml:3:14: option \"files\": expected a list of strings, got a scalar");
	expect_err("agent:\n  interval: [1, 2]\n", "t.yaml:2:13: option \"interval\": expected a duration, got a sequence");
	expect_err("agent:\n  hostname: {a: b}\n", "t.yaml:2:13: option \"hostname\": expected a string, got a mapping");
	/* OPT_F_URL: not a URL is a config error at the value, which is not echoed (credentials). */
	expect_err("outputs:\n  - influxdb:\n      urls: [\"http://ok:8086\", \"u:pw@host:8086\"]\n",
		   "t.yaml:3:32: option \"urls\": not a URL (expected scheme://host[:port][/path])");
	expect_err("outputs:\n  - opentelemetry: {url: \"http//x\"}\n",
		   "t.yaml:2:26: option \"url\": not a URL (expected scheme://host[:port][/path])");
	expect_err("inputs:\n  - cpu: {tags: [a]}\n",
		   "t.yaml:2:17: option \"tags\": expected a mapping of strings, got a sequence");
	expect_err("inputs:\n  - cpu: {tagpass: {cpu: cpu0}}\n",
		   "t.yaml:2:26: option \"tagpass\": expected a list of strings, got a scalar");
	expect_err("agent:\n  flush_interval: 10x\n",
		   "t.yaml:2:19: option \"flush_interval\": bad duration \"10x\" (e.g. \"10s\", \"1m30s\", \"500ms\")");
	expect_err("inputs:\n  - cpu:\n      percpu: yes\n",
		   "t.yaml:3:15: option \"percpu\": expected true or false, got \"yes\"");
	/* An option with choices (kube_inventory mode): a mistyped value is an
	 * error at the value that lists the allowed ones, not at init. */
	expect_err("inputs:\n  - kube_inventory:\n      url: \"https://k:6443\"\n      mode: lsit\n",
		   "t.yaml:4:13: option \"mode\": expected watch or list, got \"lsit\"");
	expect_err("inputs:\n  - kube_inventory: {mode: WATCH}\n",
		   "t.yaml:2:28: option \"mode\": expected watch or list, got \"WATCH\"");
	{
		struct agent_config c;
		char err[256] = "";
		setenv("HG_TEST_KI_MODE", "list", 1);
		CHECK_INT(load_str(&c, "inputs:\n  - kube_inventory: {mode: \"${HG_TEST_KI_MODE}\"}\n", err, sizeof err), 0);
		CHECK_STR(err, "");
		hg_config_free(&c);
		setenv("HG_TEST_KI_MODE", "lsit", 1);
		expect_err("inputs:\n  - kube_inventory: {mode: \"${HG_TEST_KI_MODE}\"}\n",
			   "t.yaml:2:28: option \"mode\": expected watch or list, got \"lsit\"");
		unsetenv("HG_TEST_KI_MODE");
	}
	expect_err("agent:\n  metric_batch_size: 10k\n",
		   "t.yaml:2:22: option \"metric_batch_size\": expected an integer, got \"10k\"");
	expect_err("agent:\n  metric_batch_size: 99999999999999999999\n",
		   "t.yaml:2:22: option \"metric_batch_size\": integer out of range: \"99999999999999999999\"");
	expect_err("agent:\n  metric_batch_size: 0\n",
		   "t.yaml:2:22: option \"metric_batch_size\": must be greater than 0");
	expect_err("outputs:\n  - file: {metric_buffer_limit: -5}\n",
		   "t.yaml:2:33: option \"metric_buffer_limit\": must be greater than 0");
	expect_err("agent:\n  interval: 0s\n", "t.yaml:2:13: option \"interval\": must be greater than 0");
	expect_err("agent:\n  health_max_connections: 0\n",
		   "t.yaml:2:27: option \"health_max_connections\": must be greater than 0");
	expect_err("agent:\n  health_header_timeout: 0s\n",
		   "t.yaml:2:26: option \"health_header_timeout\": must be greater than 0");
	expect_err("inputs:\n  - cpu: {}\n  - nosuch: {}\n", "t.yaml:3:5: unknown input plugin \"nosuch\"");
	expect_err("outputs:\n  - nosuch\n", "t.yaml:2:5: unknown output plugin \"nosuch\"");
	expect_err("inputs:\n  - cpu: {}\n    mem: {}\n",
		   "t.yaml:2:5: inputs: each entry must be a mapping of one plugin name to its options");
	expect_err("inputs:\n  cpu: {}\n", "t.yaml:2:3: inputs: expected a list (- cpu: {...})");
	expect_err("agent:\n  debug: true\n  debug: false\n", "t.yaml:3:3: agent: option \"debug\" given twice");
	expect_err("agents:\n  debug: true\n",
		   "t.yaml:1:1: unknown section \"agents\" (expected agent, global_tags, inputs, outputs)");
	expect_err("- cpu\n", "t.yaml:1:1: expected a mapping with agent:, global_tags:, inputs: and outputs: sections");
	expect_err("agent:\n  hostname: \"${HOST\"\n",
		   "t.yaml:2:13: option \"hostname\": unterminated ${...} reference");
	/* YAML syntax errors: libyaml's problem at its problem_mark. */
	expect_err("agent:\n  interval: 10s\n  debug: [true\n",
		   "t.yaml:4:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence");
	expect_err("agent:\n  interval: 10s\n flush_interval: 5s\n",
		   "t.yaml:3:2: YAML syntax error: did not find expected key while parsing a block mapping");
	expect_err("agent: {}\n---\nagent: {}\n", "t.yaml:3:1: more than one YAML document in a file");
	expect_err("global_tags: &t {a: b}\ninputs:\n  - cpu: {tags: *t}\n",
		   "t.yaml:1:14: YAML anchors and aliases are not supported");
}

/* A secret's value never reaches a message. */
struct secret_conf {
	char *token;
	int64_t n;
};
static const struct opt_desc secret_opts[] = {
	{ "token", OPT_SECRET, offsetof(struct secret_conf, token), NULL, "t" },
	{ "n", OPT_INT, offsetof(struct secret_conf, n), "7", "n" },
	OPT_END,
};

static int apply_one(const char *yaml, struct secret_conf *sc, char *err, size_t errlen)
{
	struct ydoc d;
	if (hg_ydoc_load(&d, "s.yaml", yaml, strlen(yaml), err, errlen) < 0)
		return -1;
	yaml_node_t *root = hg_ydoc_root(&d);
	yaml_node_pair_t *p = root->data.mapping.pairs.start;
	const struct opt_desc *o = hg_opt_find(secret_opts, ynode_text(hg_ydoc_node(&d, p->key)));
	int rc = hg_opt_apply(o, sc, &d, hg_ydoc_node(&d, p->value), err, errlen);
	hg_ydoc_free(&d);
	return rc;
}

static void test_secret(void)
{
	struct secret_conf sc = { 0 };
	char err[256] = "";
	CHECK_INT(hg_opt_apply_default(&secret_opts[1], &sc, "test", err, sizeof(err)), 0);
	CHECK_INT(sc.n, 7);
	CHECK_INT(apply_one("token: hunter2\n", &sc, err, sizeof(err)), 0);
	CHECK_STR(sc.token, "hunter2");
	CHECK_INT(apply_one("token: [hunter2]\n", &sc, err, sizeof(err)), -1);
	CHECK(strstr(err, "hunter2") == NULL);
	CHECK_STR(err, "s.yaml:1:8: option \"token\": expected a string, got a sequence");
	CHECK_INT(apply_one("token: hunter2${X\n", &sc, err, sizeof(err)), -1);
	CHECK(strstr(err, "hunter2") == NULL);
	setenv("HG_TEST_TOKEN", "s3cr3t", 1);
	CHECK_INT(apply_one("token: ${HG_TEST_TOKEN}\n", &sc, err, sizeof(err)), 0);
	CHECK_STR(sc.token, "s3cr3t");
	hg_opts_free(secret_opts, &sc);
	CHECK(sc.token == NULL);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_defaults),
		CHECK_CASE(test_full),
		CHECK_CASE(test_merge),
		CHECK_CASE(test_dropin_dir),
		CHECK_CASE(test_errors),
		CHECK_CASE(test_secret),
	};
	return CHECK_RUN(argc, argv, cases);
}
