/* agentctl render: prints the manifests install-stack applies, with the
 * parameters substituted, as one YAML stream (kubectl apply -f - reads it). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "render.h"

static void render_usage(FILE *out)
{
	fprintf(out, "Usage: agentctl render [options]\n"
		     "Prints the manifests install-stack would apply (k8s-manifests/ and the\n"
		     "grafana-dashboards ConfigMap, as built into this agentctl), with the\n"
		     "parameters substituted. Secrets are not printed: install-stack creates them.\n"
		     "  -o, --output FILE              write to FILE instead of stdout\n");
	hg_render_params_usage(out);
	fprintf(out, "  -h, --help                     this help\n");
}

struct sink {
	FILE *out;
	int files;
};

static int emit_file(void *ud, const char *name, const char *text, size_t len)
{
	struct sink *s = ud;
	FILE *out = s->out;
	(void)name;
	/* Files start with comments and hold "---" between their own documents;
	 * one more "---" between files keeps every document separate. */
	if (s->files++ && fputs("---\n", out) == EOF)
		return -1;
	if (fwrite(text, 1, len, out) != len)
		return -1;
	if (len && text[len - 1] != '\n' && fputc('\n', out) == EOF)
		return -1;
	return 0;
}

static int run_render(int argc, char **argv)
{
	/* Every parameter flag takes a value; their ids follow the table's. */
	struct option longopts[RP_COUNT + 3];
	int n = 0;
	for (int p = 0; p < RP_COUNT; p++) {
		if (!hg_render_param_flag(p))
			continue;
		longopts[n++] = (struct option){hg_render_param_flag(p), required_argument, NULL, 1000 + p};
	}
	longopts[n++] = (struct option){"output", required_argument, NULL, 'o'};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};

	struct render_params rp = {0};
	const char *output = NULL;
	char err[512];
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			render_usage(stdout);
			return AGENTCTL_OK;
		} else if (c == 'o') {
			output = optarg;
		} else if (c >= 1000 && c < 1000 + RP_COUNT) {
			if (hg_render_params_set(&rp, hg_render_param_flag(c - 1000), optarg, err, sizeof err) < 0) {
				fprintf(stderr, "agentctl render: %s\n", err);
				return AGENTCTL_USAGE;
			}
		} else if (c == ':') {
			fprintf(stderr, "agentctl render: %s needs a value; see agentctl render --help\n",
				argv[optind - 1]);
			return AGENTCTL_USAGE;
		} else {
			fprintf(stderr, "agentctl render: unknown option %.*s; see agentctl render --help\n",
				(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return AGENTCTL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentctl render: unexpected argument '%s'; see agentctl render --help\n",
			argv[optind]);
		return AGENTCTL_USAGE;
	}
	FILE *out = stdout;
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "agentctl render: %s: %s\n", output, strerror(errno));
		return AGENTCTL_FAILED;
	}
	struct sink sink = {out, 0};
	int rc = hg_render_all(&rp, emit_file, &sink, err, sizeof err);
	if (rc != 0 && rc != -1)
		snprintf(err, sizeof err, "%s: write failed", output ? output : "stdout");
	if (fflush(out) != 0 && rc == 0) {
		rc = -1;
		snprintf(err, sizeof err, "%s: %s", output ? output : "stdout", strerror(errno));
	}
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		rc = -1;
		snprintf(err, sizeof err, "%s: %s", output, strerror(errno));
	}
	if (rc != 0) {
		fprintf(stderr, "agentctl render: %s\n", err);
		return AGENTCTL_FAILED;
	}
	return AGENTCTL_OK;
}

const struct agentctl_command hg_cmd_render = {
	.name = "render",
	.summary = "print the manifests install-stack would apply",
	.run = run_render,
	.usage = render_usage,
};
