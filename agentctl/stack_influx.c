/* InfluxDB's set-up as install-stack sees it. The stack pod's init container
 * influxdb-setup (setup.sh of ConfigMap influxdb-init) makes the database,
 * its retention policy and the users with their grants what the Secrets and
 * flags say, inside the pod, before InfluxDB starts: the passwords reach it
 * from the Secrets as environment variables and never travel through the API
 * server (InfluxDB 1.x reads credentials from the URL or the Authorization
 * header only, and the API server's service proxy drops that header, so a
 * set-up from here would put them into URLs, which audit logs record).
 *
 * Here: make sure the running pod's set-up saw the current Secrets and
 * ConfigMap, restarting the pod when it did not, and print its report (the
 * container's log lines "report<TAB>what<TAB>state"). Which inputs a pod's
 * set-up saw: the annotation heliograph.io/influxdb-setup that install-stack
 * puts on the pod after reporting it, holding the uid and resourceVersion of
 * the four inputs; a pod without it started after the inputs' last change
 * (creationTimestamp against their managedFields times) saw them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "jsonq.h"
#include "setup_log.h"
#include "stack.h"

#define SETUP_CONTAINER "influxdb-setup"
#define SETUP_ANNOTATION "heliograph.io/influxdb-setup"
#define STACK_POD_SELECTOR "app.kubernetes.io/name=" STACK_DEPLOYMENT

/* The set-up's inputs: "uid/resourceVersion" of each, hashed (FNV-1a), and
 * the latest time one of them was written (RFC 3339, compares as a string). */
struct inputs {
	char hash[17];
	char mtime[32];
};

static void fnv(uint64_t *h, const char *s)
{
	for (; s && *s; s++)
		*h = (*h ^ (unsigned char)*s) * 1099511628211ULL;
	*h = (*h ^ '|') * 1099511628211ULL;
}

static void later(char *t, size_t len, const char *u)
{
	if (u && strcmp(u, t) > 0)
		snprintf(t, len, "%s", u);
}

static int read_inputs(struct stack *s, struct inputs *in, char *err, size_t errlen)
{
	const char *names[] = {"influxdb-init", hg_stack_secrets[STACK_SECRET_INFLUX_ADMIN].name,
			       hg_stack_secrets[STACK_SECRET_INFLUX_AGENT].name, hg_stack_secrets[STACK_SECRET_INFLUX_GRAFANA].name};
	uint64_t h = 14695981039346656037ULL;
	in->mtime[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *body = NULL;
		int rc = hg_kube_get(s->client, "v1", i == 0 ? "ConfigMap" : "Secret", hg_stack_namespace(s), names[i], &body, err,
				  errlen);
		if (rc != 0) {
			free(body);
			return rc;
		}
		char perr[64];
		yajl_val v = yajl_tree_parse(body, perr, sizeof perr);
		/* A Secret's body holds its values: gone as soon as read. */
		memset(body, 0, strlen(body));
		free(body);
		fnv(&h, hg_jq_str(v, "metadata", "uid", JQ_END));
		fnv(&h, hg_jq_str(v, "metadata", "resourceVersion", JQ_END));
		later(in->mtime, sizeof in->mtime, hg_jq_str(v, "metadata", "creationTimestamp", JQ_END));
		yajl_val mf = hg_jq_at(v, "metadata", "managedFields", JQ_END);
		for (size_t j = 0; j < hg_jq_len(mf); j++)
			later(in->mtime, sizeof in->mtime, hg_jq_str(hg_jq_item(mf, j), "time", JQ_END));
		yajl_tree_free(v);
	}
	snprintf(in->hash, sizeof in->hash, "%016llx", (unsigned long long)h);
	return 0;
}

/* The stack pod: the newest not being deleted; *pods holds the list. */
static yajl_val current_pod(struct stack *s, yajl_val *pods, char *err, size_t errlen, int *rc)
{
	*pods = NULL;
	*rc = hg_stack_list(s, "v1", "Pod", hg_stack_namespace(s), STACK_POD_SELECTOR, NULL, pods, err, errlen);
	yajl_val items = hg_jq_at(*pods, "items", JQ_END), best = NULL;
	for (size_t i = 0; *rc == 0 && i < hg_jq_len(items); i++) {
		yajl_val p = hg_jq_item(items, i);
		const char *t = hg_jq_str(p, "metadata", "creationTimestamp", JQ_END);
		if (hg_jq_at(p, "metadata", "deletionTimestamp", JQ_END) || !t)
			continue;
		if (!best || strcmp(t, hg_jq_str(best, "metadata", "creationTimestamp", JQ_END)) >= 0)
			best = p;
	}
	return best;
}

static yajl_val setup_status(yajl_val pod)
{
	yajl_val ics = hg_jq_at(pod, "status", "initContainerStatuses", JQ_END);
	for (size_t i = 0; i < hg_jq_len(ics); i++) {
		const char *n = hg_jq_str(hg_jq_item(ics, i), "name", JQ_END);
		if (n && strcmp(n, SETUP_CONTAINER) == 0)
			return hg_jq_item(ics, i);
	}
	return NULL;
}

