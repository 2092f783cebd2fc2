/* Lease leader election (kube/kube_lease.c) when the API server fails:
 * errors on writes and reads (reported, stepping down when renewing fails
 * for 2/3 of the duration), requests that cannot even be sent (an exec
 * credential plugin that fails), and renews that hang longer than the Lease
 * duration (stepping down 2/3 of the duration after the last renew, before
 * the Lease can expire, whatever the request timeout). The harness (and why
 * leases of 2 s): kube_lease_harness.h. */
#include "check.h"
#include "kube_lease_harness.h"

/* Errors from the API server: reported through on_error, the leader keeps
 * the Lease through short failures, steps down when it has not renewed for
 * 2/3 of the duration, and takes the Lease back (its own record) when the
 * server answers again. Read errors of a candidate are reported too. */
static void test_api_errors(void)
{
	struct cand d, e;
	const int dur = 3 * DUR_MS / 2; /* steps down after 2 s without a renew */
	CHECK(cand_start(&d, "agent-d", kubeconfig, "t-errors", dur));
	CHECK(run_until(&d.ups, 1, 3000));
	struct rec r0 = get_lease("t-errors");

	fail_rule("PUT", "t-errors", 500, "InternalError", "etcdserver: request timed out", 2);
	CHECK(run_until(&d.errors, 2, 3000));
	CHECK(strstr(d.err, "lease write: ") == d.err);
	CHECK(strstr(d.err, "500") && strstr(d.err, "etcdserver: request timed out"));
	run_for(2 * RENEW_MS);
	CHECK(d.leader); /* two failed renews: within 2/3 of the duration */
	CHECK_INT(d.downs, 0);
	CHECK(strcmp(get_lease("t-errors").renew, r0.renew) > 0); /* renewed again since */

	/* The server keeps failing: d steps down. */
	int errors = d.errors;
	uint64_t t0 = now_ms();
	fail_rule("PUT", "t-errors", 500, "InternalError", "etcdserver: leader changed", -1);
	CHECK(run_until(&d.downs, 1, 2 * dur));
	int64_t down_wall = wall_ns();
	uint64_t took = now_ms() - t0;
	/* Measured from the last successful renew (its renewTime, taken before
	 * it was sent), not from t0: the blocking test calls before t0 hold the
	 * loop, so under load that renew can be older than one period. */
	int64_t since_renew_ms = (down_wall - micro_ns(get_lease("t-errors").renew)) / 1000000;
	CHECK(since_renew_ms >= dur * 2 / 3 - 20);
	CHECK(took <= dur + 2 * RENEW_MS + 300);
	CHECK(d.errors >= errors + 3);
	CHECK_INT(log_lines("agent-d could not renew the Lease in time: stepping down"), 1);
	run_for(3 * RETRY_MS);
	CHECK(!d.leader); /* it reads its own record but cannot write it */
	CHECK(strstr(d.err, "etcdserver: leader changed") != NULL);

	/* The server recovers: d's own record, taken back without a transition. */
	CHECK_INT(ks_control(&ks, "/_control/fail", "[]"), 200);
	CHECK(run_until(&d.ups, 2, 3000));
	struct rec r = get_lease("t-errors");
	CHECK_STR(r.holder, "agent-d");
	CHECK_INT(r.transitions, 0);
	CHECK_STR(r.acquire, r0.acquire);

	hg_lease_stop(d.l, true, on_stopped, &d);
	CHECK(run_until(&d.stopped, 1, 3000));
	cand_free(&d);

	/* A candidate whose reads are refused for a while. */
	fail_rule("GET", "t-errors", 403, "Forbidden",
		  "leases.coordination.k8s.io \\\"t-errors\\\" is forbidden: User \\\"system:serviceaccount:monitoring:heliograph-agent\\\" "
		  "cannot get resource \\\"leases\\\" in API group \\\"coordination.k8s.io\\\" in the namespace \\\"kt\\\"",
		  2);
	CHECK(cand_start(&e, "agent-e", kubeconfig, "t-errors", DUR_MS));
	CHECK(run_until(&e.ups, 1, 3000));
	CHECK_INT(e.errors, 2);
	CHECK(strstr(e.err, "lease read: ") == e.err);
	CHECK(strstr(e.err, "403") && strstr(e.err, "cannot get resource \"leases\""));
	r = get_lease("t-errors");
	CHECK_STR(r.holder, "agent-e");
	CHECK_INT(r.transitions, 1);
	hg_lease_stop(e.l, true, on_stopped, &e);
	CHECK(run_until(&e.stopped, 1, 3000));
	cand_free(&e);
}

