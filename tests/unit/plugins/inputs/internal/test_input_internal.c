/* inputs.internal through a real agent run (--once): the emitted schema is
 * the README's, and the counters describe the run exactly. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "check.h"
#include "config.h"
#include "input_check.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void on_stopped(struct agent *a, void *arg)
{
	(void)a;
	*(bool *)arg = true;
}

static void test_gather(void)
{
	char out[] = "/tmp/hg-internal.XXXXXX";
	int fd = mkstemp(out);
	CHECK(fd >= 0);
	close(fd);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
		 "agent: {omit_hostname: true}\n"
		 "inputs:\n  - internal: {}\n"
		 "outputs:\n  - file: {files: [\"%s\"], influx_uint_support: true}\n",
		 out);
	struct agent_config cfg;
	char err[512];
	CHECK_INT(hg_config_load_buffer(&cfg, "internal.yaml", yaml, strlen(yaml), err, sizeof err), 0);
	uv_loop_t *loop = uv_default_loop();
	struct agent_opts opts = { .once = true };
	struct agent *a = hg_agent_new(loop, &cfg, &opts, err, sizeof err);
	CHECK(a != NULL);
	bool stopped = false;
	hg_agent_start(a, on_stopped, &stopped);
	uv_run(loop, UV_RUN_DEFAULT);
	CHECK(stopped);
	CHECK_INT(hg_agent_exit_code(a), 0);
	hg_agent_free(a);
	hg_config_free(&cfg);
	uv_loop_close(loop);

	const char *text = slurp(out);
	CHECK(text != NULL);
	unlink(out);
	if (!text)
		return;
	/* One gather: counters as they were when internal gathered itself. */
	char line[2048];
	CHECK(lp_find(text, "internal_agent,version=" HG_VERSION, 0, line, sizeof line));
	CHECK(strstr(line, "metrics_gathered=0i") != NULL);
	CHECK(lp_find(text, "internal_gather,input=internal,version=" HG_VERSION, 0, line, sizeof line));
	CHECK(lp_find(text, "internal_write,output=file,version=" HG_VERSION, 0, line, sizeof line));
	CHECK(strstr(line, "buffer_limit=10000i") != NULL);
	CHECK(strstr(line, "metrics_written=0i") != NULL);
	CHECK(lp_find(text, "internal_process,version=" HG_VERSION, 0, line, sizeof line));
	char v[64];
	CHECK(lp_field(line, "rss_bytes", v, sizeof v) && atoll(v) > 0);

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/internal/README.md", "collect_process"), 0);
	schema_from_lp(&got, text);
	schema_sort(&got);
	CHECK_INT(schema_diff(&readme, &got), 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_gather),
	};
	return CHECK_RUN(argc, argv, cases);
}
