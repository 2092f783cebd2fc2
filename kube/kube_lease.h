/* Leader election on a coordination.k8s.io/v1 Lease, as client-go does it
 * (shared by the cluster-wide inputs: deploy_events, kube_inventory):
 * a candidate takes the Lease when it is free or its record has not changed
 * for a lease duration (measured on the local clock, so clock skew between
 * nodes does not matter); the leader renews it and steps down when it cannot
 * renew in time; release hands it over by clearing holderIdentity. Writes
 * carry the resourceVersion read, so two candidates never both win. The
 * leader also keeps a "recorded until" time in an annotation for its
 * successor (opts.recorded_annotation). */
#ifndef HG_KUBE_LEASE_H
#define HG_KUBE_LEASE_H
#include <stdbool.h>
#include <stdint.h>

#include "kube_client.h"

struct lease_opts {
	const char *ns, *name, *identity;
	const char *log_label;           /* log lines; NULL = "lease" */
	/* Annotation holding the "recorded until" time; NULL = none kept. */
	const char *recorded_annotation;
	int64_t duration_ms;  /* leaseDurationSeconds is this rounded up to seconds */
	int64_t renew_ms;     /* leader: renew period */
	int64_t retry_ms;     /* candidate: poll period */
	/* leader true: elected; prev_recorded_ns = the previous holder's
	 * recorded-until time (0 when none). false: lost or stepped down. */
	void (*on_change)(void *arg, bool leader, int64_t prev_recorded_ns);
	/* Leader only: the time up to which this holder has recorded everything (0: unknown yet). */
	int64_t (*recorded_until)(void *arg);
	void (*on_error)(void *arg, const char *msg);
	void *arg;
};

struct lease;

/* What the cluster-wide inputs' lease options resolve to. holderIdentity: the
 * configured one, else $POD_NAME, else the host name, else heliograph-PID. */
void hg_lease_identity(const char *configured, char *out, size_t cap);
/* A lease_duration option (ns, 0 = unset) in ms: 15 s by default, at least 1 s. */
int64_t hg_lease_duration_ms(int64_t configured_ns);

struct lease *hg_lease_start(struct kube_client *c, const struct lease_opts *o, char *err, size_t errlen);
bool hg_lease_is_leader(const struct lease *l);
unsigned hg_lease_transitions_seen(const struct lease *l);
/* Whether a read or write of the Lease is in flight (tests stop it at that moment). */
bool hg_lease_request_in_flight(const struct lease *l);
/* Stops campaigning. release: when leader, clear holderIdentity so another
 * candidate takes over at once; done (optional) runs when that write ended
 * (or at once). The client must stay alive until done. */
void hg_lease_stop(struct lease *l, bool release, void (*done)(void *arg), void *arg);

#endif
