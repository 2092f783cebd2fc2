/* Lease leader election (kube/kube_lease.c), releasing the Lease on stop
 * when the moment is awkward: a renew in flight (the stop waits for it and
 * releases with the resourceVersion it returned), and a release answered 409
 * (read again and released again). The harness: kube_lease_harness.h. */
#include "check.h"
#include "kube_lease_harness.h"

/* Stop with release while a renew is in flight (the server holds it for
 * less than the request timeout): the stop waits for it, then writes the
 * release with the resourceVersion the renew returned. */
static void test_release_while_busy(void)
{
	struct cand f;
	/* A renew period (and so a request timeout) of 1 s: the renew held below outlives the
	 * test's own blocking calls to the server, even with both cores busy. */
	CHECK(cand_start_renew(&f, "agent-f", kubeconfig, "t-busy", 4 * DUR_MS, 1000));
	CHECK(run_until(&f.ups, 1, 3000));
	CHECK_INT(get_lease("t-busy").duration, 4 * DUR_MS / 1000);
	char rule[512];
	snprintf(rule, sizeof rule, "{\"method\":\"PUT\",\"path\":\"%s/t-busy\",\"hold\":\"renew\",\"times\":1}", LEASES);
	CHECK_INT(ks_control(&ks, "/_control/fail", rule), 200);
	int puts = requests("PUT", LEASES "/t-busy");
	/* The next request is the renew, held by the server: stop the moment it is sent. */
	uint64_t end = now_ms() + 3000;
	while (!hg_lease_request_in_flight(f.l) && now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	CHECK(hg_lease_request_in_flight(f.l));
	hg_lease_stop(f.l, true, on_stopped, &f);
	CHECK_INT(f.stopped, 0);
	CHECK_INT(ks_control(&ks, "/_control/release", "{\"hold\":\"renew\"}"), 200);
	CHECK(run_until(&f.stopped, 1, 3000));
	struct rec r = get_lease("t-busy");
	CHECK_STR(r.holder, "");
	CHECK_INT(r.duration, 1); /* as client-go releases */
	CHECK_INT(requests("PUT", LEASES "/t-busy"), puts + 2); /* the renew, then the release */
	CHECK_INT(f.errors, 0);
	run_for(50);
	CHECK_INT(f.stopped, 1);
	cand_free(&f);
}

/* A release answered 409 (the resourceVersion moved under it: a renew the server applied after
 * the client gave up on it) reads the Lease and releases again, rather than ending the stop with
 * the Lease still held, which would make the next leader wait a whole duration. */
static void test_release_conflict(void)
{
	struct cand f;
	CHECK(cand_start(&f, "agent-h", kubeconfig, "t-conflict", 2 * DUR_MS));
	CHECK(run_until(&f.ups, 1, 3000));
	char rule[512];
	snprintf(rule, sizeof rule,
		 "{\"method\":\"PUT\",\"path\":\"%s/t-conflict\",\"code\":409,\"reason\":\"Conflict\",\"times\":1}",
		 LEASES);
	/* Between renews: the next PUT is the release. */
	int puts = requests("PUT", LEASES "/t-conflict"), gets = requests("GET", LEASES "/t-conflict");
	CHECK_INT(ks_control(&ks, "/_control/fail", rule), 200);
	hg_lease_stop(f.l, true, on_stopped, &f);
	CHECK(run_until(&f.stopped, 1, 3000));
	CHECK_INT(requests("PUT", LEASES "/t-conflict"), puts + 2);
	CHECK_INT(requests("GET", LEASES "/t-conflict"), gets + 1);
	struct rec r = get_lease("t-conflict");
	CHECK_STR(r.holder, "");
	CHECK_INT(r.duration, 1);
	run_for(50);
	CHECK_INT(f.stopped, 1);
	cand_free(&f);
	CHECK_INT(ks_control(&ks, "/_control/fail", "[]"), 200);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_release_while_busy),
		CHECK_CASE(test_release_conflict),
	};
	return CHECK_RUN_WITH(argc, argv, cases, lease_setup, lease_teardown);
}
