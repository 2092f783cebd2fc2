/* convert-telegraf: options matched by name through the option tables, sub
 * tables (tags, tagpass), renamed and implied settings, $VAR, and every
 * setting left out reported with its line. The YAML is loaded back with the
 * agent's loader and the loaded values are checked: they must be what
 * Telegraf reads from the same TOML. */
#include <stdlib.h>
#include "check.h"
#include "config.h"
#include "convert_telegraf.h"
#include "toml.h"

static const char *conf =
	"[global_tags]\n"                      /* 1 */
	"  dc = \"us-east-1\"\n"               /* 2 */
	"[agent]\n"                            /* 3 */
	"  interval = 5\n"                     /* 4 */
	"  hostname = \"$HOSTNAME-x\"\n"       /* 5 */
	"  logtarget = \"stderr\"\n"           /* 6 */
	"[[inputs.cpu]]\n"                     /* 7 */
	"  percpu = false\n"                   /* 8 */
	"  interval = \"30s\"\n"               /* 9 */
	"  fancy = 1\n"                        /* 10 */
	"  [inputs.cpu.tags]\n"                /* 11 */
	"    role = \"db\"\n"                  /* 12 */
	"  [inputs.cpu.tagpass]\n"             /* 13 */
	"    cpu = [\"cpu-total\", \"cpu0\"]\n" /* 14 */
	"[[inputs.docker]]\n"                  /* 15 */
	"  endpoint = \"unix:///x\"\n"         /* 16 */
	"[[inputs.mem]]\n"                     /* 17 */
	"[[processors.rename]]\n"              /* 18 */
	"[[outputs.file]]\n"                   /* 19 */
	"  files = \"stdout\"\n"               /* 20 */
	"  data_format = \"influx\"\n"         /* 21 */
	"[[outputs.influxdb]]\n"               /* 22 */
	"  urls = [\"http://127.0.0.1:8086\"]\n" /* 23 */
	"  ssl_ca = \"/ca.pem\"\n"             /* 24 */
	"  timeout = true\n";                  /* 25 */

static char *convert_named(const char *name, const char *text, char **rep, int *dropped)
{
	struct toml_doc d;
	char err[256];
	if (hg_toml_parse(&d, name, text, strlen(text), err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		check_failures++;
		return NULL;
	}
	char *y = NULL, *r = NULL;
	size_t yl = 0, rl = 0;
	FILE *ym = open_memstream(&y, &yl), *rm = open_memstream(&r, &rl);
	*dropped = hg_convert_telegraf(&d, name, ym, rm, err, sizeof err);
	fclose(ym);
	fclose(rm);
	hg_toml_free(&d);
	*rep = r;
	return y;
}

static char *convert(const char *text, char **rep, int *dropped)
{
	return convert_named("t.conf", text, rep, dropped);
}

static void has(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle)) {
		fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, hay ? hay : "(null)");
		check_failures++;
	}
}

static void lacks(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle)) {
		fprintf(stderr, "unexpected \"%s\" in:\n%s\n", needle, hay);
		check_failures++;
	}
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Converts and loads; NULL (a failed check) when the YAML does not load. */
static int load(const char *yaml, struct agent_config *cfg)
{
	char err[512];
	if (!yaml || hg_config_load_buffer(cfg, "converted.yaml", yaml, strlen(yaml), err, sizeof err) < 0) {
		fprintf(stderr, "does not load: %s\n%s", yaml ? err : "(no yaml)", yaml ? yaml : "");
		check_failures++;
		return -1;
	}
	return 0;
}

static const char *tag(const struct strmap *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->k[i], k))
			return m->v[i];
	return "(missing)";
}

static char *fixture(const char *file)
{
	const char *dir = getenv("FIXTURES");
	char path[512];
	snprintf(path, sizeof path, "%s/telegraf/%s", dir ? dir : "fixtures", file);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "no fixture %s\n", path);
		check_failures++;
		return NULL;
	}
	char *b = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&b, &n);
	char chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, k, m);
	fclose(m);
	fclose(f);
	return b;
}