static bool pod_ready(yajl_val pod)
{
	yajl_val conds = hg_jq_at(pod, "status", "conditions", JQ_END);
	for (size_t i = 0; i < hg_jq_len(conds); i++) {
		const char *t = hg_jq_str(hg_jq_item(conds, i), "type", JQ_END), *st = hg_jq_str(hg_jq_item(conds, i), "status", JQ_END);
		if (t && st && strcmp(t, "Ready") == 0)
			return strcmp(st, "True") == 0;
	}
	return false;
}

int hg_stack_setup_log(struct stack *s, const char *pod, bool previous, char **log, char *err, size_t errlen)
{
	char path[512];
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/log?container=" SETUP_CONTAINER "%s",
		 hg_stack_namespace(s), pod, previous ? "&previous=true" : "");
	struct kube_request rq = {.method = "GET", .path = path, .what = "read the log of " SETUP_CONTAINER,
				  .max_response = 1 << 20};
	*log = NULL;
	return hg_kube_call(s->client, &rq, log, err, errlen);
}

struct report_ctx {
	struct stack *s;
	int *changed;
};

static void report_line(void *ud, const char *what, const char *state)
{
	struct report_ctx *c = ud;
	if (strcmp(state, "unchanged") != 0)
		(*c->changed)++;
	hg_stack_line(c->s, what, state);
}

/* Prints the report lines of the set-up's log; -1 when there are none. */
static int report(struct stack *s, const char *pod, int *changed, char *err, size_t errlen)
{
	char *log = NULL;
	int rc = hg_stack_setup_log(s, pod, false, &log, err, errlen);
	struct report_ctx c = {s, changed};
	size_t n = rc == 0 && log ? hg_setup_log_report(log, report_line, &c) : 0;
	free(log);
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "the log of %s in pod %s holds no report (kubectl -n %s logs %s -c %s)", SETUP_CONTAINER,
			 pod, hg_stack_namespace(s), pod, SETUP_CONTAINER);
		return -1;
	}
	return rc;
}

/* What an unchanged set-up would report, from the Secrets' user names. */
static int report_unchanged(struct stack *s, char *err, size_t errlen)
{
	char *user[3] = {0}, *pw = NULL;
	const int which[3] = {STACK_SECRET_INFLUX_ADMIN, STACK_SECRET_INFLUX_AGENT, STACK_SECRET_INFLUX_GRAFANA};
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		rc = hg_stack_secret_read(s, hg_stack_secrets[which[i]].name, &user[i], &pw, err, errlen);
		if (pw)
			memset(pw, 0, strlen(pw));
		free(pw);
		pw = NULL;
	}
	if (rc == 0) {
		char label[256];
		snprintf(label, sizeof label, "influxdb user %s (admin)", user[0]);
		hg_stack_line(s, label, "unchanged");
		hg_stack_line(s, "influxdb database " STACK_DATABASE, "unchanged");
		snprintf(label, sizeof label, "influxdb retention policy autogen (%s)", hg_render_param_value(&s->rp, RP_RETENTION));
		hg_stack_line(s, label, "unchanged");
		snprintf(label, sizeof label, "influxdb user %s (write-only on " STACK_DATABASE ")", user[1]);
		hg_stack_line(s, label, "unchanged");
		snprintf(label, sizeof label, "influxdb user %s (read-only on " STACK_DATABASE ")", user[2]);
		hg_stack_line(s, label, "unchanged");
	}
	for (int i = 0; i < 3; i++)
		free(user[i]);
	return rc;
}

static int annotate(struct stack *s, const char *pod, const char *hash, char *err, size_t errlen)
{
	char path[512], body[256];
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", hg_stack_namespace(s), pod);
	int n = snprintf(body, sizeof body, "{\"metadata\":{\"annotations\":{\"" SETUP_ANNOTATION "\":\"%s\"}}}", hash);
	struct kube_request rq = {.method = "PATCH", .path = path, .what = "annotate the stack pod",
				  .content_type = "application/merge-patch+json", .body = body, .body_len = (size_t)n};
	char *out = NULL;
	int rc = hg_kube_call(s->client, &rq, &out, err, errlen);
	free(out);
	return rc;
}

