/* The config loader and the options that take one of a few values
 * (opt_desc.choices): a bad value is refused at its position, naming the
 * values; every such option has its case here and names them in its help. */
#include "config_check.h"

/* Every option that takes one of a few values (opt_desc.choices): a bad
 * value is an error at the value that lists them; a good one loads. */
struct choice_case {
	const char *section, *plugin, *option; /* option "buffer.type": the buffer section's type */
	const char *bad, *at, *allowed;        /* the message's position and list, as the user reads them */
	const char *good;                      /* another value than the default where there is one */
	bool list;                             /* a list option: each item is one of them ([value]) */
};
static const struct choice_case choice_cases[] = {
	{ "inputs", "kube_inventory", "mode", "lsit", "3:13", "watch or list", "list" },
	{ "inputs", "kubernetes", "pod_metadata_source", "api-server", "3:28", "kubelet, apiserver or none", "apiserver" },
	{ "inputs", "netstat", "method", "sock_diag", "3:15", "auto, netlink or proc", "proc" },
	{ "inputs", "prometheus", "format", "json", "3:15", "protobuf, text or openmetrics", "openmetrics" },
	{ "inputs", "prometheus", "pod_scrape_scope", "cluster", "3:25", "node", "node" },
	{ "inputs", "prometheus", "pod_credentials", "some", "3:24", "none or all", "all" },
	{ "outputs", "influxdb", "content_encoding", "br", "3:25", "gzip or identity", "identity" },
	{ "outputs", "influxdb", "write_consistency", "quroum", "3:26", "any, one, quorum or all", "quorum" },
	{ "outputs", "influxdb_v2", "content_encoding", "deflate", "3:25", "gzip or identity", "identity" },
	{ "outputs", "opentelemetry", "compression", "snappy", "3:20", "gzip or none", "none" },
	{ "outputs", "file", "buffer.type", "dsik", "4:15", "memory or disk", "disk" },
	{ "inputs", "kernel", "collect", "ksm", "3:17", "psi", "psi", true },
	{ "inputs", "conntrack", "collect", "sum", "3:17", "all or percpu", "percpu", true },
};
#define NCHOICE (sizeof choice_cases / sizeof *choice_cases)

static void choice_yaml(char *y, size_t len, const struct choice_case *k, const char *item)
{
	char value[64];
	snprintf(value, sizeof value, k->list ? "[%s]" : "%s", item);
	const char *dot = strchr(k->option, '.');
	if (dot)
		snprintf(y, len, "%s:\n  - %s:\n      %.*s:\n        %s: %s\n", k->section, k->plugin,
			 (int)(dot - k->option), k->option, dot + 1, value);
	else
		snprintf(y, len, "%s:\n  - %s:\n      %s: %s\n", k->section, k->plugin, k->option, value);
}

/* The table covers every row with choices, and each row's help names its
 * choices (the sample prints the help). n: the rows seen. */
static void choice_rows(const char *plugin, const struct opt_desc *opts, const char *prefix, size_t *n)
{
	for (const struct opt_desc *o = opts; o && o->name; o++) {
		char name[128];
		snprintf(name, sizeof name, "%s%s", prefix, o->name);
		if (o->type == OPT_SECTION)
			choice_rows(plugin, o->sub, "buffer.", n);
		if (!o->choices)
			continue;
		(*n)++;
		bool listed = false;
		for (size_t i = 0; i < NCHOICE; i++)
			listed |= (!plugin || !strcmp(choice_cases[i].plugin, plugin)) && !strcmp(choice_cases[i].option, name);
		if (!listed)
			fprintf(stderr, "%s %s: choices but no case in choice_cases\n", plugin ? plugin : "common", name);
		CHECK(listed);
		for (const char *const *ch = o->choices; *ch; ch++) {
			CHECK(o->help && strstr(o->help, *ch));
			if (!o->help || !strstr(o->help, *ch))
				fprintf(stderr, "%s: help does not name \"%s\"\n", name, *ch);
		}
	}
}

static void test_choices(void)
{
	setenv("NODE_IP", "127.0.0.1", 1);
	setenv("NODE_NAME", "test-node", 1);
	for (size_t i = 0; i < NCHOICE; i++) {
		const struct choice_case *k = &choice_cases[i];
		const char *leaf = strchr(k->option, '.') ? strchr(k->option, '.') + 1 : k->option;
		char y[512], want[512];
		choice_yaml(y, sizeof y, k, k->bad);
		snprintf(want, sizeof want, "t.yaml:%s: option \"%s\": expected %s, got \"%s\"", k->at, leaf, k->allowed,
			 k->bad);
		expect_err(y, want);
		/* The good value loads, and is the option's value. */
		struct agent_config c;
		char err[512] = "";
		choice_yaml(y, sizeof y, k, k->good);
		int rc = load_str(&c, y, err, sizeof err);
		CHECK_INT(rc, 0);
		if (rc) {
			fprintf(stderr, "%s %s: %s: %s\n", k->plugin, k->option, k->good, err);
			continue;
		}
		const char *got;
		if (k->list) {
			const struct strlist *l = field(c.inputs[0].plugin->options, c.inputs[0].config, k->option);
			CHECK_INT(l->n, 1);
			got = l->n ? l->v[0] : "";
		} else if (strchr(k->option, '.'))
			got = c.outputs[0].common.buffer.type;
		else if (!strcmp(k->section, "inputs"))
			got = *(char **)field(c.inputs[0].plugin->options, c.inputs[0].config, k->option);
		else
			got = *(char **)field(c.outputs[0].plugin->options, c.outputs[0].config, k->option);
		CHECK_STR(got, k->good);
		hg_config_free(&c);
	}
	/* Mistyped in flow style, as the sample comments suggest: at the value too. */
	expect_err("outputs:\n  - influxdb: {content_encoding: GZIP}\n",
		   "t.yaml:2:34: option \"content_encoding\": expected gzip or identity, got \"GZIP\"");
	expect_err("outputs:\n  - file: {buffer: {type: Disk}}\n",
		   "t.yaml:2:27: option \"type\": expected memory or disk, got \"Disk\"");
	/* A list: each item, at its own position. */
	expect_err("inputs:\n  - conntrack: {collect: [all, percpu, sum]}\n",
		   "t.yaml:2:40: option \"collect\": expected all or percpu, got \"sum\"");
	/* "" is unset, as for any string: the default, not an error. */
	{
		struct agent_config c;
		char err[256] = "";
		CHECK_INT(load_str(&c, "inputs:\n  - netstat: {method: \"\"}\n", err, sizeof err), 0);
		CHECK_STR(*(char **)field(c.inputs[0].plugin->options, c.inputs[0].config, "method"), "auto");
		hg_config_free(&c);
	}
	size_t n = 0;
	for (size_t i = 0; hg_input_registry[i]; i++)
		choice_rows(hg_input_registry[i]->name, hg_input_registry[i]->options, "", &n);
	for (size_t i = 0; hg_output_registry[i]; i++)
		choice_rows(hg_output_registry[i]->name, hg_output_registry[i]->options, "", &n);
	choice_rows(NULL, hg_agent_options, "", &n);
	choice_rows(NULL, hg_input_common_options, "", &n);
	choice_rows(NULL, hg_output_common_options, "", &n);
	/* buffer.type counts once here, the table has it for one output. */
	CHECK_INT(n, NCHOICE);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_choices),
	};
	return CHECK_RUN(argc, argv, cases);
}
