/* agentctl convert-telegraf: a Telegraf TOML config to the agent's YAML,
 * checked by loading it with the agent's own config loader. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "config.h"
#include "convert_telegraf.h"
#include "toml.h"

static void convert_usage(FILE *out)
{
	fprintf(out,
		"Usage: agentctl convert-telegraf [options] TELEGRAF_CONF\n"
		"Converts a Telegraf configuration (TOML; - reads stdin) into a Heliograph agent\n"
		"configuration (YAML) on stdout. [agent], [global_tags], [[inputs.NAME]] and\n"
		"[[outputs.NAME]] are carried over with every option Heliograph has under the same\n"
		"name, including the tags, tagpass and tagdrop tables; Telegraf's $VAR becomes\n"
		"${VAR}. Everything it cannot carry over (plugins Heliograph lacks, their options,\n"
		"processors, aggregators) is listed on stderr as FILE:LINE: reason, never silently\n"
		"dropped. The result is checked by loading it with the agent's configuration loader.\n"
		"  -o, --output FILE              write the YAML to FILE instead of stdout\n"
		"      --strict                   exit 1 when anything was left out\n"
		"  -h, --help                     this help\n"
		"Exit codes: 0 converted (stderr lists what was left out), 1 the input does not\n"
		"parse, the result does not load, or --strict and something was left out, 2 usage.\n");
}

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			/* One byte past the bound tells a too-large file apart. */
			if (cap > TOML_MAX_BYTES)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!buf || bad) {
		snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
		free(buf);
		return NULL;
	}
	if (n > TOML_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u bytes", path, TOML_MAX_BYTES);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int run_convert(int argc, char **argv)
{
	enum { O_STRICT = 1000 };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	int strict = 0, c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			convert_usage(stdout);
			return AGENTCTL_OK;
		} else if (c == 'o') {
			output = optarg;
		} else if (c == O_STRICT) {
			strict = 1;
		} else if (c == ':') {
			fprintf(stderr, "agentctl convert-telegraf: %s needs a value; see agentctl convert-telegraf --help\n",
				argv[optind - 1]);
			return AGENTCTL_USAGE;
		} else {
			fprintf(stderr, "agentctl convert-telegraf: unknown option %.*s; see agentctl convert-telegraf --help\n",
				(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return AGENTCTL_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "agentctl convert-telegraf: give one Telegraf config file; see agentctl convert-telegraf --help\n");
		return AGENTCTL_USAGE;
	}
	const char *path = argv[optind];
	const char *name = strcmp(path, "-") ? path : "stdin";
	char err[1024];
	size_t len = 0;
	char *text = read_all(path, &len, err, sizeof err);
	if (!text) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		return AGENTCTL_FAILED;
	}
	struct toml_doc doc;
	int rc = toml_parse(&doc, name, text, len, err, sizeof err);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		return AGENTCTL_FAILED;
	}
	char *yaml = NULL;
	size_t ylen = 0;
	FILE *m = open_memstream(&yaml, &ylen);
	int dropped = m ? convert_telegraf(&doc, name, m, stderr, err, sizeof err) : -1;
	if (!m)
		snprintf(err, sizeof err, "out of memory");
	else
		fclose(m);
	toml_free(&doc);
	if (dropped < 0) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		free(yaml);
		return AGENTCTL_FAILED;
	}
	int status = AGENTCTL_OK;
	struct agent_config cfg;
	if (config_load_buffer(&cfg, "converted.yaml", yaml, ylen, err, sizeof err) < 0) {
		fprintf(stderr, "agentctl convert-telegraf: the converted configuration does not load: %s\n", err);
		status = AGENTCTL_FAILED;
	} else {
		config_free(&cfg);
	}
	FILE *out = output ? fopen(output, "w") : stdout;
	if (!out || fwrite(yaml, 1, ylen, out) != ylen || fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "agentctl convert-telegraf: %s: %s\n", output ? output : "stdout", strerror(errno));
		free(yaml);
		return AGENTCTL_FAILED;
	}
	free(yaml);
	if (dropped)
		fprintf(stderr, "agentctl convert-telegraf: %d setting%s of %s not carried over (listed above)\n", dropped,
			dropped == 1 ? "" : "s", name);
	if (strict && dropped && status == AGENTCTL_OK)
		status = AGENTCTL_FAILED;
	return status;
}

const struct agentctl_command cmd_convert_telegraf = {
	.name = "convert-telegraf",
	.summary = "convert a Telegraf config (TOML) to an agent config (YAML)",
	.run = run_convert,
	.usage = convert_usage,
};
