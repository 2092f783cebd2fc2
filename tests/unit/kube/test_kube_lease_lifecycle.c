/* Lease leader election (kube/kube_lease.c), one Lease's life against the
 * test API server, each step on what the one before left: a candidate
 * acquires a free Lease and renews it, a second waits while it is held and
 * takes over after expiry, release on stop hands it to a third at its first
 * look, and 409 conflicts (injected, and a real one from another writer).
 * The Lease is read back from the server between loop runs and its
 * holderIdentity, leaseTransitions, acquireTime, renewTime,
 * leaseDurationSeconds and recorded-until annotation are asserted. Timing
 * checks only bound what the Lease rules guarantee, with wide margins. The
 * harness (and why leases of 2 s): kube_lease_harness.h. */
#include "check.h"
#include "kube_lease_harness.h"

static struct cand a, b, c;

/* A free (absent) Lease: created by the first candidate, then renewed. */
static void test_acquire_and_renew(void)
{
	int64_t before = wall_ns();
	CHECK(cand_start(&a, "agent-a", kubeconfig, "t-basic", DUR_MS));
	CHECK(run_until(&a.ups, 1, 5000));
	int64_t after = wall_ns();
	CHECK(a.leader && hg_lease_is_leader(a.l));
	CHECK_INT(a.downs, 0);
	CHECK_INT(a.prev, 0); /* no earlier holder */
	CHECK_INT(a.errors, 0);
	struct rec r = get_lease("t-basic");
	CHECK_STR(r.holder, "agent-a");
	CHECK_INT(r.duration, DUR_MS / 1000);
	CHECK_INT(r.transitions, 0);
	CHECK_STR(r.acquire, r.renew);
	CHECK(micro_ns(r.acquire) >= before / 1000 * 1000 && micro_ns(r.acquire) <= after);
	CHECK_STR(r.recorded, ""); /* nothing recorded yet */
	CHECK_INT(hg_lease_transitions_seen(a.l), 0);
	/* Created once (404, then POST), never re-created. */
	CHECK_INT(requests("POST", LEASES), 1);

	/* Renewals: renewTime moves on, acquireTime stays, the recorded-until time is kept. */
	a.recorded = RECORDED_A;
	int64_t renew0 = micro_ns(r.renew);
	run_for(3 * RENEW_MS);
	struct rec r2 = get_lease("t-basic");
	CHECK_STR(r2.holder, "agent-a");
	CHECK_STR(r2.acquire, r.acquire);
	CHECK(micro_ns(r2.renew) > renew0);
	CHECK(strcmp(r2.rv, r.rv) != 0);
	CHECK_INT(r2.transitions, 0);
	CHECK_STR(r2.recorded, "2024-06-10T06:13:20.500000Z");
	CHECK(requests("PUT", LEASES "/t-basic") >= 2);
	CHECK_INT(a.ups, 1);
	CHECK_INT(a.errors, 0);
}

/* A second candidate does not take a Lease renewed within its duration. */
static void test_held_lease_not_taken(void)
{
	CHECK(cand_start(&b, "agent-b", kubeconfig, "t-basic", DUR_MS));
	run_for(DUR_MS + 500);
	CHECK(!b.leader);
	CHECK_INT(b.ups, 0);
	CHECK_INT(b.errors, 0);
	if (b.errors)
		fprintf(stderr, "agent-b's last error: %s\n", b.err);
	CHECK(a.leader);
	CHECK_INT(a.downs, 0);
	CHECK_STR(get_lease("t-basic").holder, "agent-a");
}

/* The holder stops without handing over (as if it died): the other
 * candidate takes over once the record has not changed for a duration. */
static void test_takeover_after_expiry(void)
{
	struct rec r0 = get_lease("t-basic");
	int64_t wall_stop = wall_ns();
	uint64_t t_stop = now_ms();
	hg_lease_stop(a.l, false, on_stopped, &a);
	CHECK(run_until(&a.stopped, 1, 2000));
	struct rec last = get_lease("t-basic"); /* a's last renew */
	CHECK_STR(last.holder, "agent-a"); /* not released */
	CHECK(run_until(&b.ups, 1, 5000));
	uint64_t took = now_ms() - t_stop;
	CHECK(took <= 2 * DUR_MS + 500);
	struct rec r = get_lease("t-basic");
	CHECK_STR(r.holder, "agent-b");
	/* b saw a's last record after it was written (its renewTime was taken
	 * before) and took over only once that record had not changed for a
	 * duration: measured between the two times in the Lease, not from
	 * t_stop, as the test's blocking reads before t_stop held the loop
	 * (and so a's renews and b's polls) for a time that load decides. */
	CHECK(micro_ns(r.acquire) - micro_ns(last.renew) >= (int64_t)(DUR_MS - 20) * 1000000);
	CHECK_INT(r.transitions, 1);
	CHECK_INT(hg_lease_transitions_seen(b.l), 1);
	CHECK(micro_ns(r.acquire) >= wall_stop / 1000 * 1000);
	CHECK(micro_ns(r.acquire) > micro_ns(r0.acquire));
	CHECK_STR(r.renew, r.acquire);
	CHECK_INT(r.duration, DUR_MS / 1000);
	/* The predecessor's recorded-until time reaches the new leader, and is kept in the Lease. */
	CHECK_INT(b.prev, RECORDED_A);
	CHECK_STR(r.recorded, "2024-06-10T06:13:20.500000Z");
	CHECK_INT(a.stopped, 1);
	cand_free(&a);
}

