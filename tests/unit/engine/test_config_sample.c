/* The sample config (agent --sample-config): every plugin and option is in
 * it, and it loads, uncommented, as the config it shows. */
#include <stdio.h>
#include <unistd.h>
#include "config_check.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

/* Writes the sample config for these filters to a temporary file: its path in
 * path (a mkstemp template), its text returned (NULL on failure). */
static char *write_sample(char *path, const char *input_filter, const char *output_filter)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	hg_config_print_sample(f, input_filter, output_filter);
	fclose(f);
	return slurp(path);
}

/* Rewrites path from text, uncommenting the lines that start with prefix
 * (indentation and "# "; after the line "from", when given): the "# " goes,
 * the indentation stays. Returns how many. */
static size_t uncomment(const char *path, char *text, const char *prefix, const char *from)
{
	FILE *w = fopen(path, "w");
	size_t n = 0, plen = strlen(prefix), keep = strspn(prefix, " ");
	bool on = from == NULL;
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (on && !strncmp(line, prefix, plen)) {
			fprintf(w, "%.*s%s\n", (int)keep, line, line + plen);
			n++;
		} else {
			fprintf(w, "%s\n", line);
		}
		if (from && !strcmp(line, from))
			on = true;
		*nl = '\n';
	}
	fclose(w);
	return n;
}

/* How many of the registry's inputs (or outputs) the sample enables. */
static size_t count_enabled(const char *text, bool input)
{
	size_t n = 0;
	for (size_t i = 0;; i++) {
		const char *name = input ? (hg_input_registry[i] ? hg_input_registry[i]->name : NULL)
					 : (hg_output_registry[i] ? hg_output_registry[i]->name : NULL);
		if (!name)
			return n;
		char needle[128];
		snprintf(needle, sizeof needle, "\n  - %s:\n", name);
		n += strstr(text, needle) != NULL;
	}
}

static void test_sample(void)
{
	char path[] = "/tmp/hg-sample-XXXXXX";
	char *text = write_sample(path, NULL, NULL);
	CHECK(text != NULL);
	if (!text)
		return;
	size_t nin = 0, nout = 0;
	for (; hg_input_registry[nin]; nin++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "\n  ## %s: ", hg_input_registry[nin]->name);
		CHECK(strstr(text, needle) != NULL);
		for (const struct opt_desc *o = hg_input_registry[nin]->options; o && o->name; o++) {
			snprintf(needle, sizeof(needle), "# %s:", o->name);
			CHECK(strstr(text, needle) != NULL);
		}
	}
	while (hg_output_registry[nout])
		nout++;
	CHECK(strstr(text, "  flush_interval: 10s\n") != NULL);
	CHECK(strstr(text, "  # health_listen:\n") != NULL);
	/* As printed: Telegraf's default plugins, which need neither a cluster
	 * nor a server, are enabled; every other one is commented out. */
	CHECK(strstr(text, "\n  - cpu:\n") && strstr(text, "\n  - system:\n") && strstr(text, "\n  - influxdb:\n"));
	CHECK(strstr(text, "\n  # - kubernetes:\n") && strstr(text, "\n  # - kube_inventory:\n") &&
	      strstr(text, "\n  # - deploy_events:\n") && strstr(text, "\n  # - prometheus_remote_write:\n"));
	CHECK_INT(count_enabled(text, true), 8);
	CHECK_INT(count_enabled(text, false), 1);

	struct agent_config c;
	char err[512] = "";
	const char *files[] = { path };
	int rc = hg_config_load(&c, files, 1, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "sample: %s\n", err);
	CHECK_INT(rc, 0);
	CHECK_INT(c.ninputs, 8);
	CHECK_INT(c.noutputs, 1);
	CHECK_INT(c.interval_ns, 10 * S);
	hg_config_free(&c);

	/* Uncomment every plugin: all of them load. */
	CHECK(uncomment(path, text, "  # ", "inputs:") > 0);
	free(text);
	text = slurp(path);
	rc = hg_config_load(&c, files, 1, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "sample, every plugin: %s\n", err);
	CHECK_INT(rc, 0);
	CHECK_INT(c.ninputs, nin);
	CHECK_INT(c.noutputs, nout);
	hg_config_free(&c);

	/* Then every plugin option line: each printed default must load. */
	CHECK(uncomment(path, text, "      # ", NULL) > 0);
	rc = hg_config_load(&c, files, 1, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "uncommented sample: %s\n", err);
	CHECK_INT(rc, 0);
	CHECK_INT(c.ninputs, nin);
	hg_config_free(&c);
	free(text);
	unlink(path);

	/* Filters (--input-filter/--output-filter): only the plugins named,
	 * enabled, whether default or not. */
	char fpath[] = "/tmp/hg-sample-XXXXXX";
	text = write_sample(fpath, "mem:kubernetes", "file");
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "\n  - mem:\n") && strstr(text, "\n  - kubernetes:\n") && strstr(text, "\n  - file:\n"));
	CHECK(!strstr(text, "cpu:") && !strstr(text, "influxdb:") && !strstr(text, "kube_inventory"));
	files[0] = fpath;
	rc = hg_config_load(&c, files, 1, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "filtered sample: %s\n", err);
	CHECK_INT(rc, 0);
	CHECK_INT(c.ninputs, 2);
	CHECK_INT(c.noutputs, 1);
	hg_config_free(&c);
	free(text);
	unlink(fpath);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_sample),
	};
	return CHECK_RUN(argc, argv, cases);
}