/* Options Telegraf renamed are carried to the agent's name, not reported;
 * several spellings at once merge as Telegraf merges them. */
static void test_renames(void)
{
	char *rep = NULL;
	int dropped;
	/* Telegraf's CONFIGURATION.md example: fieldexclude (Telegraf >= 1.29). */
	char *text = fixture("configuration-md-tagdrop.conf");
	char *yaml = text ? convert(text, &rep, &dropped) : NULL;
	struct agent_config cfg;
	if (yaml && load(yaml, &cfg) == 0) {
		CHECK_INT(dropped, 0);
		CHECK_STR(rep, "");
		CHECK_STR(cfg.inputs[0].plugin->name, "cpu");
		CHECK_INT(cfg.inputs[0].common.filter.fielddrop.n, 1);
		CHECK_STR(cfg.inputs[0].common.filter.fielddrop.v[0], "cpu_time");
		CHECK_STR(cfg.inputs[0].common.filter.tagdrop.key[0], "cpu");
		CHECK_INT(cfg.inputs[0].common.filter.tagdrop.globs[0].n, 2);
		CHECK_INT(cfg.inputs[1].common.filter.tagpass.n, 2);
		hg_config_free(&cfg);
	}
	free(text);
	free(yaml);
	free(rep);
	rep = NULL;
	/* Telegraf's 2016 loader test config: the pre-0.10.4 drop = [...] on cpu. */
	text = fixture("telegraf-agent-2016.toml");
	yaml = text ? convert(text, &rep, &dropped) : NULL;
	has(yaml, "  - cpu:\n      percpu: true\n      totalcpu: true\n      fielddrop: [\"cpu_time\"]\n");
	lacks(rep, "\"drop\"");
	lacks(rep, "hostname"); /* hostname = "" is Telegraf's "unset" */
	free(text);
	free(yaml);
	free(rep);

	yaml = convert("[[inputs.system]]\n"                 /* 1 */
		       "  fieldinclude = [\"load1\"]\n"      /* 2: CONFIGURATION.md */
		       "[[inputs.cpu]]\n"                    /* 3 */
		       "  pass = [\"usage_*\"]\n"             /* 4 */
		       "  fieldpass = [\"time_*\"]\n"         /* 5 */
		       "  fieldinclude = \"usage_idle\"\n"    /* 6 */
		       "  drop = [\"usage_guest*\"]\n"        /* 7 */
		       "[[outputs.influxdb]]\n"              /* 8 */
		       "  url = \"http://b:8086\"\n"          /* 9 */
		       "  urls = [\"http://a:8086\"]\n"       /* 10 */
		       "  ssl_ca = \"/ssl.pem\"\n"            /* 11 */
		       "  tls_ca = \"/tls.pem\"\n"            /* 12 */
		       "  ssl_cert = \"/cert.pem\"\n"         /* 13 */
		       "  tls_cert = \"\"\n",                  /* 14: unset: ssl_cert applies */
		       &rep, &dropped);
	CHECK_INT(dropped, 0);
	lacks(rep, "not supported");
	/* Telegraf uses tls_ca first; ssl_ca is said to be ignored. */
	has(rep, "t.conf:11: warning: outputs.influxdb.ssl_ca is ignored: tls_ca (line 12) is set, and Telegraf uses it first\n");
	CHECK_INT(count(yaml, "tls_ca:"), 1);
	has(yaml, "      tls_ca: \"/tls.pem\"\n");
	has(yaml, "      tls_cert: \"/cert.pem\"\n");
	/* urls first, then the deprecated url, as Telegraf appends them. */
	has(yaml, "      urls: [\"http://a:8086\", \"http://b:8086\"]\n");
	CHECK_INT(count(yaml, "urls:"), 1);
	CHECK_INT(count(yaml, "fieldpass:"), 2);
	if (load(yaml, &cfg) == 0) {
		CHECK_INT(cfg.inputs[0].common.filter.fieldpass.n, 1);
		CHECK_STR(cfg.inputs[0].common.filter.fieldpass.v[0], "load1");
		const struct strlist *fp = &cfg.inputs[1].common.filter.fieldpass;
		CHECK_INT(fp->n, 3);
		if (fp->n == 3) {
			CHECK_STR(fp->v[0], "time_*");
			CHECK_STR(fp->v[1], "usage_*");
			CHECK_STR(fp->v[2], "usage_idle");
		}
		CHECK_INT(cfg.inputs[1].common.filter.fielddrop.n, 1);
		hg_config_free(&cfg);
	}
	free(yaml);
	free(rep);
}