/* Stop with release: the holder is cleared (with our recorded-until time)
 * before done runs, and the next candidate takes the Lease at its first
 * look, without waiting for it to expire. */
static void test_release_on_stop(void)
{
	struct rec r0 = get_lease("t-basic");
	b.recorded = RECORDED_B;
	int64_t before = wall_ns();
	hg_lease_stop(b.l, true, on_stopped, &b);
	CHECK_INT(b.stopped, 0); /* after the write */
	CHECK(run_until(&b.stopped, 1, 3000));
	struct rec r = get_lease("t-basic");
	CHECK_STR(r.holder, "");
	CHECK_INT(r.duration, 1);
	CHECK_INT(r.transitions, 1);
	CHECK_STR(r.acquire, r0.acquire);
	CHECK(micro_ns(r.renew) >= before / 1000 * 1000);
	CHECK_STR(r.recorded, "2024-06-10T06:15:00.000000Z");
	run_for(50);
	CHECK_INT(b.stopped, 1);
	cand_free(&b);

	uint64_t t0 = now_ms();
	CHECK(cand_start(&c, "agent-c", kubeconfig, "t-basic", DUR_MS));
	CHECK(run_until(&c.ups, 1, 3000));
	CHECK(now_ms() - t0 < DUR_MS / 2);
	r = get_lease("t-basic");
	CHECK_STR(r.holder, "agent-c");
	CHECK_INT(r.transitions, 2);
	CHECK_INT(c.prev, RECORDED_B);
}

/* 409 Conflict on a renew: the leader steps down at once and reads the
 * Lease again. Injected (nobody else wrote: it is still the holder and
 * takes it back, no transition); then real (another writer took the
 * Lease: it waits for that record to expire, then takes over). */
static void test_conflict(void)
{
	struct rec r0 = get_lease("t-basic");
	int errors = c.errors;
	fail_rule("PUT", "t-basic", 409, "Conflict",
		  "Operation cannot be fulfilled on leases.coordination.k8s.io \\\"t-basic\\\": the object has been "
		  "modified; please apply your changes to the latest version and try again",
		  1);
	CHECK(run_until(&c.downs, 1, 3000));
	CHECK(run_until(&c.ups, 2, 3000));
	CHECK(c.leader);
	CHECK_INT(c.errors, errors); /* a conflict is no error */
	CHECK_INT(log_lines("agent-c lost the Lease kt/t-basic"), 1);
	struct rec r = get_lease("t-basic");
	CHECK_STR(r.holder, "agent-c");
	CHECK_INT(r.transitions, r0.transitions); /* the same holder: no transition */
	CHECK_STR(r.acquire, r0.acquire);
	CHECK_INT(c.prev, RECORDED_B);

	/* Someone else writes the Lease (another agent that saw it expire). */
	char body[1024], t[40];
	time_t s = time(NULL);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	snprintf(body, sizeof body,
		 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"t-basic\","
		 "\"namespace\":\"kt\"},\"spec\":{\"holderIdentity\":\"intruder\",\"leaseDurationSeconds\":%d,"
		 "\"acquireTime\":\"%s\",\"renewTime\":\"%s\",\"leaseTransitions\":7}}",
		 DUR_MS / 1000, t, t);
	uint64_t t_put = now_ms();
	CHECK_INT(ks_control(&ks, "/_control/objects", body), 200);
	CHECK(run_until(&c.downs, 2, 3000));
	CHECK_INT(log_lines("agent-c lost the Lease kt/t-basic"), 2);
	CHECK(!c.leader);
	CHECK_STR(get_lease("t-basic").holder, "intruder");
	CHECK(run_until(&c.ups, 3, 5000));
	uint64_t took = now_ms() - t_put;
	CHECK(took >= DUR_MS - 50); /* c first saw the intruder's record after it was written */
	CHECK(took <= 2 * DUR_MS + 500);
	r = get_lease("t-basic");
	CHECK_STR(r.holder, "agent-c");
	CHECK_INT(r.transitions, 8);
	CHECK(strcmp(r.acquire, t) > 0);
	CHECK_INT(c.prev, 0); /* the intruder recorded nothing */
	CHECK_INT(c.errors, errors);
	hg_lease_stop(c.l, true, on_stopped, &c);
	CHECK(run_until(&c.stopped, 1, 3000));
	CHECK_STR(get_lease("t-basic").holder, "");
	cand_free(&c);
}

/* One lease's life, each step on what the one before left: a acquires and
 * renews, b waits while a holds it, b takes it over when a stops renewing, a
 * stop releases it to c, whose write after someone else's is a conflict. */
static void test_lease_lifecycle(void)
{
	test_acquire_and_renew();
	test_held_lease_not_taken();
	test_takeover_after_expiry();
	test_release_on_stop();
	test_conflict();
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_lease_lifecycle),
	};
	return CHECK_RUN_WITH(argc, argv, cases, lease_setup, lease_teardown);
}
