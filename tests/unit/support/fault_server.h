/* Test helper: runs tests/servers/http_fault_server.py as a child process
 * and talks to its control endpoints with blocking curl calls (between uv_run
 * calls, so the code under test is never involved in the plumbing). */
#ifndef HG_FAULT_SERVER_H
#define HG_FAULT_SERVER_H
#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

extern char **environ;

struct fault_server {
	pid_t pid;
	int port;
	char base[64]; /* "http://127.0.0.1:PORT" */
};

struct fs_buf {
	char *p;
	size_t n;
};

static inline size_t fs_collect(char *p, size_t s, size_t n, void *u)
{
	struct fs_buf *b = u;
	char *np = realloc(b->p, b->n + s * n + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, p, s * n);
	b->p = np;
	b->n += s * n;
	b->p[b->n] = '\0';
	return s * n;
}

static inline int fs_start(struct fault_server *fs)
{
	char script[4096] = "";
	/* Where the server is depends on how the test was built and run: try the
	 * override, then next to this header, then from the usual working dirs. */
	char cand[4][4096];
	size_t nc = 0;
	const char *env = getenv("HG_FAULT_SERVER"), *fix = getenv("FIXTURES");
	if (env)
		snprintf(cand[nc++], sizeof(cand[0]), "%.1024s", env);
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		snprintf(cand[nc++], sizeof(cand[0]), "%s/../servers/http_fault_server.py", dir);
	}
	if (fix)
		snprintf(cand[nc++], sizeof(cand[0]), "%.1024s/../servers/http_fault_server.py", fix);
	snprintf(cand[nc++], sizeof(cand[0]), "servers/http_fault_server.py");
	for (size_t i = 0; i < nc && !script[0]; i++)
		if (access(cand[i], R_OK) == 0)
			memcpy(script, cand[i], sizeof(script));
	if (!script[0])
		return -1;
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	char *argv[] = { "python3", script, NULL };
	int rc = posix_spawnp(&fs->pid, "python3", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return -1;
	}
	FILE *f = fdopen(fds[0], "r");
	char line[64] = "";
	if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "PORT %d", &fs->port) != 1) {
		if (f)
			fclose(f);
		kill(fs->pid, SIGTERM);
		waitpid(fs->pid, NULL, 0);
		return -1;
	}
	fclose(f);
	snprintf(fs->base, sizeof(fs->base), "http://127.0.0.1:%d", fs->port);
	return 0;
}

/* Blocking control request; returns the HTTP status, the body in *out (malloc'd) when out != NULL. */
static inline long fs_ctl(const struct fault_server *fs, const char *path, const char *body, char **out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", fs->base, path);
	CURL *e = curl_easy_init();
	struct fs_buf b = { 0 };
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fs_collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	long status = 0;
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (out)
		*out = b.p ? b.p : strdup("");
	else
		free(b.p);
	return status;
}

static inline void fs_script(const struct fault_server *fs, const char *json)
{
	if (fs_ctl(fs, "/_ctl/script", json, NULL) != 200)
		fprintf(stderr, "fault server rejected script %s\n", json);
}

static inline void fs_reset(const struct fault_server *fs)
{
	fs_ctl(fs, "/_ctl/reset", "", NULL);
}

/* The recorded requests as a yajl array (free with yajl_tree_free), or NULL. */
static inline yajl_val fs_requests(const struct fault_server *fs)
{
	char *body = NULL;
	fs_ctl(fs, "/_ctl/requests", NULL, &body);
	char err[128];
	yajl_val v = yajl_tree_parse(body, err, sizeof(err));
	free(body);
	return YAJL_IS_ARRAY(v) ? v : (yajl_tree_free(v), NULL);
}

static inline size_t fs_count(yajl_val reqs)
{
	return reqs ? YAJL_GET_ARRAY(reqs)->len : 0;
}

static inline yajl_val fs_at(yajl_val reqs, size_t i)
{
	return reqs && i < YAJL_GET_ARRAY(reqs)->len ? YAJL_GET_ARRAY(reqs)->values[i] : NULL;
}

/* A string member of request r: "method", "path", "query", "body". */
static inline const char *fs_get(yajl_val r, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = r ? yajl_tree_get(r, path, yajl_t_string) : NULL;
	return v ? YAJL_GET_STRING(v) : NULL;
}

static inline const char *fs_header(yajl_val r, const char *lower_name)
{
	const char *path[] = { "headers", lower_name, NULL };
	yajl_val v = r ? yajl_tree_get(r, path, yajl_t_string) : NULL;
	return v ? YAJL_GET_STRING(v) : NULL;
}

/* First value of query parameter name. */
static inline const char *fs_param(yajl_val r, const char *name)
{
	const char *path[] = { "params", name, NULL };
	yajl_val v = r ? yajl_tree_get(r, path, yajl_t_array) : NULL;
	if (!v || YAJL_GET_ARRAY(v)->len == 0)
		return NULL;
	return YAJL_GET_STRING(YAJL_GET_ARRAY(v)->values[0]);
}

static inline void fs_stop(struct fault_server *fs)
{
	if (fs_ctl(fs, "/_ctl/quit", "", NULL) != 200)
		kill(fs->pid, SIGTERM);
	waitpid(fs->pid, NULL, 0);
}

#endif
