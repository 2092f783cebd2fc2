/* outputs.file: line protocol to stdout and/or files, with size-based
 * rotation (path -> path.1 -> path.2 ... up to rotation_max_archives). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "open_append.h"
#include "plugin.h"

struct file_config {
	struct strlist files;
	uint64_t rotation_max_size;
	int64_t rotation_max_archives;
	bool influx_uint_support;
};

static const struct opt_desc file_options[] = {
	{ "files", OPT_STRLIST, offsetof(struct file_config, files), "[\"stdout\"]",
	  "where to write: \"stdout\" and/or file paths" },
	{ "rotation_max_size", OPT_SIZE, offsetof(struct file_config, rotation_max_size), "0",
	  "rotate a file when it would grow past this size (0 = never)" },
	{ "rotation_max_archives", OPT_INT, offsetof(struct file_config, rotation_max_archives), "5",
	  "rotated files kept (path.1 ... path.N); -1 keeps all" },
	{ "influx_uint_support", OPT_BOOL, offsetof(struct file_config, influx_uint_support), "false",
	  "write unsigned integers with the 'u' suffix instead of clamped 'i'" },
	OPT_END,
};

struct sink {
	const char *path; /* NULL for stdout */
	int fd;
	uint64_t size;
};

struct file_state {
	const struct file_config *cfg;
	size_t nsinks;
	struct sink *sinks;
};

static int open_sink(struct sink *s, char *err, size_t errlen)
{
	s->fd = hg_open_append_0640(s->path);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", s->path, strerror(errno));
		return -1;
	}
	struct stat st;
	s->size = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void file_free(void *state)
{
	struct file_state *fs = state;
	if (!fs)
		return;
	for (size_t i = 0; i < fs->nsinks; i++)
		if (fs->sinks[i].path && fs->sinks[i].fd >= 0)
			close(fs->sinks[i].fd);
	free(fs->sinks);
	free(fs);
}

static int file_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct file_config *cfg = config;
	struct file_state *fs = calloc(1, sizeof *fs);
	if (!fs || !(fs->sinks = calloc(cfg->files.n ? cfg->files.n : 1, sizeof *fs->sinks))) {
		free(fs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fs->cfg = cfg;
	for (size_t i = 0; i < cfg->files.n; i++) {
		struct sink *s = &fs->sinks[fs->nsinks++];
		s->fd = -1;
		if (strcmp(cfg->files.v[i], "stdout") == 0) {
			s->fd = STDOUT_FILENO;
			continue;
		}
		s->path = cfg->files.v[i];
		if (open_sink(s, err, errlen) < 0) {
			file_free(fs);
			return -1;
		}
	}
	*state = fs;
	return 0;
}

static int file_uint_support(void *state)
{
	return ((struct file_state *)state)->cfg->influx_uint_support;
}

static int rotate(struct file_state *fs, struct sink *s, char *err, size_t errlen)
{
	char from[4096], to[4096];
	int64_t keep = fs->cfg->rotation_max_archives;
	close(s->fd);
	s->fd = -1;
	if (keep == 0) {
		unlink(s->path);
	} else {
		/* Find the end of the archive chain, drop what is beyond keep. */
		int64_t last = 1;
		for (;; last++) {
			snprintf(from, sizeof from, "%s.%lld", s->path, (long long)last);
			if (access(from, F_OK) != 0)
				break;
		}
		for (int64_t i = last - 1; i >= 1; i--) {
			snprintf(from, sizeof from, "%s.%lld", s->path, (long long)i);
			if (keep > 0 && i >= keep) {
				unlink(from);
				continue;
			}
			snprintf(to, sizeof to, "%s.%lld", s->path, (long long)(i + 1));
			rename(from, to);
		}
		snprintf(to, sizeof to, "%s.1", s->path);
		rename(s->path, to);
	}
	return open_sink(s, err, errlen);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void file_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	struct file_state *fs = state;
	struct write_result r = { .status = WRITE_OK };
	for (size_t i = 0; i < fs->nsinks; i++) {
		struct sink *s = &fs->sinks[i];
		if (s->path && fs->cfg->rotation_max_size && s->size > 0 &&
		    s->size + b->len > fs->cfg->rotation_max_size &&
		    rotate(fs, s, r.message, sizeof r.message) < 0) {
			r.status = WRITE_RETRY;
			continue;
		}
		if (s->fd < 0 && s->path && open_sink(s, r.message, sizeof r.message) < 0) {
			r.status = WRITE_RETRY;
			continue;
		}
		if (write_all(s->fd, b->data, b->len) < 0) {
			snprintf(r.message, sizeof r.message, "write to %s: %s", s->path ? s->path : "stdout",
				 strerror(errno));
			r.status = WRITE_RETRY;
			continue;
		}
		s->size += b->len;
	}
	done(arg, &r);
}

const struct output_plugin hg_output_file = {
	.name = "file",
	.summary = "Write metrics as line protocol to stdout or files",
	.config_size = sizeof(struct file_config),
	.options = file_options,
	.init = file_init,
	.uint_support = file_uint_support,
	.write = file_write,
	.free = file_free,
};
