/* agentctl convert-telegraf: a Telegraf TOML config to the agent's YAML,
 * checked by loading it with the agent's own config loader. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "config.h"
#include "convert_telegraf.h"
#include "telegraf_values.h"
#include "toml.h"

static void convert_usage(FILE *out)
{
	fprintf(out,
		"Usage: agentctl convert-telegraf [options] TELEGRAF_CONF\n"
		"Converts a Telegraf configuration (TOML; - reads stdin) into a Heliograph agent\n"
		"configuration (YAML) on stdout. [agent], [global_tags], [[inputs.NAME]] and\n"
		"[[outputs.NAME]] are carried over with every option Heliograph has under the same\n"
		"name, including the tags, tagpass and tagdrop tables, and as Telegraf reads them:\n"
		"renamed options (fieldinclude, pass, ssl_ca, influxdb url ...) under their new\n"
		"name, $VAR and ${VAR} as the agent's ${VAR:-...} (an undeclared one stays literal,\n"
		"as in Telegraf), durations such as \"1d\" or \"1.5\" in the agent's form, \"\" as\n"
		"unset. Everything it cannot carry over (plugins Heliograph lacks, their options,\n"
		"processors, aggregators, secret-store references, URLs the agent cannot write to)\n"
		"is listed on stderr as FILE:LINE: reason, never silently dropped; what it carries\n"
		"with a difference as FILE:LINE: warning: .... The mapping is listed in\n"
		"docs/convert-telegraf.md. The result is checked by loading it with the agent's\n"
		"configuration loader.\n"
		"  -o, --output FILE              write the YAML to FILE instead of stdout\n"
		"      --strict                   exit 1 when anything was left out\n"
		"  -h, --help                     this help\n"
		"Exit codes: 0 converted (stderr lists what was left out), 1 the input does not\n"
		"parse, the result does not load, or --strict and something was left out, 2 usage.\n");
}

static char *read_all(const char *path, const char *name, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	bool oom = !buf;
	/* buf is non-NULL inside the loop: running out of memory leaves it. */
	while (!oom) {
		if (n == cap) {
			/* One byte past the bound tells a too-large file apart. */
			if (cap > TOML_MAX_BYTES)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				oom = true;
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
	if (oom || bad) {
		snprintf(err, errlen, "%s: %s", name, oom ? "out of memory" : "read error");
		free(buf);
		return NULL;
	}
	if (n > TOML_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u bytes", name, TOML_MAX_BYTES);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int run_convert_file(const char *path, const char *name, const char *output, int strict);

/* The agent's loader names a position in the YAML, which the user never
 * sees: the "# FILE:LINE" comment above it names the Telegraf section it
 * came from. 1 with that in buf, 0 if there is none. */
static int toml_origin(const char *yaml, size_t ylen, const char *err, char *buf, size_t len)
{
	int yline;
	const char *p = strstr(err, "converted.yaml:");
	if (!p || sscanf(p + strlen("converted.yaml:"), "%d", &yline) != 1)
		return 0;
	const char *best = NULL, *line = yaml;
	for (int n = 1; line < yaml + ylen && n <= yline; n++) {
		if (!strncmp(line, "  # ", 4))
			best = line + 4;
		const char *nl = memchr(line, '\n', (size_t)(yaml + ylen - line));
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!best)
		return 0;
	snprintf(buf, len, "%.*s", (int)strcspn(best, "\n"), best);
	return 1;
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
	/* The name goes into messages and YAML comments: control characters
	 * in it are shown escaped. */
	char *shown = hg_telegraf_shown_name(strcmp(path, "-") ? path : "stdin");
	if (!shown) {
		fprintf(stderr, "agentctl convert-telegraf: out of memory\n");
		return AGENTCTL_FAILED;
	}
	int status = run_convert_file(path, shown, output, strict);
	free(shown);
	return status;
}

static int run_convert_file(const char *path, const char *name, const char *output, int strict)
{
	char err[1024];
	size_t len = 0;
	char *text = read_all(path, name, &len, err, sizeof err);
	if (!text) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		return AGENTCTL_FAILED;
	}
	struct toml_doc doc;
	int rc = hg_toml_parse(&doc, name, text, len, err, sizeof err);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		return AGENTCTL_FAILED;
	}
	char *yaml = NULL;
	size_t ylen = 0;
	FILE *m = open_memstream(&yaml, &ylen);
	int dropped = m ? hg_convert_telegraf(&doc, name, m, stderr, err, sizeof err) : -1;
	if (!m)
		snprintf(err, sizeof err, "out of memory");
	else
		fclose(m);
	hg_toml_free(&doc);
	if (dropped < 0) {
		fprintf(stderr, "agentctl convert-telegraf: %s\n", err);
		free(yaml);
		return AGENTCTL_FAILED;
	}
	int status = AGENTCTL_OK;
	struct agent_config cfg;
	if (hg_config_load_buffer(&cfg, "converted.yaml", yaml, ylen, err, sizeof err) < 0) {
		char at[512];
		int found = toml_origin(yaml, ylen, err, at, sizeof at);
		/* With references, the loader read this environment's values,
		 * not those where the agent will run: said, not fatal. */
		int env = strstr(yaml, "${") != NULL;
		fprintf(stderr, "agentctl convert-telegraf: %s%s%s: the converted configuration does not load%s: %s\n",
			env ? "warning: " : "", found ? "in the section starting at " : "", found ? at : name,
			env ? " with this environment's variables" : "", err);
		if (!env || strict)
			status = AGENTCTL_FAILED;
	} else {
		hg_config_free(&cfg);
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

const struct agentctl_command hg_cmd_convert_telegraf = {
	.name = "convert-telegraf",
	.summary = "convert a Telegraf config (TOML) to an agent config (YAML)",
	.run = run_convert,
	.usage = convert_usage,
};