/* Requests that cannot be sent at all: the exec credential plugin fails
 * (e.g. aws eks get-token without network). The leader reports it and
 * steps down in time; a stop that wants to release ends once (done called
 * once, nothing closed twice) although the release cannot be written. */
static void test_send_failure(void)
{
	char plugin[512], marker[512], kc[512], user[1400];
	snprintf(plugin, sizeof plugin, "%s/cred-lease.sh", ks.dir);
	snprintf(marker, sizeof marker, "%s/cred-fails", ks.dir);
	FILE *p = fopen(plugin, "w");
	fprintf(p, "#!/bin/sh\n"
		   "if [ -e \"$FAILS\" ]; then echo 'cred-lease.sh: no network' >&2; exit 1; fi\n"
		   "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":{},"
		   "\"status\":{\"expirationTimestamp\":\"2000-01-01T00:00:00Z\",\"token\":\"exec-lease\"}}\\n'\n");
	fclose(p);
	chmod(plugin, 0700);
	snprintf(user, sizeof user,
		 "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: %s\n"
		 "      env:\n      - {name: FAILS, value: %s}",
		 plugin, marker);
	snprintf(kc, sizeof kc, "%s", ks_kubeconfig(&ks, "kc-exec.yaml", user));
	CHECK_INT(ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"exec-lease\"],\"readonly\":[\"ro\"]}"), 200);

	struct cand g;
	/* Each request waits for a run of the plugin (its token has expired)
	 * within the request's timeout: a wider renew interval than the other
	 * tests' keeps a slow shell under load from counting as a failure. */
	CHECK(cand_start_renew(&g, "agent-g", kc, "t-exec", EXEC_DUR_MS, EXEC_RENEW_MS));
	CHECK(run_until(&g.ups, 1, 3 * EXEC_DUR_MS));
	FILE *m = fopen(marker, "w");
	fclose(m);
	uint64_t t0 = now_ms();
	CHECK(run_until(&g.downs, 1, 3 * EXEC_DUR_MS)); /* could not renew for 2/3 of the duration */
	CHECK(now_ms() - t0 <= EXEC_DUR_MS + EXEC_RENEW_MS);
	CHECK(g.errors >= 2);
	/* "lease write: leases: exec plugin "…/cred-lease.sh" failed (exit status 1); …" */
	CHECK(strncmp(g.exec_err, "lease ", 6) == 0 && strstr(g.exec_err, ": exec plugin \"") != NULL &&
	      strstr(g.exec_err, "cred-lease.sh\" failed (exit status 1)") != NULL);
	run_for(3 * RETRY_MS);
	CHECK(!g.leader);

	/* The plugin works again: g takes its own record back. */
	unlink(marker);
	CHECK(run_until(&g.ups, 2, 3 * EXEC_DUR_MS));
	CHECK_STR(get_lease("t-exec").holder, "agent-g");

	/* It fails again, and the agent stops: the release cannot be sent. */
	m = fopen(marker, "w");
	fclose(m);
	int errors = g.errors;
	hg_lease_stop(g.l, true, on_stopped, &g);
	CHECK(run_until(&g.stopped, 1, 3 * EXEC_DUR_MS)); /* after the plugin's run */
	run_for(200);
	CHECK_INT(g.stopped, 1);
	CHECK_INT(g.errors, errors + 1);
	CHECK_STR(get_lease("t-exec").holder, "agent-g");
	unlink(marker);
	cand_free(&g);
}

/* Every renew hangs longer than the Lease duration (the server holds the
 * PUT, then fails it unapplied): the leader steps down no later than 2/3 of
 * the duration after its last successful renew, whatever the request
 * timeout, so before the Lease can expire; the other candidate (whose
 * requests would hang as well, so the hung leader is stopped once it has
 * stepped down, and the server answers again) takes over only after the
 * Lease expired. 1500 ms duration, renew 400 ms: a leader that only checked
 * when a renew timed out would first see 2/3 of the duration exceeded at
 * its second hung renew, 1600 ms after its last one. */
