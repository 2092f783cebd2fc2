/* Deploy tracking: from the stream of Deployment, ReplicaSet, Service and
 * Rollout states to deploys (one per rollout of a workload) and the phases
 * each went through, classified by strategy. Pure state: no I/O; phases are
 * handed to a callback with the time the API gives for them. */
#ifndef HG_DEPLOY_TRACK_H
#define HG_DEPLOY_TRACK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deploy_strategy.h"
#include "kobj.h"

/* The shared table's values (plugins/common/deploy_strategy.h). */
enum strategy { ST_BIGBANG = DEPLOY_BIGBANG, ST_ROLLING = DEPLOY_ROLLING, ST_CANARY = DEPLOY_CANARY,
		ST_BLUEGREEN = DEPLOY_BLUEGREEN };
enum phase { PH_STARTED, PH_PROGRESSING, PH_PROMOTED, PH_COMPLETED, PH_FAILED, PH_ROLLED_BACK, PH_N };

struct deploy_point {
	const char *ns, *name, *kind;
	enum strategy strategy;
	enum phase phase;
	int64_t time_ns;
	const struct kobj *o;       /* revision, image, version, replica counts */
	int64_t canary_weight;      /* -1: not a canary */
	double duration_s;          /* < 0: not a terminal phase */
	const char *message;
};

typedef void (*track_emit_fn)(void *arg, const struct deploy_point *p);

struct track;

struct track *hg_track_new(track_emit_fn emit, void *arg);
void hg_track_free(struct track *t);
/* Phases of objects read from a (re)list whose time is before this are
 * taken as recorded already (by an earlier leader): ns, 0 = none. A phase a
 * list shows without a time of its own counts as recorded when its deploy
 * started before this. */
void hg_track_set_skip_before(struct track *t, int64_t ns);
/* now_ns: the time used when the API gives none. */
void hg_track_object(struct track *t, const struct kobj *o, bool deleted, bool from_list, int64_t now_ns);
/* Emits the started points still waiting for the controller to number
 * their revision, with what is known (before hg_track_free when the points
 * are wanted, e.g. on losing leadership). */
void hg_track_flush(struct track *t);
/* Objects tracked: workloads (Deployments, Rollouts, and owners known only
 * from their ReplicaSets), Services, and phases waiting for a revision number. */
void hg_track_count(const struct track *t, size_t *workloads, size_t *services, size_t *waiting);
const char *hg_track_strategy_name(enum strategy s);
const char *hg_track_phase_name(enum phase p);
int hg_track_strategy_parse(const char *s); /* hg_deploy_strategy_parse: -1 when unknown */

#endif
