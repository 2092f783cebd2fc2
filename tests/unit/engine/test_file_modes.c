/* The files the agent creates to append to (the file output's, the log
 * file) are 0640 whatever the umask; a file that already exists keeps the
 * mode its owner gave it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "config.h"
#include "log.h"
#include "plugin.h"

static void done(void *arg, const struct write_result *r)
{
	*(int *)arg = r->status;
}

static int mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void file_output(const char *path, int writes)
{
	char yaml[512], err[256];
	snprintf(yaml, sizeof yaml, "outputs:\n  - file: {files: [\"%s\"], rotation_max_size: 10B}\n", path);
	struct agent_config cfg;
	CHECK_INT(hg_config_load_buffer(&cfg, "file.yaml", yaml, strlen(yaml), err, sizeof err), 0);
	const struct output_plugin *p = cfg.outputs[0].plugin;
	void *state = NULL;
	struct plugin_env env = { 0 };
	CHECK_INT(p->init(&state, cfg.outputs[0].config, &env, err, sizeof err), 0);
	for (int i = 0; i < writes; i++) { /* a second write rotates: the new file too */
		struct batch b = { .data = "m v=1i 1\n", .len = 9, .nmetrics = 1 };
		int status = -1;
		p->write(state, &b, done, &status);
		CHECK_INT(status, WRITE_OK);
	}
	p->free(state);
	hg_config_free(&cfg);
}

static void test_modes(void)
{
	char dir[] = "/tmp/hg-modes.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char out[256], rotated[300], logf[256], kept[256];
	snprintf(out, sizeof out, "%s/out.lp", dir);
	snprintf(rotated, sizeof rotated, "%s.1", out);
	snprintf(logf, sizeof logf, "%s/agent.log", dir);
	snprintf(kept, sizeof kept, "%s/kept.lp", dir);

	umask(000);
	file_output(out, 2);
	CHECK_INT(mode_of(out), 0640);
	CHECK_INT(mode_of(rotated), 0640);

	CHECK_INT(hg_log_open(logf, false, false), 0);
	log_info("test", "hello");
	hg_log_close();
	CHECK_INT(mode_of(logf), 0640);

	/* An existing file is the owner's: its mode is left alone. */
	umask(077);
	FILE *f = fopen(kept, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(chmod(kept, 0604) == 0);
	file_output(kept, 1);
	CHECK_INT(mode_of(kept), 0604);

	unlink(out), unlink(rotated), unlink(logf), unlink(kept);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_modes),
	};
	return CHECK_RUN(argc, argv, cases);
}