static const char *yaml_value(const char *yaml, const char *key, char *buf, size_t len)
{
	const char *p = yaml ? strstr(yaml, key) : NULL;
	buf[0] = '\0';
	if (p)
		sscanf(p + strlen(key), " %255[^\n]", buf);
	(void)len;
	return buf;
}

/* References as Telegraf expands them (compose-go templates, undeclared
 * kept literally), read back by the agent's own expander. */
static void test_variables(void)
{
	char *rep;
	int dropped;
	const char *text = "[global_tags]\n"
			   "  dc = \"eu$west\"\n"          /* undeclared: stays eu$west */
			   "  rack = \"r${1}\"\n"          /* invalid name: kept (regex groups) */
			   "  cost = \"$$5 ${ZONE}$$\"\n"  /* $$ escapes */
			   "  team = \"$_TEAM\"\n"
			   "  zone = \"${ZONE:-z1}\"\n"
			   "  brace = \"$${NOT}\"\n"
			   "[agent]\n"
			   "  metric_batch_size = ${BATCH}\n" /* unquoted, as Telegraf's docs show */
			   "  omit_hostname = ${OMIT}\n"
			   "  flush_interval = \"${FLUSH}\"\n"
			   "  hostname = \"${HN-dflt}\"\n";
	unsetenv("west");
	unsetenv("ZONE");
	unsetenv("HN");
	setenv("_TEAM", "ops", 1);
	setenv("BATCH", "500", 1);
	setenv("OMIT", "true", 1);
	setenv("FLUSH", "3s", 1);
	char *yaml = convert(text, &rep, &dropped);
	CHECK_INT(dropped, 0);
	CHECK(strstr(rep, "agent.hostname") == NULL); /* ${VAR-default} is carried as it is */
	char v[256];
	CHECK_STR(yaml_value(yaml, "\"dc\":", v, sizeof v), "\"eu${west-$west}\"");
	CHECK_STR(yaml_value(yaml, "metric_batch_size:", v, sizeof v), "\"${BATCH-$${BATCH}}\"");
	struct agent_config cfg;
	if (load(yaml, &cfg) == 0) {
		CHECK_STR(tag(&cfg.global_tags, "dc"), "eu$west");
		CHECK_STR(tag(&cfg.global_tags, "rack"), "r${1}");
		CHECK_STR(tag(&cfg.global_tags, "cost"), "$5 ${ZONE}$");
		CHECK_STR(tag(&cfg.global_tags, "team"), "ops");
		CHECK_STR(tag(&cfg.global_tags, "zone"), "z1");
		CHECK_STR(tag(&cfg.global_tags, "brace"), "${NOT}");
		CHECK_INT(cfg.metric_batch_size, 500);
		CHECK(cfg.omit_hostname);
		CHECK_INT(cfg.flush_interval_ns, 3000000000LL);
		CHECK_STR(cfg.hostname, "dflt");
		hg_config_free(&cfg);
	}
	/* Declared, they expand. */
	setenv("west", "-1", 1);
	setenv("ZONE", "z9", 1);
	if (load(yaml, &cfg) == 0) {
		CHECK_STR(tag(&cfg.global_tags, "dc"), "eu-1");
		CHECK_STR(tag(&cfg.global_tags, "cost"), "$5 z9$");
		CHECK_STR(tag(&cfg.global_tags, "zone"), "z9");
		hg_config_free(&cfg);
	}
	/* Declared empty, they are "" (Telegraf's os.LookupEnv finds them), and ${HN-dflt} too. */
	setenv("west", "", 1);
	setenv("HN", "", 1);
	if (load(yaml, &cfg) == 0) {
		CHECK_STR(tag(&cfg.global_tags, "dc"), "eu");
		CHECK(cfg.hostname == NULL); /* "" is unset, as in Telegraf: the machine's name */
		hg_config_free(&cfg);
	}
	unsetenv("west");
	unsetenv("ZONE");
	unsetenv("HN");
	free(yaml);
	free(rep);
	/* What cannot be said to the agent is left out alone, with its line. */
	yaml = convert("[global_tags]\n  a = \"x$$${B}\"\n  b = \"${B:+set}\"\n  c = \"ok\"\n", &rep, &dropped);
	CHECK_INT(dropped, 2);
	has(rep, "t.conf:2: global_tags.a: a '$' right before a variable reference cannot be written for the agent; left out");
	has(rep, "t.conf:3: global_tags.b: ${VAR:+value}");
	has(yaml, "  \"c\": \"ok\"\n");
	free(yaml);
	free(rep);
}

