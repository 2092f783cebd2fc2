/* Test helper: runs tests/servers/kube_api_server.py (HTTPS, TLS material
 * generated into dir/tls) and writes kubeconfigs for it; control requests are
 * blocking curl calls made between uv_run calls. */
#ifndef HG_KUBE_SERVER_H
#define HG_KUBE_SERVER_H
#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct kube_server {
	pid_t pid;
	int port;
	char dir[256];  /* temp dir: tls/, kubeconfigs */
	char url[64];
};

static inline int ks_start(struct kube_server *ks, const char *token, const char *readonly_token)
{
	const char *fix = getenv("FIXTURES");
	char script[1024], disc[1024];
	snprintf(script, sizeof(script), "%s/../servers/kube_api_server.py", fix ? fix : "fixtures");
	snprintf(disc, sizeof(disc), "%s/k8s-api/discovery", fix ? fix : "fixtures");
	snprintf(ks->dir, sizeof(ks->dir), "/tmp/hg-kube-test.XXXXXX");
	if (!mkdtemp(ks->dir))
		return -1;
	char tls[300];
	snprintf(tls, sizeof(tls), "%s/tls", ks->dir);
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	/* Bookmarks every 0.5 s keep tests short; bench/ asks for a real server's pace. */
	const char *bm = getenv("HG_KUBE_BOOKMARK_INTERVAL");
	char *argv[] = { "python3", script, "--tls-dir", tls, "--discovery", disc, "--token", (char *)token,
			 "--readonly-token", (char *)readonly_token, "--controller-delay", "0.3",
			 "--bookmark-interval", (char *)(bm && *bm ? bm : "0.5"), NULL };
	int rc = posix_spawnp(&ks->pid, "python3", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return -1;
	}
	FILE *f = fdopen(fds[0], "r");
	char line[64] = "";
	if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "PORT %d", &ks->port) != 1) {
		if (f)
			fclose(f);
		kill(ks->pid, SIGTERM);
		waitpid(ks->pid, NULL, 0);
		return -1;
	}
	fclose(f);
	snprintf(ks->url, sizeof(ks->url), "https://127.0.0.1:%d", ks->port);
	return 0;
}

/* Writes dir/name: a kubeconfig for the server; user_yaml is the body of
 * users[0].user (indented 4 spaces per line by the caller). Returns the path (static). */
static inline const char *ks_kubeconfig(const struct kube_server *ks, const char *name, const char *user_yaml)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", ks->dir, name);
	FILE *f = fopen(path, "w");
	fprintf(f,
		"apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		"clusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority: %s/tls/ca.crt\n"
		"contexts:\n- name: t\n  context: {cluster: c, user: tester, namespace: kt}\n"
		"users:\n- name: tester\n  user:\n%s\n",
		ks->url, ks->dir, user_yaml);
	fclose(f);
	return path;
}

/* POST to a /_control/ endpoint. */
static inline long ks_control(const struct kube_server *ks, const char *path, const char *body)
{
	char url[256], ca[320];
	snprintf(url, sizeof(url), "%s%s", ks->url, path);
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", ks->dir);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	FILE *devnull = fopen("/dev/null", "w");
	curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
	long status = 0;
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	fclose(devnull);
	return status;
}

struct ks_body {
	char *p;
	size_t n;
};

static inline size_t ks_body_add(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ks_body *b = arg;
	size_t n = size * nmemb;
	char *nb = realloc(b->p, b->n + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->n, p, n);
	b->n += n;
	nb[b->n] = '\0';
	b->p = nb;
	return n;
}

/* GET path (with "Authorization: Bearer token" unless token is NULL): the
 * body, malloc'd, or NULL when the request failed or was not a 200. */
static inline char *ks_get(const struct kube_server *ks, const char *path, const char *token)
{
	char url[1024], ca[320], auth[256];
	snprintf(url, sizeof(url), "%s%s", ks->url, path);
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", ks->dir);
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(NULL, auth);
	}
	struct ks_body b = { NULL, 0 };
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ks_body_add);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	long status = 0;
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	if (status != 200) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static inline void ks_stop(struct kube_server *ks)
{
	if (ks_control(ks, "/_control/quit", "") != 200)
		kill(ks->pid, SIGTERM);
	waitpid(ks->pid, NULL, 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ks->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", ks->dir);
}

#endif
