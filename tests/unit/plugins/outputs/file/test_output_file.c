/* outputs.file: batches land in the file as given, and size rotation keeps
 * rotation_max_archives files, newest as path.1. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "config.h"
#include "plugin.h"

static struct write_result last;
static void done(void *arg, const struct write_result *r)
{
	(void)arg;
	last = *r;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void write_text(const struct output_plugin *p, void *state, const char *text)
{
	struct batch b = { .data = (char *)text, .len = strlen(text), .nmetrics = 1 };
	last.status = WRITE_RETRY;
	p->write(state, &b, done, NULL);
	CHECK_INT(last.status, WRITE_OK);
}

static void test_rotation(void)
{
	char dir[] = "/tmp/hg-file.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256], yaml[512], p1[300], p2[300], p3[300];
	snprintf(path, sizeof path, "%s/out.lp", dir);
	snprintf(p1, sizeof p1, "%s.1", path);
	snprintf(p2, sizeof p2, "%s.2", path);
	snprintf(p3, sizeof p3, "%s.3", path);
	snprintf(yaml, sizeof yaml,
		 "outputs:\n  - file: {files: [\"%s\"], rotation_max_size: 20B, rotation_max_archives: 2}\n", path);
	struct agent_config cfg;
	char err[256];
	CHECK_INT(hg_config_load_buffer(&cfg, "file.yaml", yaml, strlen(yaml), err, sizeof err), 0);
	CHECK_INT(cfg.noutputs, 1);
	const struct output_plugin *p = cfg.outputs[0].plugin;
	void *state = NULL;
	struct plugin_env env = { 0 };
	CHECK_INT(p->init(&state, cfg.outputs[0].config, &env, err, sizeof err), 0);
	CHECK_INT(p->uint_support(state), 0);

	write_text(p, state, "m v=1i 1\n");   /* 9 bytes */
	write_text(p, state, "m v=2i 2\n");   /* 18: still under 20 */
	CHECK_INT(file_size(path), 18);
	CHECK_INT(file_size(p1), -1);
	write_text(p, state, "m v=3i 3\n");   /* would be 27: rotate first */
	CHECK_INT(file_size(path), 9);
	CHECK_INT(file_size(p1), 18);
	write_text(p, state, "m v=4i 4\n");
	write_text(p, state, "m v=5i 5\n");   /* rotate again: .1 -> .2 */
	CHECK_INT(file_size(p2), 18);
	CHECK_INT(file_size(p1), 18);
	CHECK_INT(file_size(path), 9);
	write_text(p, state, "m v=6i 6\n");
	write_text(p, state, "m v=7i 7\n");   /* third rotation: only 2 archives kept */
	CHECK_INT(file_size(p3), -1);
	FILE *f = fopen(p2, "r");
	char buf[64] = "";
	CHECK(f && fread(buf, 1, sizeof buf - 1, f) == 18);
	if (f)
		fclose(f);
	CHECK_STR(buf, "m v=3i 3\nm v=4i 4\n"); /* the oldest archive dropped */
	p->free(state);
	hg_config_free(&cfg);
	unlink(path), unlink(p1), unlink(p2);
	rmdir(dir);
}

/* A directory that cannot be written: init names the path. */
static void test_unwritable(void)
{
	const char *bad = "outputs:\n  - file: {files: [\"/proc/none/x.lp\"]}\n";
	struct agent_config cfg;
	char err[256];
	void *state;
	struct plugin_env env = { 0 };
	CHECK_INT(hg_config_load_buffer(&cfg, "bad.yaml", bad, strlen(bad), err, sizeof err), 0);
	state = NULL;
	CHECK(cfg.outputs[0].plugin->init(&state, cfg.outputs[0].config, &env, err, sizeof err) < 0);
	CHECK(strstr(err, "/proc/none/x.lp") != NULL);
	hg_config_free(&cfg);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_rotation),
		CHECK_CASE(test_unwritable),
	};
	return CHECK_RUN(argc, argv, cases);
}