static void test_hung_renew(void)
{
	struct cand h, i;
	const int dur = 3 * DUR_MS / 4;
	CHECK(cand_start(&h, "agent-h", kubeconfig, "t-hang", dur));
	CHECK(run_until(&h.ups, 1, 3000));
	CHECK(cand_start(&i, "agent-i", kubeconfig, "t-hang", dur));
	run_for(2 * RENEW_MS);
	CHECK(h.leader && !i.leader);
	CHECK_INT(i.errors, 0);
	if (i.errors)
		fprintf(stderr, "agent-i's last error: %s\n", i.err);

	/* The rule goes in between renews, after one that h saw succeed, so that
	 * the Lease holds h's last successful renew: under load a renew h gave up
	 * on at its timeout can still be applied by the server, and then the
	 * Lease would hold a renew later than the one h counts its deadline from. */
	uint64_t end = now_ms() + 3000;
	int errors;
	do {
		errors = h.errors;
		while (!hg_lease_request_in_flight(h.l) && now_ms() < end)
			uv_run(&loop, UV_RUN_ONCE);
		while (hg_lease_request_in_flight(h.l) && now_ms() < end)
			uv_run(&loop, UV_RUN_ONCE);
	} while ((h.errors != errors || !h.leader) && now_ms() < end);
	CHECK(h.leader && h.errors == errors && !hg_lease_request_in_flight(h.l));
	struct rec last = get_lease("t-hang");
	char rule[512];
	snprintf(rule, sizeof rule,
		 "{\"method\":\"PUT\",\"path\":\"%s/t-hang\",\"delay\":%.3f,\"code\":504,\"reason\":\"Timeout\","
		 "\"message\":\"request timed out\",\"times\":-1}",
		 LEASES, 2.0 * dur / 1000);
	CHECK_INT(ks_control(&ks, "/_control/fail", rule), 200);
	CHECK(run_until(&h.downs, 1, 3 * dur));
	int64_t down_wall = wall_ns();
	CHECK(!h.leader && !hg_lease_is_leader(h.l));
	CHECK_INT(log_lines("agent-h could not renew the Lease in time: stepping down"), 1);
	/* The last successful renew is the one in the Lease; renewTime was taken before it was sent. */
	struct rec r = get_lease("t-hang");
	CHECK_STR(r.holder, "agent-h");
	CHECK_STR(r.renew, last.renew); /* the hung renews were not applied */
	int64_t renewed = micro_ns(r.renew);
	CHECK(renewed > 0);
	int64_t after_ms = (down_wall - renewed) / 1000000;
	CHECK(after_ms >= dur * 2 / 3 - 20);
	/* Before the Lease could expire (the old code, which checked only when a
	 * renew timed out, took 805-849 ms with a Lease of 750 ms renewed every
	 * 200 ms); a loaded machine delays the timer. */
	CHECK(after_ms < dur);
	if (after_ms >= dur)
		fprintf(stderr, "agent-h stepped down %lld ms after its last renew\n", (long long)after_ms);
	CHECK(!i.leader);

	/* h stays cut off (it would keep failing): stopped without a release; the server answers again. */
	hg_lease_stop(h.l, false, on_stopped, &h);
	CHECK(run_until(&h.stopped, 1, 2000));
	CHECK_INT(h.downs, 1);
	CHECK_INT(ks_control(&ks, "/_control/fail", "[]"), 200);
	int64_t answering_ms = (wall_ns() - renewed) / 1000000; /* PUTs answered again, since h's last renew */
	CHECK(run_until(&i.ups, 1, 3000));
	int64_t up_ms = (wall_ns() - renewed) / 1000000;
	/* i saw h's last record after it was written: the Lease expired first. */
	CHECK(up_ms >= dur - 20);
	/* And took it within a few polls of the later of the Lease's expiry and
	 * the server answering PUTs again (which the test's own blocking calls
	 * before it, not the Lease, put off under load). */
	CHECK(up_ms <= (answering_ms > dur ? answering_ms : dur) + 4 * RETRY_MS + 500);
	r = get_lease("t-hang");
	CHECK_STR(r.holder, "agent-i");
	CHECK_INT(r.transitions, 1);
	hg_lease_stop(i.l, true, on_stopped, &i);
	CHECK(run_until(&i.stopped, 1, 3000));
	CHECK_STR(get_lease("t-hang").holder, "");
	cand_free(&h);
	cand_free(&i);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_api_errors),
		CHECK_CASE(test_send_failure),
		CHECK_CASE(test_hung_renew),
	};
	return CHECK_RUN_WITH(argc, argv, cases, lease_setup, lease_teardown);
}