/* Durations as Telegraf's config.Duration reads them; one it cannot read
 * is left out alone. */
static void test_durations(void)
{
	char *rep;
	int dropped;
	char *yaml = convert("[agent]\n"
			     "  interval = \"1d\"\n"
			     "  flush_interval = \"1.5\"\n"
			     "  collection_jitter = 2\n"
			     "  flush_jitter = 0.25\n"
			     "  shutdown_timeout = \"1h30m\"\n"
			     "  precision = \"\"\n"  /* 7: the default, nothing to report */
			     "[[inputs.mem]]\n"
			     "  interval = \"soon\"\n" /* 9 */
			     "[[inputs.swap]]\n"
			     "  interval = \"-5s\"\n"  /* 11 */
			     "  collection_jitter = \"1.5d\"\n",
			     &rep, &dropped);
	CHECK_INT(dropped, 2);
	has(rep, "t.conf:9: inputs.mem.interval: not a duration");
	has(rep, "t.conf:11: inputs.swap.interval: a negative duration");
	lacks(rep, "precision");
	lacks(yaml, "precision");
	has(yaml, "  interval: \"24h\"\n");
	has(yaml, "  flush_interval: \"1500ms\"\n");
	struct agent_config cfg;
	if (load(yaml, &cfg) == 0) {
		CHECK_INT(cfg.interval_ns, 86400000000000LL);
		CHECK_INT(cfg.flush_interval_ns, 1500000000LL);
		CHECK_INT(cfg.collection_jitter_ns, 2000000000LL);
		CHECK_INT(cfg.flush_jitter_ns, 250000000LL);
		CHECK_INT(cfg.shutdown_timeout_ns, 5400000000000LL);
		CHECK_INT(cfg.precision_ns, 0);
		CHECK_INT(cfg.ninputs, 2);
		CHECK_INT(cfg.inputs[1].common.collection_jitter_ns, 129600000000000LL);
		hg_config_free(&cfg);
	}
	free(yaml);
	free(rep);
}

/* An option that takes one of a few values (opt_desc.choices): Telegraf's
 * values the agent takes are carried, another is left out alone (the agent
 * would refuse the whole file), and a ${VAR} is the agent's to check. */
