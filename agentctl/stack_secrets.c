/* The Secrets of the stack: created once with random passwords and never
 * overwritten, since InfluxDB and Grafana keep the first passwords in their
 * volumes. Created with POST (fails if present) rather than apply, so a
 * re-run or a race can never replace a password. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "jsonq.h"
#include "kube_util.h"
#include "stack.h"

#define PASSWORD_LEN 32

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return 0;
	/* Kernels before 3.17 lack getrandom. */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0 && !(r < 0 && errno == EINTR)) {
			close(fd);
			return -1;
		}
		if (r > 0)
			got += (size_t)r;
	}
	close(fd);
	return 0;
}

/* Letters and digits only: no quoting issues in InfluxQL, URLs or shells.
 * 32 of 62 symbols is about 190 bits. Bytes >= 248 are dropped so that
 * every symbol is equally likely. */
static int make_password(char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;
	while (n < PASSWORD_LEN) {
		unsigned char b[64];
		if (random_bytes(b, sizeof b) != 0)
			return -1;
		for (size_t i = 0; i < sizeof b && n < PASSWORD_LEN; i++)
			if (b[i] < 248)
				out[n++] = alphabet[b[i] % 62];
		memset(b, 0, sizeof b);
	}
	out[n] = '\0';
	return 0;
}

static void b64(const char *in, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
}

static int create_secret(struct stack *s, const struct stack_secret *sec, char *err, size_t errlen)
{
	char pw[PASSWORD_LEN + 1], pw64[64], user64[64], path[512], what[256], body[1024];
	if (make_password(pw) != 0) {
		snprintf(err, errlen, "no random numbers from the kernel (getrandom, /dev/urandom)");
		return -1;
	}
	b64(pw, pw64);
	b64(sec->username, user64);
	memset(pw, 0, sizeof pw);
	int rc = hg_kube_resource_path(s->client, "v1", "Secret", hg_stack_namespace(s), NULL, path, sizeof path, NULL, err,
				    errlen);
	if (rc != 0)
		return rc;
	snprintf(path + strlen(path), sizeof path - strlen(path), "?fieldManager=agentctl");
	int n = snprintf(body, sizeof body,
			 "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
			 "\"labels\":{\"app.kubernetes.io/part-of\":\"heliograph\"},\"annotations\":{"
			 "\"heliograph.io/purpose\":\"%s\"}},\"type\":\"Opaque\",\"data\":{\"username\":\"%s\","
			 "\"password\":\"%s\"}}",
			 sec->name, hg_stack_namespace(s), sec->purpose, user64, pw64);
	memset(pw64, 0, sizeof pw64);
	snprintf(what, sizeof what, "create Secret %s in namespace %s", sec->name, hg_stack_namespace(s));
	struct kube_request rq = {.method = "POST", .path = path, .what = what, .content_type = "application/json",
				  .body = body, .body_len = (size_t)n};
	rc = hg_kube_call(s->client, &rq, NULL, err, errlen);
	memset(body, 0, sizeof body);
	return rc;
}

int hg_stack_ensure_secrets(struct stack *s, int *changed, char *err, size_t errlen)
{
	for (size_t i = 0; i < hg_stack_secrets_count; i++) {
		const struct stack_secret *sec = &hg_stack_secrets[i];
		char label[160];
		snprintf(label, sizeof label, "secret/%s", sec->name);
		int rc = hg_kube_get(s->client, "v1", "Secret", hg_stack_namespace(s), sec->name, NULL, err, errlen);
		if (rc == 0) {
			hg_stack_line(s, label, "unchanged (kept: passwords are never replaced)");
			continue;
		}
		if (rc != KUBE_ENOTFOUND)
			return rc;
		if (s->dry_run) {
			hg_stack_line(s, label, "created (random password)");
			(*changed)++;
			continue;
		}
		rc = create_secret(s, sec, err, errlen);
		if (rc == KUBE_ECONFLICT) { /* created meanwhile by someone else: keep theirs */
			hg_stack_line(s, label, "unchanged (kept: passwords are never replaced)");
			continue;
		}
		if (rc != 0)
			return rc;
		hg_stack_line(s, label, "created (random password)");
		(*changed)++;
	}
	return 0;
}

static char *decode_field(yajl_val v, const char *key)
{
	const char *b = hg_jq_str(v, "data", key, JQ_END);
	unsigned char *out = NULL;
	size_t n = 0;
	if (!b || hg_kube_b64_decode(b, &out, &n) != 0)
		return NULL;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, out, n);
		s[n] = '\0';
	}
	memset(out, 0, n);
	free(out);
	return s;
}

int hg_stack_secret_read(struct stack *s, const char *name, char **user, char **password, char *err, size_t errlen)
{
	char *body = NULL;
	*user = *password = NULL;
	int rc = hg_kube_get(s->client, "v1", "Secret", hg_stack_namespace(s), name, &body, err, errlen);
	if (rc != 0)
		return rc;
	yajl_val v = hg_jq_parse(body, err, errlen);
	size_t bl = strlen(body);
	memset(body, 0, bl);
	free(body);
	if (!v)
		return -1;
	*user = decode_field(v, "username");
	*password = decode_field(v, "password");
	yajl_tree_free(v);
	if (!*user || !*password || !**user || !**password) {
		snprintf(err, errlen,
			 "Secret %s in namespace %s lacks the keys username and password (base64). Delete it to "
			 "have install-stack create it again, or fix it by hand",
			 name, hg_stack_namespace(s));
		free(*user);
		free(*password);
		*user = *password = NULL;
		return -1;
	}
	return 0;
}
