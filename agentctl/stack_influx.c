/* InfluxDB convergence through the API server's service proxy: the image's
 * init variables act only on the first start with an empty volume, so every
 * install-stack makes the database, its retention policy and the users with
 * their grants what the flags and Secrets say.
 *
 * InfluxDB 1.x reads credentials from the Authorization header or the u/p
 * URL parameters only; the API server consumes the Authorization header, so
 * u/p it is. They travel inside the TLS connection to the API server, but an
 * API server audit policy at Request level records URLs: rotate the Secrets
 * if your audit logs are read by people who must not know them. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "jsonq.h"
#include "stack.h"

#define INFLUX_EAUTH (-20)       /* InfluxDB refused the credentials */
#define INFLUX_ENOADMIN (-21)    /* no admin user yet: only creating one is allowed */
#define INFLUX_ESTATEMENT (-22)  /* a statement failed */

struct influx {
	struct stack *s;
	char *admin_user, *admin_pw;
	int *changed;
};

/* Runs one query; *out (optional) gets the parsed answer. */
static int query(struct influx *ix, const char *user, const char *pw, const char *q, yajl_val *out, char *err,
		 size_t errlen)
{
	struct stack *s = ix->s;
	char path[1024];
	int n = snprintf(path, sizeof path, "/api/v1/namespaces/%s/services/%s:%s/proxy/query", stack_namespace(s),
			 STACK_INFLUX_SERVICE, STACK_INFLUX_PORT);
	if (user) {
		char *eu = curl_easy_escape(NULL, user, 0), *ep = curl_easy_escape(NULL, pw, 0);
		snprintf(path + n, sizeof path - (size_t)n, "?u=%s&p=%s", eu ? eu : "", ep ? ep : "");
		curl_free(eu);
		if (ep) {
			memset(ep, 0, strlen(ep));
			curl_free(ep);
		}
	}
	char *eq = curl_easy_escape(NULL, q, 0);
	size_t bl = (eq ? strlen(eq) : 0) + 3;
	char *body = malloc(bl);
	if (!body || !eq) {
		free(body);
		curl_free(eq);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(body, bl, "q=%s", eq);
	memset(eq, 0, strlen(eq));
	curl_free(eq);
	/* The path holds a password: messages name the request by what only. */
	struct kube_request rq = {.method = "POST", .path = path, .what = "InfluxDB query through the service proxy",
				  .content_type = "application/x-www-form-urlencoded", .body = body, .body_len = bl - 1};
	char *resp = NULL;
	int rc = kube_call(s->client, &rq, &resp, err, errlen);
	memset(path, 0, sizeof path);
	memset(body, 0, bl);
	free(body);
	char perr[64];
	yajl_val v = resp && resp[0] == '{' ? yajl_tree_parse(resp, perr, sizeof perr) : NULL;
	free(resp);
	const char *ierr = jq_str(v, "error", JQ_END);
	if (rc != 0 && ierr && !jq_str(v, "kind", JQ_END)) {
		/* InfluxDB's own answer, passed through by the proxy. */
		rc = strstr(ierr, "create admin user first") ? INFLUX_ENOADMIN
		     : strstr(ierr, "authorization failed") || strstr(ierr, "authentication") ? INFLUX_EAUTH
											  : INFLUX_ESTATEMENT;
		snprintf(err, errlen, "InfluxDB: %s", ierr);
	}
	yajl_val results = jq_at(v, "results", JQ_END);
	for (size_t i = 0; rc == 0 && i < jq_len(results); i++) {
		const char *e = jq_str(jq_item(results, i), "error", JQ_END);
		if (e) {
			snprintf(err, errlen, "InfluxDB: %s (statement %zu of the query)", e, i + 1);
			rc = INFLUX_ESTATEMENT;
		}
	}
	if (rc == 0 && out)
		*out = v;
	else
		yajl_tree_free(v);
	return rc;
}

static int admin_query(struct influx *ix, const char *q, yajl_val *out, char *err, size_t errlen)
{
	return query(ix, ix->admin_user, ix->admin_pw, q, out, err, errlen);
}

/* The rows of the first series of the first result. */
static yajl_val rows(yajl_val v)
{
	yajl_val r = jq_item(jq_at(v, "results", JQ_END), 0);
	return jq_at(jq_item(jq_at(r, "series", JQ_END), 0), "values", JQ_END);
}

static const char *cell(yajl_val row, size_t i)
{
	yajl_val c = jq_item(row, i);
	return YAJL_IS_STRING(c) ? YAJL_GET_STRING(c) : NULL;
}

/* InfluxQL string literal / identifier contents with quotes escaped. */
static void quote(char *out, size_t len, const char *in, char q)
{
	size_t o = 0;
	for (; *in && o + 3 < len; in++) {
		if (*in == q || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* Seconds of "30d", "4w2d" or Go's "720h0m0s"; 0 for INF. */
static int64_t duration_s(const char *v)
{
	if (!v || strcmp(v, "INF") == 0)
		return 0;
	int64_t total = 0, n = 0;
	for (const char *p = v; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p - '0');
			continue;
		}
		int64_t unit = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : *p == 'd' ? 86400 : *p == 'w' ? 604800 : -1;
		if (unit < 0)
			return -1;
		total += n * unit;
		n = 0;
	}
	return total;
}

static void report(struct influx *ix, const char *label, const char *state)
{
	if (strcmp(state, "unchanged") != 0)
		(*ix->changed)++;
	stack_line(ix->s, label, state);
}

/* Waits for the proxy to reach InfluxDB (endpoints appear when the pod is
 * ready), then makes sure the admin user exists and is ours. */
static int connect_admin(struct influx *ix, int64_t timeout_ms, char *err, size_t errlen)
{
	time_t deadline = time(NULL) + (time_t)(timeout_ms / 1000) + 1;
	int rc;
	for (;;) {
		rc = admin_query(ix, "SHOW USERS", NULL, err, errlen);
		if (rc == 0 || rc <= INFLUX_EAUTH || rc == KUBE_EAUTH || stack_interrupted || time(NULL) >= deadline)
			break;
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
	}
	char label[128], q[512], pw[256];
	snprintf(label, sizeof label, "influxdb user %s (admin)", ix->admin_user);
	if (rc == INFLUX_ENOADMIN) {
		char u[128];
		quote(u, sizeof u, ix->admin_user, '"');
		quote(pw, sizeof pw, ix->admin_pw, '\'');
		snprintf(q, sizeof q, "CREATE USER \"%s\" WITH PASSWORD '%s' WITH ALL PRIVILEGES", u, pw);
		rc = query(ix, NULL, NULL, q, NULL, err, errlen);
		memset(q, 0, sizeof q);
		memset(pw, 0, sizeof pw);
		if (rc == 0)
			report(ix, label, "created");
		return rc;
	}
	if (rc == INFLUX_EAUTH) {
		/* Node storage's files outlive its PersistentVolumes (hostPath data
		 * is the node's): --delete-data alone brings the same files back. */
		const char *node = render_param_value(&ix->s->rp, RP_STORAGE_NODE);
		const char *ns = stack_namespace(ix->s);
		char files[1024] = "";
		if (node)
			snprintf(files, sizeof files,
				 "; with node storage the files under %s/%s/ on node %.253s stay after that (Kubernetes "
				 "does not delete a hostPath volume's data): remove them in between, e.g. kubectl debug "
				 "node/%.253s -it --image=busybox -- rm -rf /host%s/%s",
				 STACK_NODE_DATA_DIR, ns, node, node, STACK_NODE_DATA_DIR, ns);
		snprintf(err, errlen,
			 "InfluxDB does not accept the admin password of Secret %s: its data volume was set up with "
			 "other passwords (an earlier install whose Secrets were deleted?). Put the old password back "
			 "into the Secret, or start with empty data: agentctl uninstall-stack --delete-data, then "
			 "install-stack again%s",
			 stack_secrets[STACK_SECRET_INFLUX_ADMIN].name, files);
		return rc;
	}
	if (rc == 0)
		report(ix, label, "unchanged");
	return rc;
}

static int converge_database(struct influx *ix, char *err, size_t errlen)
{
	yajl_val v = NULL;
	int rc = admin_query(ix, "SHOW DATABASES", &v, err, errlen);
	if (rc != 0)
		return rc;
	bool have = false;
	for (size_t i = 0; i < jq_len(rows(v)); i++) {
		const char *n = cell(jq_item(rows(v), i), 0);
		have |= n && strcmp(n, STACK_DATABASE) == 0;
	}
	yajl_tree_free(v);
	if (!have && (rc = admin_query(ix, "CREATE DATABASE \"" STACK_DATABASE "\"", NULL, err, errlen)) != 0)
		return rc;
	report(ix, "influxdb database " STACK_DATABASE, have ? "unchanged" : "created");
	return 0;
}

static int converge_retention(struct influx *ix, char *err, size_t errlen)
{
	const char *ret = render_param_value(&ix->s->rp, RP_RETENTION);
	const char *shard = render_param_value(&ix->s->rp, RP_RETENTION_SHARD);
	yajl_val v = NULL;
	int rc = admin_query(ix, "SHOW RETENTION POLICIES ON \"" STACK_DATABASE "\"", &v, err, errlen);
	if (rc != 0)
		return rc;
	bool same = false;
	for (size_t i = 0; i < jq_len(rows(v)); i++) {
		yajl_val row = jq_item(rows(v), i);
		const char *name = cell(row, 0);
		if (!name || strcmp(name, "autogen") != 0)
			continue;
		same = duration_s(cell(row, 1)) == duration_s(ret) && duration_s(cell(row, 2)) == duration_s(shard) &&
		       YAJL_IS_TRUE(jq_item(row, 4));
	}
	yajl_tree_free(v);
	char label[128], q[256];
	snprintf(label, sizeof label, "influxdb retention policy autogen (%s)", ret);
	if (!same) {
		snprintf(q, sizeof q, "ALTER RETENTION POLICY \"autogen\" ON \"" STACK_DATABASE "\" DURATION %s SHARD "
				      "DURATION %s DEFAULT",
			 ret, shard);
		if ((rc = admin_query(ix, q, NULL, err, errlen)) != 0)
			return rc;
	}
	report(ix, label, same ? "unchanged" : "configured");
	return 0;
}

/* One user with exactly one privilege ("WRITE"/"READ") on the database. */
static int converge_user(struct influx *ix, const struct stack_secret *sec, const char *priv, char *err,
			 size_t errlen)
{
	char *user = NULL, *pw = NULL;
	int rc = stack_secret_read(ix->s, sec->name, &user, &pw, err, errlen);
	if (rc != 0)
		return rc;
	char u[128], p[256], q[640], label[160];
	quote(u, sizeof u, user, '"');
	quote(p, sizeof p, pw, '\'');
	snprintf(label, sizeof label, "influxdb user %s (%s-only on " STACK_DATABASE ")", user,
		 strcmp(priv, "WRITE") == 0 ? "write" : "read");
	const char *state = "unchanged";
	yajl_val v = NULL;
	bool exists = false, admin = false;
	if ((rc = admin_query(ix, "SHOW USERS", &v, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < jq_len(rows(v)); i++) {
		yajl_val row = jq_item(rows(v), i);
		if (cell(row, 0) && strcmp(cell(row, 0), user) == 0) {
			exists = true;
			admin = YAJL_IS_TRUE(jq_item(row, 1));
		}
	}
	yajl_tree_free(v);
	v = NULL;
	if (!exists) {
		snprintf(q, sizeof q, "CREATE USER \"%s\" WITH PASSWORD '%s'", u, p);
		if ((rc = admin_query(ix, q, NULL, err, errlen)) != 0)
			goto out;
		state = "created";
	} else {
		/* The password of the Secret still works? (Secrets recreated by hand.) */
		char e2[256];
		rc = query(ix, user, pw, "SHOW DATABASES", NULL, e2, sizeof e2);
		if (rc == INFLUX_EAUTH) {
			snprintf(q, sizeof q, "SET PASSWORD FOR \"%s\" = '%s'", u, p);
			if ((rc = admin_query(ix, q, NULL, err, errlen)) != 0)
				goto out;
			state = "configured (password set from the Secret)";
		} else if (rc != 0) {
			snprintf(err, errlen, "%s", e2);
			goto out;
		}
	}
	if (admin) {
		snprintf(q, sizeof q, "REVOKE ALL PRIVILEGES FROM \"%s\"", u);
		if ((rc = admin_query(ix, q, NULL, err, errlen)) != 0)
			goto out;
		state = "configured";
	}
	snprintf(q, sizeof q, "SHOW GRANTS FOR \"%s\"", u);
	if ((rc = admin_query(ix, q, &v, err, errlen)) != 0)
		goto out;
	bool right = false;
	for (size_t i = 0; i < jq_len(rows(v)) && rc == 0; i++) {
		const char *db = cell(jq_item(rows(v), i), 0), *pr = cell(jq_item(rows(v), i), 1);
		if (!db || !pr)
			continue;
		if (strcmp(db, STACK_DATABASE) == 0)
			right = strcmp(pr, priv) == 0;
		else if (strcmp(pr, "NO PRIVILEGES") != 0) {
			char d[128];
			quote(d, sizeof d, db, '"');
			snprintf(q, sizeof q, "REVOKE ALL ON \"%s\" FROM \"%s\"", d, u);
			rc = admin_query(ix, q, NULL, err, errlen);
			state = strcmp(state, "unchanged") == 0 ? "configured" : state;
		}
	}
	if (rc == 0 && !right) {
		snprintf(q, sizeof q, "GRANT %s ON \"" STACK_DATABASE "\" TO \"%s\"", priv, u);
		rc = admin_query(ix, q, NULL, err, errlen);
		state = strcmp(state, "unchanged") == 0 ? "configured" : state;
	}
	if (rc == 0)
		report(ix, label, state);
out:
	yajl_tree_free(v);
	memset(q, 0, sizeof q);
	memset(p, 0, sizeof p);
	if (pw)
		memset(pw, 0, strlen(pw));
	free(user);
	free(pw);
	return rc;
}

int stack_converge_influxdb(struct stack *s, int64_t timeout_ms, int *changed, char *err, size_t errlen)
{
	struct influx ix = {.s = s, .changed = changed};
	int rc = stack_secret_read(s, stack_secrets[STACK_SECRET_INFLUX_ADMIN].name, &ix.admin_user, &ix.admin_pw, err,
				   errlen);
	if (rc == 0)
		rc = connect_admin(&ix, timeout_ms, err, errlen);
	if (rc == 0)
		rc = converge_database(&ix, err, errlen);
	if (rc == 0)
		rc = converge_retention(&ix, err, errlen);
	if (rc == 0)
		rc = converge_user(&ix, &stack_secrets[STACK_SECRET_INFLUX_AGENT], "WRITE", err, errlen);
	if (rc == 0)
		rc = converge_user(&ix, &stack_secrets[STACK_SECRET_INFLUX_GRAFANA], "READ", err, errlen);
	if (ix.admin_pw)
		memset(ix.admin_pw, 0, strlen(ix.admin_pw));
	free(ix.admin_user);
	free(ix.admin_pw);
	return rc;
}