static void test_choices(void)
{
	char *rep;
	int dropped;
	char *yaml = convert("[[inputs.prometheus]]\n"
			     "  urls = [\"http://127.0.0.1:9100/metrics\"]\n"
			     "  pod_scrape_scope = \"cluster\"\n" /* 3 */
			     "[[inputs.netstat]]\n"
			     "  method = \"${NETSTAT_METHOD}\"\n"
			     "[[inputs.kernel]]\n"
			     "  collect = [\"psi\",\n"
			     "             \"ksm\"]\n" /* 8: one item left out */
			     "[[outputs.influxdb]]\n"
			     "  content_encoding = \"identity\"\n"
			     "[[outputs.influxdb_v2]]\n"
			     "  bucket = \"b\"\n"
			     "  content_encoding = \"br\"\n" /* 13 */
			     "[[outputs.opentelemetry]]\n"
			     "  compression = \"none\"\n"
			     "[[outputs.opentelemetry]]\n"
			     "  compression = 1\n", /* 17 */
			     &rep, &dropped);
	CHECK_INT(dropped, 4);
	has(rep, "t.conf:3: inputs.prometheus.pod_scrape_scope: \"cluster\" is not a value Heliograph takes (node); left out\n");
	has(rep, "t.conf:8: inputs.kernel.collect: \"ksm\" is not a value Heliograph takes (psi); left out\n");
	has(rep, "t.conf:13: outputs.influxdb_v2.content_encoding: \"br\" is not a value Heliograph takes (gzip or identity); "
		 "left out\n");
	has(rep, "t.conf:17: outputs.opentelemetry.compression: a ");
	has(rep, " where Heliograph expects gzip or none; left out\n");
	lacks(yaml, "cluster");
	lacks(yaml, "\"br\"");
	has(yaml, "      method: \"${NETSTAT_METHOD-$${NETSTAT_METHOD}}\"\n");
	has(yaml, "      collect: [\"psi\"]\n");
	setenv("NETSTAT_METHOD", "proc", 1);
	struct agent_config cfg;
	if (load(yaml, &cfg) == 0) {
		const struct opt_desc *o;
		CHECK_INT(cfg.ninputs, 3);
		CHECK_INT(cfg.noutputs, 4);
		static const struct {
			int output;
			size_t i;
			const char *option, *want;
		} vals[] = {
			{ 0, 0, "pod_scrape_scope", "node" }, { 0, 1, "method", "proc" },
			{ 1, 0, "content_encoding", "identity" }, { 1, 1, "content_encoding", "gzip" },
			{ 1, 2, "compression", "none" }, { 1, 3, "compression", "gzip" },
		};
		for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
			const struct opt_desc *opts = vals[k].output ? cfg.outputs[vals[k].i].plugin->options
								     : cfg.inputs[vals[k].i].plugin->options;
			void *base = vals[k].output ? cfg.outputs[vals[k].i].config : cfg.inputs[vals[k].i].config;
			for (o = opts; o->name && strcmp(o->name, vals[k].option); o++)
				;
			CHECK(o->name != NULL);
			if (o->name)
				CHECK_STR(*(char **)((char *)base + o->offset), vals[k].want);
		}
		hg_config_free(&cfg);
	}
	unsetenv("NETSTAT_METHOD");
	free(yaml);
	free(rep);
}

/* What cannot be carried is said on the setting itself, and an output the
 * agent cannot speak is left out, keeping the URLs it can. */