int hg_stack_setup_failure(struct stack *s, yajl_val pods, char *msg, size_t len)
{
	yajl_val items = hg_jq_at(pods, "items", JQ_END);
	for (size_t i = 0; i < hg_jq_len(items); i++) {
		yajl_val p = hg_jq_item(items, i), st = setup_status(p);
		const char *name = hg_jq_str(p, "metadata", "name", JQ_END);
		int64_t now = hg_jq_int(st, 0, "state", "terminated", "exitCode", JQ_END);
		int64_t last = hg_jq_int(st, 0, "lastState", "terminated", "exitCode", JQ_END);
		/* Failed: its run ended non-zero, or it waits to retry after one that
		 * did (CrashLoopBackOff); a retry under way may still succeed. */
		const char *why = hg_jq_str(st, "state", "waiting", "reason", JQ_END);
		bool backoff = why && strcmp(why, "CrashLoopBackOff") == 0 && last != 0;
		if (!name || hg_jq_at(p, "metadata", "deletionTimestamp", JQ_END) || !(now != 0 || backoff))
			continue;
		char *log = NULL, err[256], tail[2048] = "";
		/* The failed run: the current one if it is the terminated one. */
		if (hg_stack_setup_log(s, name, now == 0, &log, err, sizeof err) == 0 && log)
			hg_setup_log_tail(log, tail, sizeof tail);
		free(log);
		const char *node = hg_render_param_value(&s->rp, RP_STORAGE_NODE), *ns = hg_stack_namespace(s);
		char files[1024] = "";
		if (node && strstr(tail, "does not accept the admin password"))
			/* Node storage's files outlive its PersistentVolumes (hostPath data is the node's). */
			snprintf(files, sizeof files,
				 "; with node storage the files under %s/%s/ on node %.253s stay after that (Kubernetes "
				 "does not delete a hostPath volume's data): remove them in between, e.g. kubectl debug "
				 "node/%.253s -it --image=busybox -- rm -rf /host%s/%s",
				 STACK_NODE_DATA_DIR, ns, node, node, STACK_NODE_DATA_DIR, ns);
		snprintf(msg, len, "InfluxDB set-up failed: init container %s of pod %s exited %lld: %s%s (kubectl -n %s logs %s "
				   "-c %s%s)", SETUP_CONTAINER, name, (long long)(now ? now : last),
			 tail[0] ? tail : "its log is empty", files, ns, name, SETUP_CONTAINER, now == 0 ? " --previous" : "");
		return 1;
	}
	return 0;
}

int hg_stack_converge_influxdb(struct stack *s, int64_t timeout_ms, int *changed, char *err, size_t errlen)
{
	struct inputs in;
	int rc = read_inputs(s, &in, err, errlen);
	if (rc != 0)
		return rc;
	time_t deadline = time(NULL) + (time_t)(timeout_ms / 1000) + 1;
	char restarted[256] = ""; /* the pod this run deleted */
	for (;;) {
		yajl_val pods = NULL, pod = current_pod(s, &pods, err, errlen, &rc);
		if (rc != 0) {
			yajl_tree_free(pods);
			return rc;
		}
		if (hg_stack_setup_failure(s, pods, err, errlen)) {
			yajl_tree_free(pods);
			return -1;
		}
		const char *name = hg_jq_str(pod, "metadata", "name", JQ_END);
		const char *seen = hg_jq_str(pod, "metadata", "annotations", SETUP_ANNOTATION, JQ_END);
		const char *born = hg_jq_str(pod, "metadata", "creationTimestamp", JQ_END);
		yajl_val st = setup_status(pod);
		bool done = hg_jq_int(st, -1, "state", "terminated", "exitCode", JQ_END) == 0 && pod_ready(pod);
		char pname[256];
		snprintf(pname, sizeof pname, "%s", name ? name : "");
		if (name && done && strcmp(name, restarted) != 0) {
			if (seen && strcmp(seen, in.hash) == 0) {
				yajl_tree_free(pods);
				return report_unchanged(s, err, errlen);
			}
			if (restarted[0] || (!seen && born && strcmp(born, in.mtime) >= 0)) {
				/* Its set-up ran with the current inputs. */
				yajl_tree_free(pods);
				rc = report(s, pname, changed, err, errlen);
				return rc == 0 ? annotate(s, pname, in.hash, err, errlen) : rc;
			}
			/* A Secret or influxdb-init changed since its set-up ran. */
			yajl_tree_free(pods);
			rc = hg_kube_delete(s->client, "v1", "Pod", hg_stack_namespace(s), pname, err, errlen);
			if (rc != 0 && rc != KUBE_ENOTFOUND)
				return rc;
			char label[300];
			snprintf(label, sizeof label, "pod/%s", pname);
			hg_stack_line(s, label, "restarted (InfluxDB set-up: a Secret or ConfigMap influxdb-init changed)");
			(*changed)++;
			snprintf(restarted, sizeof restarted, "%s", pname);
			continue;
		}
		yajl_tree_free(pods);
		if (hg_stack_interrupted)
			return -1;
		if (time(NULL) >= deadline) {
			snprintf(err, errlen, "InfluxDB set-up: no stack pod finished its %s container and became ready within "
					      "the timeout%s%s (agentctl status shows why)", SETUP_CONTAINER,
				 pname[0] ? "; last seen: pod " : "", pname);
			return -1;
		}
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
