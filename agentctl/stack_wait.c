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

#define POLL_MS 500

/* 1 done, 0 waiting, -1 failed; msg says which. */
static int deployment_state(yajl_val d, char *msg, size_t len)
{
	int64_t gen = jq_int(d, 0, "metadata", "generation", NULL);
	int64_t og = jq_int(d, -1, "status", "observedGeneration", NULL);
	if (og < gen) {
		snprintf(msg, len, "waiting for the controller to see the new spec");
		return 0;
	}
	yajl_val conds = jq_at(d, "status", "conditions", NULL);
	for (size_t i = 0; i < jq_len(conds); i++) {
		const char *r = jq_str(jq_item(conds, i), "reason", NULL);
		if (r && strcmp(r, "ProgressDeadlineExceeded") == 0) {
			snprintf(msg, len, "exceeded its progress deadline");
			return -1;
		}
	}
	int64_t want = jq_int(d, 1, "spec", "replicas", NULL), upd = jq_int(d, 0, "status", "updatedReplicas", NULL);
	int64_t have = jq_int(d, 0, "status", "replicas", NULL), avail = jq_int(d, 0, "status", "availableReplicas", NULL);
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

static int daemonset_state(yajl_val d, char *msg, size_t len)
{
	int64_t gen = jq_int(d, 0, "metadata", "generation", NULL);
	int64_t og = jq_int(d, -1, "status", "observedGeneration", NULL);
	if (og < gen) {
		snprintf(msg, len, "waiting for the controller to see the new spec");
		return 0;
	}
	int64_t want = jq_int(d, 0, "status", "desiredNumberScheduled", NULL);
	int64_t upd = jq_int(d, 0, "status", "updatedNumberScheduled", NULL);
	int64_t avail = jq_int(d, 0, "status", "numberAvailable", NULL);
	if (upd < want)
		snprintf(msg, len, "%lld of %lld updated pods scheduled", (long long)upd, (long long)want);
	else if (avail < want)
		snprintf(msg, len, "%lld of %lld updated pods available", (long long)avail, (long long)want);
	else {
		snprintf(msg, len, "%lld of %lld nodes available", (long long)avail, (long long)want);
		return 1;
	}
	return 0;
}

int stack_rollout_state(const char *kind, yajl_val obj, char *msg, size_t len)
{
	return strcmp(kind, "Deployment") == 0 ? deployment_state(obj, msg, len) : daemonset_state(obj, msg, len);
}

static int state_of(struct stack *s, const char *kind, const char *name, char *msg, size_t len, char *err,
		    size_t errlen)
{
	char *body = NULL;
	int rc = kube_get(s->client, "apps/v1", kind, stack_namespace(s), name, &body, err, errlen);
	if (rc != 0)
		return rc == KUBE_ENOTFOUND ? (snprintf(msg, len, "not found"), 0) : -2;
	yajl_val v = jq_parse(body, err, errlen);
	free(body);
	if (!v)
		return -2;
	rc = stack_rollout_state(kind, v, msg, len);
	yajl_tree_free(v);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int stack_wait(struct stack *s, int64_t timeout_ms, char *err, size_t errlen)
{
	bool tty = isatty(fileno(s->out));
	int64_t start = now_ms();
	char last[512] = "", line[512];
	static const char spin[] = "|/-\\";
	unsigned tick = 0;
	for (;;) {
		char dm[200], am[200];
		int d = state_of(s, "Deployment", STACK_DEPLOYMENT, dm, sizeof dm, err, errlen);
		int a = d < -1 ? d : state_of(s, "DaemonSet", STACK_DAEMONSET, am, sizeof am, err, errlen);
		if (d < -1 || a < -1) {
			if (tty)
				fputc('\n', s->out);
			return -1;
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
			stack_line(s, "rollout", "done");
			return 0;
		}
		const char *failed = d < 0 ? "deployment " STACK_DEPLOYMENT : a < 0 ? "daemonset " STACK_DAEMONSET : NULL;
		if (failed || el >= timeout_ms || stack_interrupted) {
			if (tty)
				fputc('\n', s->out);
			snprintf(err, errlen,
				 "%s%s%s: %s. Everything is applied; the pods are not ready yet. See why with "
				 "`kubectl -n %s get pods,pvc` and `kubectl -n %s describe pods -l %s`; re-run "
				 "install-stack to wait again",
				 stack_interrupted ? "interrupted while waiting for the rollout" : failed ? "rollout failed"
													 : "timed out waiting for the rollout",
				 failed ? " of " : "", failed ? failed : "", line, stack_namespace(s), stack_namespace(s), STACK_PART_OF);
			return -1;
		}
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}