static void test_warned(void)
{
	char *rep;
	int dropped;
	char *yaml = convert("[[inputs.net]]\n"                                        /* 1 */
			     "  ignore_protocol_stats = false\n"                        /* 2 */
			     "[[outputs.influxdb]]\n"                                   /* 3 */
			     "  urls = [\"udp://localhost:8089\", \"HTTP://127.0.0.1:8086\",\n" /* 4 */
			     "          \"unix:///var/run/influxdb.sock\"]\n"           /* 5 */
			     "  username = \"\"\n"                                       /* 6 */
			     "  password = \"@{vault:influx_password}\"\n"               /* 7 */
			     "[[outputs.influxdb]]\n"                                   /* 8 */
			     "  urls = [\"udp://telegraf:s3cret@relay:8089\"]\n"         /* 9 */
			     "[[outputs.influxdb]]\n"                                   /* 10 */
			     "  urls = []\n",                                           /* 11: Telegraf's default URL */
			     &rep, &dropped);
	has(rep, "t.conf:2: inputs.net.ignore_protocol_stats = false: ");
	has(rep, "add [[inputs.nstat]]");
	has(rep, "TcpActiveOpens");
	has(rep, "t.conf:4: outputs.influxdb.urls: udp://localhost:8089 is not a URL the agent writes to");
	has(rep, "t.conf:5: outputs.influxdb.urls: unix:///var/run/influxdb.sock is not a URL the agent writes to");
	has(rep, "t.conf:7: outputs.influxdb.password: @{vault:influx_password} is a Telegraf secret-store reference");
	has(rep, "t.conf:8: [[outputs.influxdb]]: the agent cannot write to any of its URLs (udp://relay:8089:");
	lacks(rep, "s3cret");
	lacks(rep, "username");
	CHECK_INT(dropped, 5);
	has(yaml, "      urls: [\"http://127.0.0.1:8086\"]\n");
	lacks(yaml, "username");
	lacks(yaml, "password");
	lacks(yaml, "ignore_protocol_stats");
	struct agent_config cfg;
	if (load(yaml, &cfg) == 0) {
		CHECK_INT(cfg.noutputs, 2);
		hg_config_free(&cfg);
	}
	free(yaml);
	free(rep);
	/* Its only output left out, the YAML has no outputs section. */
	yaml = convert("[[inputs.mem]]\n[[outputs.influxdb]]\n  url = \"udp://127.0.0.1:8089\"\n", &rep, &dropped);
	CHECK_INT(dropped, 1);
	lacks(yaml, "outputs");
	if (load(yaml, &cfg) == 0) {
		CHECK_INT(cfg.noutputs, 0);
		hg_config_free(&cfg);
	}
	free(yaml);
	free(rep);
	/* Credentials Telegraf also sends to annotated pods: carried for the urls, said for the pods. */
	yaml = convert("[[inputs.prometheus]]\n"                  /* 1 */
		       "  urls = [\"http://127.0.0.1:9100/metrics\"]\n" /* 2 */
		       "  monitor_kubernetes_pods = true\n"          /* 3 */
		       "  bearer_token_string = \"abc123\"\n",      /* 4 */
		       &rep, &dropped);
	CHECK_INT(dropped, 0);
	has(rep, "t.conf:4: warning: inputs.prometheus.bearer_token_string: Telegraf also sends it to every pod annotated");
	lacks(rep, "abc123");
	lacks(yaml, "pod_credentials");
	free(yaml);
	free(rep);
	yaml = convert("[[inputs.prometheus]]\n  monitor_kubernetes_pods = true\n", &rep, &dropped);
	lacks(rep, "pod annotated");
	free(yaml);
	free(rep);
	/* ignore_protocol_stats = true is what the agent does: carried. */
	yaml = convert("[[inputs.net]]\n  ignore_protocol_stats = true\n", &rep, &dropped);
	CHECK_INT(dropped, 0);
	has(yaml, "      ignore_protocol_stats: true\n");
	free(yaml);
	free(rep);
}

/* The file's name goes into YAML comments and report lines: whatever it
 * holds, it cannot end a comment or a line. */
static void test_name(void)
{
	char *rep;
	int dropped;
	char *yaml = convert_named("dir\nagent: {interval: 1ms}\n\xff.conf", "[[inputs.mem]]\n[[inputs.nope]]\n", &rep,
				   &dropped);
	has(yaml, "converted from dir\\x0Aagent: {interval: 1ms}\\x0A\\xFF.conf by");
	has(yaml, "  # dir\\x0Aagent: {interval: 1ms}\\x0A\\xFF.conf:1\n  - mem: {}\n");
	has(rep, "dir\\x0Aagent: {interval: 1ms}\\x0A\\xFF.conf:2: [[inputs.nope]]");
	CHECK_INT(count(rep, "\n"), 1);
	struct agent_config cfg;
	if (load(yaml, &cfg) == 0) {
		CHECK_INT(cfg.interval_ns, 10000000000LL);
		CHECK_INT(cfg.ninputs, 1);
		hg_config_free(&cfg);
	}
	free(yaml);
	free(rep);
}

