/* convert-telegraf: options matched by name through the option tables, sub
 * tables (tags, tagpass), renamed and implied settings, $VAR, and every
 * setting left out reported with its line. The YAML is loaded back with the
 * agent's loader and the loaded values are checked. */
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

static char *convert(const char *text, char **rep, int *dropped)
{
	struct toml_doc d;
	char err[256];
	if (toml_parse(&d, "t.conf", text, strlen(text), err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		check_failures++;
		return NULL;
	}
	char *y = NULL, *r = NULL;
	size_t yl = 0, rl = 0;
	FILE *ym = open_memstream(&y, &yl), *rm = open_memstream(&r, &rl);
	*dropped = convert_telegraf(&d, "t.conf", ym, rm, err, sizeof err);
	fclose(ym);
	fclose(rm);
	toml_free(&d);
	*rep = r;
	return y;
}

static void has(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle)) {
		fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, hay ? hay : "(null)");
		check_failures++;
	}
}

int main(void)
{
	char *rep;
	int dropped;
	char *yaml = convert(conf, &rep, &dropped);
	CHECK(yaml != NULL);
	if (!yaml)
		CHECK_DONE();
	/* What was left out: each with its line, and nothing else. */
	has(rep, "t.conf:6: agent: option \"logtarget\" is not supported by Heliograph; left out\n");
	has(rep, "t.conf:10: inputs.cpu: option \"fancy\" is not supported by Heliograph; left out\n");
	has(rep, "t.conf:15: [[inputs.docker]]: Heliograph has no input plugin \"docker\"; left out\n");
	has(rep, "t.conf:18: [[processors.rename]]: Heliograph has no processors; left out\n");
	has(rep, "t.conf:25: outputs.influxdb.timeout: a boolean where Heliograph expects a duration; left out\n");
	CHECK_INT(dropped, 5);
	/* What was carried. */
	has(yaml, "  hostname: \"${HOSTNAME}-x\"\n");
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
	int rc = config_load_buffer(&cfg, "converted.yaml", yaml, strlen(yaml), err, sizeof err);
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
		config_free(&cfg);
	} else {
		fprintf(stderr, "%s\n%s", err, yaml);
	}
	free(yaml);
	free(rep);

	/* A clean config reports nothing. */
	yaml = convert("[[inputs.mem]]\n[[outputs.file]]\nfiles = [\"stdout\"]\n", &rep, &dropped);
	CHECK_INT(dropped, 0);
	CHECK_STR(rep, "");
	free(yaml);
	free(rep);
	CHECK_DONE();
}
