/* Waiting for the rollout of the stack Deployment and the agent DaemonSet,
 * deciding "done" as `kubectl rollout status` does: the controller has seen
 * the latest generation, every replica/pod is updated, and the updated ones
 * are available. A redrawn status line on a terminal, a line per change
 * otherwise (logs, CI). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "jsonq.h"
#include "stack.h"
#include "stack_diag.h"

#define POLL_MS 500
/* The diagnosis (several lists) runs every DIAG_EVERY polls, and once more
 * before a failure is reported. */
#define DIAG_EVERY 4

/* 1 done, 0 waiting, -1 failed; msg says which. */
static int deployment_state(yajl_val d, char *msg, size_t len)
{
	int64_t gen = hg_jq_int(d, 0, "metadata", "generation", JQ_END);
	int64_t og = hg_jq_int(d, -1, "status", "observedGeneration", JQ_END);
	if (og < gen) {
		snprintf(msg, len, "waiting for the controller to see the new spec");
		return 0;
	}
	yajl_val conds = hg_jq_at(d, "status", "conditions", JQ_END);
	for (size_t i = 0; i < hg_jq_len(conds); i++) {
		const char *r = hg_jq_str(hg_jq_item(conds, i), "reason", JQ_END);
		if (r && strcmp(r, "ProgressDeadlineExceeded") == 0) {
			snprintf(msg, len, "exceeded its progress deadline");
			return -1;
		}
	}
	int64_t want = hg_jq_int(d, 1, "spec", "replicas", JQ_END), upd = hg_jq_int(d, 0, "status", "updatedReplicas", JQ_END);
	int64_t have = hg_jq_int(d, 0, "status", "replicas", JQ_END), avail = hg_jq_int(d, 0, "status", "availableReplicas", JQ_END);
	if (upd < want)
		snprintf(msg, len, "%lld of %lld new replicas updated", (long long)upd, (long long)want);
	else if (have > upd)
		snprintf(msg, len, "%lld old replicas pending termination", (long long)(have - upd));
	else if (avail < upd)
		snprintf(msg, len, "%lld of %lld updated replicas available", (long long)avail, (long long)upd);
	else {
		snprintf(msg, len, "%lld of %lld available", (long long)avail, (long long)want);
		return 1;
	}
	return 0;
}

/* skip: pods on NotReady nodes, which the wait does not count (they start
 * when their node is back, or never if it is gone). */
static int daemonset_state(yajl_val d, int64_t skip, char *msg, size_t len)
{
	int64_t gen = hg_jq_int(d, 0, "metadata", "generation", JQ_END);
	int64_t og = hg_jq_int(d, -1, "status", "observedGeneration", JQ_END);
	if (og < gen) {
		snprintf(msg, len, "waiting for the controller to see the new spec");
		return 0;
	}
	int64_t want = hg_jq_int(d, 0, "status", "desiredNumberScheduled", JQ_END);
	int64_t upd = hg_jq_int(d, 0, "status", "updatedNumberScheduled", JQ_END);
	int64_t avail = hg_jq_int(d, 0, "status", "numberAvailable", JQ_END);
	if (skip > want)
		skip = want;
	char nr[64] = "";
	if (skip > 0)
		snprintf(nr, sizeof nr, " (%lld on NotReady nodes not waited for)", (long long)skip);
	if (upd < want - skip)
		snprintf(msg, len, "%lld of %lld updated pods scheduled%s", (long long)upd, (long long)want, nr);
	else if (avail < want - skip)
		snprintf(msg, len, "%lld of %lld updated pods available%s", (long long)avail, (long long)want, nr);
	else {
		snprintf(msg, len, "%lld of %lld nodes available%s", (long long)avail, (long long)want, nr);
		return 1;
	}
	return 0;
}

int hg_stack_rollout_state_skip(const char *kind, yajl_val obj, int64_t skip, char *msg, size_t len)
{
	return strcmp(kind, "Deployment") == 0 ? deployment_state(obj, msg, len) : daemonset_state(obj, skip, msg, len);
}

int hg_stack_rollout_state(const char *kind, yajl_val obj, char *msg, size_t len)
{
	return hg_stack_rollout_state_skip(kind, obj, 0, msg, len);
}