/* The rows of the markdown table under heading in md: each row's cells,
 * backticks removed, joined by '|' ("fieldinclude|fieldpass|any|..."). */
static void test_sample(void)
{
	char *rep;
	int dropped;
	char *yaml = convert(conf, &rep, &dropped);
	CHECK(yaml != NULL);
	if (!yaml)
		return;
	/* What was left out: each with its line, and nothing else. */
	has(rep, "t.conf:6: agent: option \"logtarget\" is not supported by Heliograph; left out\n");
	has(rep, "t.conf:10: inputs.cpu: option \"fancy\" is not supported by Heliograph; left out\n");
	has(rep, "t.conf:15: [[inputs.docker]]: Heliograph has no input plugin \"docker\"; left out\n");
	has(rep, "t.conf:18: [[processors.rename]]: Heliograph has no processors; left out\n");
	has(rep, "t.conf:25: outputs.influxdb.timeout: a boolean where Heliograph expects a duration; left out\n");
	CHECK_INT(dropped, 5);
	/* What was carried. */
	has(yaml, "  hostname: \"${HOSTNAME-$HOSTNAME}-x\"\n");
	has(yaml, "  interval: \"5s\"\n");
	has(yaml, "  # t.conf:7\n  - cpu:\n");
	has(yaml, "      tagpass:\n        \"cpu\": [\"cpu-total\", \"cpu0\"]\n");
	has(yaml, "  - mem: {}\n");
	has(yaml, "      tls_ca: \"/ca.pem\"\n");
	CHECK(strstr(yaml, "data_format") == NULL);
	CHECK(strstr(yaml, "docker") == NULL);

	/* The agent's loader reads it, with the values Telegraf had. */
	struct agent_config cfg;
	char err[512];
	int rc = hg_config_load_buffer(&cfg, "converted.yaml", yaml, strlen(yaml), err, sizeof err);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_INT(cfg.interval_ns, 5000000000LL);
		CHECK_INT(cfg.global_tags.n, 1);
		CHECK_STR(cfg.global_tags.v[0], "us-east-1");
		CHECK_INT(cfg.ninputs, 2);
		CHECK_STR(cfg.inputs[0].plugin->name, "cpu");
		CHECK_INT(cfg.inputs[0].common.interval_ns, 30000000000LL);
		CHECK_STR(cfg.inputs[0].common.tags.k[0], "role");
		CHECK_INT(cfg.inputs[0].common.filter.tagpass.n, 1);
		CHECK_STR(cfg.inputs[0].common.filter.tagpass.key[0], "cpu");
		CHECK_INT(cfg.inputs[0].common.filter.tagpass.globs[0].n, 2);
		CHECK_STR(cfg.inputs[1].plugin->name, "mem");
		CHECK_INT(cfg.noutputs, 2);
		CHECK_STR(cfg.outputs[0].plugin->name, "file");
		hg_config_free(&cfg);
	} else {
		fprintf(stderr, "%s\n%s", err, yaml);
	}
	free(yaml);
	free(rep);
}

/* A clean config reports nothing. */
static void test_clean(void)
{
	char *rep;
	int dropped;
	char *yaml = convert("[[inputs.mem]]\n[[outputs.file]]\nfiles = [\"stdout\"]\n", &rep, &dropped);
	CHECK_INT(dropped, 0);
	CHECK_STR(rep, "");
	free(yaml);
	free(rep);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_sample), CHECK_CASE(test_clean), CHECK_CASE(test_renames), CHECK_CASE(test_variables),
		CHECK_CASE(test_durations), CHECK_CASE(test_warned), CHECK_CASE(test_name),
		CHECK_CASE(test_choices),
	};
	return CHECK_RUN(argc, argv, cases);
}