static int state_of(struct stack *s, const char *kind, const char *name, int64_t skip, char *msg, size_t len,
		    char *err, size_t errlen)
{
	char *body = NULL;
	int rc = hg_kube_get(s->client, "apps/v1", kind, hg_stack_namespace(s), name, &body, err, errlen);
	if (rc != 0)
		return rc == KUBE_ENOTFOUND ? (snprintf(msg, len, "not found"), 0) : -2;
	yajl_val v = hg_jq_parse(body, err, errlen);
	free(body);
	if (!v)
		return -2;
	rc = hg_stack_rollout_state_skip(kind, v, skip, msg, len);
	yajl_tree_free(v);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the diagnosis rounds of one wait keep: the latest sentences, the
 * keys already printed, the pods' states for a failure nothing explains. */
struct diag_state {
	struct stack_diags cur, printed;
	int64_t skip;
	char pods[1024];
	char setup_failed[4096]; /* InfluxDB's set-up failed: why (hg_stack_setup_failure) */
};

static yajl_val list(struct stack *s, const char *api, const char *kind, const char *ns, const char *labels,
		     const char *fields)
{
	char err[512];
	yajl_val v;
	/* Best effort: a list that fails (RBAC, a slow server) leaves out what needs it. */
	hg_stack_list(s, api, kind, ns, labels, fields, &v, err, sizeof err);
	return v;
}

/* "heliograph-stack-5d9c Pending, heliograph-agent-x2f Running (not ready)". */
static void pod_summary(yajl_val pods, char *out, size_t len)
{
	yajl_val it = hg_jq_at(pods, "items", JQ_END);
	out[0] = '\0';
	for (size_t i = 0; i < hg_jq_len(it); i++) {
		yajl_val p = hg_jq_item(it, i);
		size_t n = strlen(out);
		if (n + 1 >= len)
			break;
		bool ready = false;
		yajl_val c = hg_jq_at(p, "status", "conditions", JQ_END);
		for (size_t k = 0; k < hg_jq_len(c); k++) {
			const char *t = hg_jq_str(hg_jq_item(c, k), "type", JQ_END), *st = hg_jq_str(hg_jq_item(c, k), "status", JQ_END);
			if (t && st && strcmp(t, "Ready") == 0)
				ready = strcmp(st, "True") == 0;
		}
		const char *ph = hg_jq_str(p, "status", "phase", JQ_END);
		snprintf(out + n, len - n, "%s%s %s%s", n ? ", " : "", hg_jq_str(p, "metadata", "name", JQ_END) ? hg_jq_str(p, "metadata", "name", JQ_END) : "?",
			 ph ? ph : "Pending", ready ? "" : ph && strcmp(ph, "Running") == 0 ? " (not ready)" : "");
	}
}

static void diag_round(struct stack *s, struct diag_state *ds, bool tty)
{
	const char *ns = hg_stack_namespace(s);
	char cluster[128];
	hg_stack_diag_cluster_name(s->kc.context, cluster, sizeof cluster);
	if (!*cluster)
		hg_stack_diag_cluster_name(s->kc.cluster_name, cluster, sizeof cluster);
	struct stack_diag_in in = {.ns = ns, .cluster = *cluster ? cluster : NULL};
	in.pods = list(s, "v1", "Pod", ns, STACK_PART_OF, NULL);
	in.pvcs = list(s, "v1", "PersistentVolumeClaim", ns, NULL, NULL);
	in.events = list(s, "v1", "Event", ns, NULL, NULL);
	in.nodes = list(s, "v1", "Node", NULL, NULL, NULL);
	if (hg_stack_diag_trouble(&in)) {
		/* What names the nodes' occupants, the volumes' places and the
		 * drivers: only read when something is wrong. */
		in.all_pods = list(s, "v1", "Pod", NULL, NULL, "status.phase!=Succeeded,status.phase!=Failed");
		in.pvs = list(s, "v1", "PersistentVolume", NULL, NULL, NULL);
		in.csidrivers = list(s, "storage.k8s.io/v1", "CSIDriver", NULL, NULL, NULL);
	}
	if (!ds->setup_failed[0])
		hg_stack_setup_failure(s, in.pods, ds->setup_failed, sizeof ds->setup_failed);
	hg_stack_diags_clear(&ds->cur);
	ds->skip = hg_stack_diag_notready(&in, &ds->cur);
	hg_stack_diagnose(&in, &ds->cur);
	pod_summary(in.pods, ds->pods, sizeof ds->pods);
	for (size_t i = 0; i < ds->cur.n; i++) {
		bool seen = false;
		for (size_t k = 0; k < ds->printed.n && !seen; k++)
			seen = strcmp(ds->printed.v[k].key, ds->cur.v[i].key) == 0;
		if (seen)
			continue;
		if (tty)
			fputs("\r\033[K", s->out);
		fprintf(s->out, "why: %s\n", ds->cur.v[i].text);
		fflush(s->out);
		/* Only the key is kept. */
		if (ds->printed.n == ds->printed.cap) {
			size_t cap = ds->printed.cap ? ds->printed.cap * 2 : 8;
			struct stack_diag *v = realloc(ds->printed.v, cap * sizeof *v);
			if (!v)
				continue;
			ds->printed.v = v;
			ds->printed.cap = cap;
		}
		snprintf(ds->printed.v[ds->printed.n].key, sizeof ds->printed.v[0].key, "%s", ds->cur.v[i].key);
		ds->printed.v[ds->printed.n++].text[0] = '\0';
	}
	yajl_val all[] = {in.pods, in.pvcs, in.events, in.nodes, in.all_pods, in.pvs, in.csidrivers};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		yajl_tree_free(all[i]);
}

/* The failure: what is stuck, then each reason with its fix. */
static void failure(struct stack *s, const struct diag_state *ds, const char *what, const char *line, char *err,
		    size_t errlen)
{
	snprintf(err, errlen, "%s: %s. Everything is applied; the pods are not ready yet", what, line);
	size_t n = strlen(err);
	if (ds->cur.n) {
		snprintf(err + n, errlen - n, ", because:");
		for (size_t i = 0; i < ds->cur.n; i++) {
			n = strlen(err);
			snprintf(err + n, errlen - n, "\n  - %s", ds->cur.v[i].text);
		}
		n = strlen(err);
		snprintf(err + n, errlen - n, "\nOnce that is fixed, re-run install-stack to finish.");
	} else
		snprintf(err + n, errlen - n,
			 ", and nothing in their states, volume claims or events says why yet (pods: %s). Re-run "
			 "install-stack to wait again; `kubectl -n %s get events` shows what happens meanwhile.",
			 *ds->pods ? ds->pods : "none created yet", hg_stack_namespace(s));
}

int hg_stack_wait(struct stack *s, int64_t timeout_ms, char *err, size_t errlen)
{
	bool tty = isatty(fileno(s->out));
	int64_t start = now_ms();
	char last[512] = "", line[512];
	static const char spin[] = "|/-\\";
	unsigned tick = 0, polls = 0;
	struct diag_state ds = {0};
	int rc = -1;
	for (;; polls++) {
		char dm[200], am[200];
		if (polls % DIAG_EVERY == 0)
			diag_round(s, &ds, tty);
		int d = state_of(s, "Deployment", STACK_DEPLOYMENT, 0, dm, sizeof dm, err, errlen);
		int a = d < -1 ? d : state_of(s, "DaemonSet", STACK_DAEMONSET, ds.skip, am, sizeof am, err, errlen);
		if (d < -1 || a < -1) {
			if (tty)
				fputc('\n', s->out);
			break;
		}
		snprintf(line, sizeof line, "deployment %s: %s; daemonset %s: %s", STACK_DEPLOYMENT, dm, STACK_DAEMONSET,
			 am);
		int64_t el = now_ms() - start;
		if (tty) {
			fprintf(s->out, "\r\033[K%c %s (%llds)", d == 1 && a == 1 ? ' ' : spin[tick++ % 4], line,
				(long long)(el / 1000));
			fflush(s->out);
		} else if (strcmp(line, last) != 0) {
			fprintf(s->out, "rollout: %s\n", line);
			fflush(s->out);
		}
		snprintf(last, sizeof last, "%s", line);
		if (d == 1 && a == 1) {
			if (tty)
				fputc('\n', s->out);
			hg_stack_line(s, "rollout", "done");
			rc = 0;
			break;
		}
		if (ds.setup_failed[0]) {
			/* No restart of the init container changes the outcome (a password, the data). */
			if (tty)
				fputc('\n', s->out);
			snprintf(err, errlen, "%s", ds.setup_failed);
			break;
		}
		const char *failed = d < 0 ? "deployment " STACK_DEPLOYMENT : a < 0 ? "daemonset " STACK_DAEMONSET : NULL;
		if (failed || el >= timeout_ms || hg_stack_interrupted) {
			if (!hg_stack_interrupted)
				diag_round(s, &ds, tty); /* the latest reasons, printed if new */
			if (tty)
				fputc('\n', s->out);
			char what[200];
			snprintf(what, sizeof what, "%s%s%s",
				 hg_stack_interrupted ? "interrupted while waiting for the rollout" : failed ? "rollout failed"
													 : "timed out waiting for the rollout",
				 failed ? " of " : "", failed ? failed : "");
			failure(s, &ds, what, line, err, errlen);
			break;
		}
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	hg_stack_diags_free(&ds.cur);
	hg_stack_diags_free(&ds.printed);
	return rc;
}
