/* Deploy tracking (plugins/inputs/deploy_events/track.c) driven directly:
 * object states are built here as JSON shaped like the API's (a Deployment
 * with its managedFields, revision annotation, status and Progressing
 * condition, one state per watch event in the order the deployment
 * controller writes them), or are the real captured objects of the fixtures
 * (kind's coredns DeploymentList, the Argo Rollouts objects), read with
 * kobj_parse as deploy_events.c does and handed to track_object. Asserts
 * the classification, the exact phase sequence of each deploy, the time of
 * every phase, durations, canary weights and the other emitted fields, for
 * each strategy and for rollbacks, failures, rollouts that never finish,
 * controller lag, re-lists by a new leader, deletions and objects seen out
 * of order. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../../plugins/inputs/deploy_events/kobj.h"
#include "../../plugins/inputs/deploy_events/track.h"
#include "check.h"
#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer's runtime (sanitizer/allocator_interface.h, not shipped with every compiler). */
size_t __sanitizer_get_current_allocated_bytes(void);
#elif __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#include "input_check.h"

#define T0 1718000000LL /* 2024-06-10T06:13:20Z: test times are seconds from here */
#define AT(off) ((T0 + (off)) * 1000000000LL)
#define EPOCH(s) ((int64_t)(s) * 1000000000LL)

/* ---- the points track.c emits, copied (p->o lives only during the call) ---- */

struct pt {
	char ns[64], name[254], kind[16], strategy[16], phase[16], image[256], version[64], message[256];
	int64_t time_ns, revision, replicas, updated, available, unavailable, weight;
	double duration;
};

static struct pt pts[64];
static int npts;

static void on_point(void *arg, const struct deploy_point *p)
{
	(void)arg;
	if (npts == (int)(sizeof pts / sizeof pts[0])) {
		CHECK(!"too many points");
		return;
	}
	struct pt *x = &pts[npts++];
	snprintf(x->ns, sizeof x->ns, "%s", p->ns);
	snprintf(x->name, sizeof x->name, "%s", p->name);
	snprintf(x->kind, sizeof x->kind, "%s", p->kind);
	snprintf(x->strategy, sizeof x->strategy, "%s", strategy_name(p->strategy));
	snprintf(x->phase, sizeof x->phase, "%s", phase_name(p->phase));
	snprintf(x->image, sizeof x->image, "%s", p->o->image);
	snprintf(x->version, sizeof x->version, "%s", p->o->version);
	snprintf(x->message, sizeof x->message, "%s", p->message ? p->message : "(null)");
	x->time_ns = p->time_ns;
	x->revision = p->o->revision;
	x->replicas = p->o->replicas;
	x->updated = p->o->updated;
	x->available = p->o->available;
	x->unavailable = p->o->unavailable;
	x->weight = p->canary_weight;
	x->duration = p->duration_s;
}

/* "Kind/name strategy phase; ..." of the points from index from on. */
static const char *seq_from(int from)
{
	static char s[4096];
	size_t k = 0;
	s[0] = '\0';
	for (int i = from; i < npts && k < sizeof s; i++)
		k += (size_t)snprintf(s + k, sizeof s - k, "%s%s/%s %s %s", i > from ? "; " : "", pts[i].kind, pts[i].name,
				      pts[i].strategy, pts[i].phase);
	return s;
}

static const char *seq(void)
{
	return seq_from(0);
}

/* Point i: its time, canary weight (-1: none) and duration (-1: none). */
#define CHECK_PT(i, t, w, d)                                                                          \
	do {                                                                                          \
		CHECK((i) < npts);                                                                    \
		if ((i) < npts) {                                                                     \
			CHECK_INT(pts[i].time_ns, (t));                                               \
			CHECK_INT(pts[i].weight, (w));                                                \
			CHECK_INT((int64_t)(pts[i].duration * 1000), (int64_t)((d) * 1000));          \
		}                                                                                     \
	} while (0)

static void reset(void)
{
	npts = 0;
	memset(pts, 0, sizeof pts);
}

/* ---- feeding objects ---- */

enum { WATCH = 0, LIST = 1 };

static int64_t now_ns = AT(5000); /* the "time the change was seen" */

static void feed(struct track *t, enum kobj_kind kind, const char *json, bool deleted, bool from_list)
{
	static struct kobj o;
	char err[256] = "";
	int rc = kobj_parse(&o, kind, json, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kobj_parse: %s\n%s\n", err, json);
	CHECK_INT(rc, 0);
	if (rc == 0)
		track_object(t, &o, deleted, from_list, now_ns);
}

static const char *iso(int off)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ % 8];
	time_t s = (time_t)(T0 + off);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

/* A Deployment as the API returns it; the test changes the fields between
 * events as the user and the controller would. */
struct dep {
	const char *ns, *name, *image;
	int64_t gen, rev;      /* rev < 0: no deployment.kubernetes.io/revision */
	int64_t observed;      /* status.observedGeneration */
	int64_t replicas, updated, available;
	int64_t unavailable;   /* status.unavailableReplicas; 0: absent, as the API leaves it */
	const char *reason;    /* Progressing condition reason; NULL: no conditions */
	const char *cstatus;   /* its status; NULL: "True" */
	const char *labels;    /* metadata.labels and template labels (JSON object); NULL: {"app":NAME} */
	const char *ann;       /* more annotations: "\"k\":\"v\"" members, or NULL */
	bool recreate;
	int t_spec, t_cond;    /* kubectl's managedFields time and the condition's lastUpdateTime (from T0) */
};

/* The condition message the controller writes for a reason. */
static const char *dep_message(const struct dep *d)
{
	static char m[256];
	if (strcmp(d->reason, "ProgressDeadlineExceeded") == 0)
		snprintf(m, sizeof m, "ReplicaSet \"%s-%" PRId64 "\" has timed out progressing.", d->name, d->rev);
	else if (strcmp(d->reason, "NewReplicaSetAvailable") == 0)
		snprintf(m, sizeof m, "ReplicaSet \"%s-%" PRId64 "\" has successfully progressed.", d->name, d->rev);
	else if (strcmp(d->reason, "NewReplicaSetCreated") == 0)
		snprintf(m, sizeof m, "Created new replica set \"%s-%" PRId64 "\"", d->name, d->rev);
	else
		snprintf(m, sizeof m, "ReplicaSet \"%s-%" PRId64 "\" is progressing.", d->name, d->rev);
	return m;
}

static void json_str(char *out, size_t n, const char *s)
{
	size_t k = 0;
	for (; *s && k + 3 < n; s++) {
		if (*s == '"' || *s == '\\')
			out[k++] = '\\';
		out[k++] = *s;
	}
	out[k] = '\0';
}

static const char *dep_json(const struct dep *d)
{
	static char j[8192];
	char labels[256], ann[512] = "", cond[1024] = "", unav[64] = "", msg[300];
	if (d->labels)
		snprintf(labels, sizeof labels, "%s", d->labels);
	else
		snprintf(labels, sizeof labels, "{\"app\":\"%s\"}", d->name);
	if (d->rev >= 0)
		snprintf(ann, sizeof ann, "\"deployment.kubernetes.io/revision\":\"%" PRId64 "\"%s%s", d->rev,
			 d->ann ? "," : "", d->ann ? d->ann : "");
	else if (d->ann)
		snprintf(ann, sizeof ann, "%s", d->ann);
	if (d->reason) {
		json_str(msg, sizeof msg, dep_message(d));
		snprintf(cond, sizeof cond,
			 ",\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\","
			 "\"message\":\"Deployment has minimum availability.\",\"lastUpdateTime\":\"%s\",\"lastTransitionTime\":\"%s\"},"
			 "{\"type\":\"Progressing\",\"status\":\"%s\",\"reason\":\"%s\",\"message\":\"%s\","
			 "\"lastUpdateTime\":\"%s\",\"lastTransitionTime\":\"%s\"}]",
			 iso(-3600), iso(-3600), d->cstatus ? d->cstatus : "True", d->reason, msg, iso(d->t_cond),
			 iso(d->t_cond));
	}
	if (d->unavailable)
		snprintf(unav, sizeof unav, ",\"unavailableReplicas\":%" PRId64, d->unavailable);
	snprintf(j, sizeof j,
		 "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		 "\"uid\":\"6f1c2d1e-0000-4000-8000-%012d\",\"resourceVersion\":\"%d\",\"generation\":%" PRId64 ","
		 "\"creationTimestamp\":\"%s\",\"labels\":%s,\"annotations\":{%s},"
		 "\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\","
		 "\"time\":\"%s\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{}}},"
		 "{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\",\"time\":\"%s\","
		 "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{}},\"subresource\":\"status\"}]},"
		 "\"spec\":{\"replicas\":%" PRId64 ",\"selector\":{\"matchLabels\":%s},\"strategy\":{\"type\":\"%s\"},"
		 "\"template\":{\"metadata\":{\"labels\":%s},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"%s\"},"
		 "{\"name\":\"log-shipper\",\"image\":\"fluent/fluent-bit:3.0\"}]}}},"
		 "\"status\":{\"observedGeneration\":%" PRId64 ",\"replicas\":%" PRId64 ",\"updatedReplicas\":%" PRId64 ","
		 "\"readyReplicas\":%" PRId64 ",\"availableReplicas\":%" PRId64 "%s%s}}",
		 d->name, d->ns, (int)d->gen, (int)(d->gen * 10 + d->observed), d->gen, iso(-7200), labels, ann,
		 iso(d->t_spec), iso(d->t_cond), d->replicas, labels, d->recreate ? "Recreate" : "RollingUpdate",
		 labels, d->image, d->observed, d->replicas, d->updated, d->available, d->available, unav, cond);
	return j;
}

static void feed_dep(struct track *t, const struct dep *d, bool from_list)
{
	feed(t, KOBJ_DEPLOYMENT, dep_json(d), false, from_list);
}

static void delete_dep(struct track *t, const struct dep *d)
{
	feed(t, KOBJ_DEPLOYMENT, dep_json(d), true, false);
}

static void feed_svc(struct track *t, const char *name, const char *selector, const char *ann, int t_spec,
		     bool deleted, bool from_list)
{
	char j[2048];
	snprintf(j, sizeof j,
		 "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		 "\"creationTimestamp\":\"%s\",\"annotations\":{%s},\"managedFields\":[{\"manager\":\"kubectl\","
		 "\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"%s\"}]},"
		 "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.12\",\"selector\":%s,"
		 "\"ports\":[{\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"}]},\"status\":{\"loadBalancer\":{}}}",
		 name, iso(-7200), ann ? ann : "", iso(t_spec), selector);
	feed(t, KOBJ_SERVICE, j, deleted, from_list);
}

/* A ReplicaSet of owner (kind "Deployment" or "Rollout"); images: its containers' images, ',' joined. */
static void rs_event(struct track *t, const char *ns, const char *name, const char *owner_kind, const char *owner,
		     const char *images, int64_t rev, const char *rev_ann, bool deleted)
{
	char j[2048], containers[512] = "";
	const char *p = images;
	for (int i = 0; *p; i++) {
		size_t n = strcspn(p, ",");
		size_t k = strlen(containers);
		snprintf(containers + k, sizeof containers - k, "%s{\"name\":\"c%d\",\"image\":\"%.*s\"}", i ? "," : "", i,
			 (int)n, p);
		p += n + (p[n] == ',');
	}
	snprintf(j, sizeof j,
		 "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		 "\"generation\":1,\"annotations\":{\"%s\":\"%" PRId64 "\"},"
		 "\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"uid\":\"0d7c\","
		 "\"controller\":true,\"blockOwnerDeletion\":true}]},"
		 "\"spec\":{\"replicas\":0,\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},"
		 "\"spec\":{\"containers\":[%s]}}},\"status\":{\"replicas\":0}}",
		 name, ns, rev_ann, rev, strcmp(owner_kind, "Rollout") == 0 ? "argoproj.io/v1alpha1" : "apps/v1",
		 owner_kind, owner, owner, containers);
	feed(t, KOBJ_REPLICASET, j, deleted, !deleted);
}

static void feed_rs(struct track *t, const char *ns, const char *name, const char *owner_kind, const char *owner,
		    const char *images, int64_t rev, const char *rev_ann)
{
	rs_event(t, ns, name, owner_kind, owner, images, rev, rev_ann, false);
}

/* ---- fixtures: YAML objects to JSON ---- */

static char *slurp(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", fixtures_dir(), rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void yaml_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void yaml_json(FILE *out, yaml_document_t *d, yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE) {
		fputc('{', out);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			if (p != n->data.mapping.pairs.start)
				fputc(',', out);
			yaml_json_str(out, (const char *)yaml_document_get_node(d, p->key)->data.scalar.value);
			fputc(':', out);
			yaml_json(out, d, yaml_document_get_node(d, p->value));
		}
		fputc('}', out);
	} else if (n->type == YAML_SEQUENCE_NODE) {
		fputc('[', out);
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
			if (i != n->data.sequence.items.start)
				fputc(',', out);
			yaml_json(out, d, yaml_document_get_node(d, *i));
		}
		fputc(']', out);
	} else {
		const char *v = (const char *)n->data.scalar.value;
		bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		bool num = *v != '\0' && strspn(v + (*v == '-'), "0123456789") == strlen(v + (*v == '-'));
		if (plain && (num || !strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "null")))
			fputs(v, out);
		else
			yaml_json_str(out, v);
	}
}

/* The fixture (one YAML document) as compact JSON: "key":value, no spaces. */
static char *fixture_json(const char *rel)
{
	char *y = slurp(rel);
	yaml_parser_t p;
	yaml_document_t d;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)y, strlen(y));
	if (!yaml_parser_load(&p, &d) || !yaml_document_get_root_node(&d)) {
		fprintf(stderr, "%s: not YAML\n", rel);
		exit(2);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	yaml_json(out, &d, yaml_document_get_root_node(&d));
	fclose(out);
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	free(y);
	return buf;
}

/* s with every `from` replaced by `to` (which must occur: the fixture is what the test expects). */
static char *subst(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	for (const char *p = s; (p = strstr(p, from)); p += fl)
		n++;
	if (n == 0)
		fprintf(stderr, "subst: \"%s\" not in the object\n", from);
	CHECK(n > 0);
	char *r = malloc(strlen(s) + n * tl + 1), *w = r;
	const char *p = s, *q;
	while ((q = strstr(p, from))) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, to, tl);
		w += tl;
		p = q + fl;
	}
	strcpy(w, p);
	free(s);
	return r;
}

/* ---- the tests ---- */

static void test_names(void)
{
	CHECK_INT(strategy_parse("bigbang"), ST_BIGBANG);
	CHECK_INT(strategy_parse("big-bang"), ST_BIGBANG);
	CHECK_INT(strategy_parse("recreate"), ST_BIGBANG);
	CHECK_INT(strategy_parse("rolling"), ST_ROLLING);
	CHECK_INT(strategy_parse("canary"), ST_CANARY);
	CHECK_INT(strategy_parse("bluegreen"), ST_BLUEGREEN);
	CHECK_INT(strategy_parse("blue-green"), ST_BLUEGREEN);
	CHECK_INT(strategy_parse("Canary"), ST_CANARY); /* the annotation is typed: plugins/common/deploy_strategy.c */
	CHECK_INT(strategy_parse(""), -1);
	CHECK_STR(strategy_name(ST_BLUEGREEN), "bluegreen");
	CHECK_STR(phase_name(PH_ROLLED_BACK), "rolled_back");
	CHECK_STR(phase_name(PH_PROMOTED), "promoted");
}

/* kubectl set image on a RollingUpdate Deployment, every write the
 * deployment controller makes as its own watch event: the spec write (old
 * status, observedGeneration behind), the controller's update that sets the
 * new revision annotation, progress, completion; then a resync and a scale,
 * which are no deploys. started waits for the new revision's number and
 * keeps the time of the spec write. */
static void test_rolling(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "web", .image = "registry.example/shop/web:1.0", .gen = 1, .rev = 1,
			 .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST); /* running before: recorded by an earlier leader */
	CHECK_INT(npts, 0);

	d.image = "registry.example/shop/web:1.1", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0); /* the controller has not numbered the new revision yet: started waits */

	/* The controller's update: revision 2, NewReplicaSetCreated, observedGeneration still 1. */
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 11;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started");
	CHECK_PT(0, AT(10), -1, -1); /* the time of the spec write */
	CHECK_STR(pts[0].ns, "shop");
	CHECK_STR(pts[0].message, "");
	CHECK_STR(pts[0].image, "registry.example/shop/web:1.1");
	CHECK_STR(pts[0].version, "1.1");
	CHECK_INT(pts[0].revision, 2); /* the revision being rolled out, as on completed */

	d.observed = 2, d.updated = 1, d.available = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 15;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started; Deployment/web rolling progressing");
	CHECK_PT(1, AT(15), -1, -1);
	CHECK_INT(pts[1].revision, 2);
	CHECK_INT(pts[1].updated, 1);
	CHECK_STR(pts[1].message, "ReplicaSet \"web-2\" is progressing.");

	d.updated = 2, d.t_cond = 25;
	feed_dep(t, &d, WATCH);
	d.updated = 3, d.reason = "NewReplicaSetAvailable", d.t_cond = 42;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/web rolling started; Deployment/web rolling progressing; "
			 "Deployment/web rolling completed");
	CHECK_PT(2, AT(42), -1, 32.0);
	CHECK_STR(pts[2].kind, "Deployment");
	CHECK_STR(pts[2].message, "ReplicaSet \"web-2\" has successfully progressed.");
	CHECK_INT(pts[2].revision, 2);
	CHECK_INT(pts[2].replicas, 3);
	CHECK_INT(pts[2].updated, 3);
	CHECK_INT(pts[2].available, 3);
	CHECK_INT(pts[2].unavailable, 0);
	CHECK_STR(pts[2].image, "registry.example/shop/web:1.1"); /* the first container's */

	/* The same state again (a resync), then a scale to 5: no deploy. */
	feed_dep(t, &d, WATCH);
	d.gen = 3, d.replicas = 5, d.t_spec = 100;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.updated = 5, d.available = 3, d.unavailable = 2, d.reason = "ReplicaSetUpdated", d.t_cond = 101;
	feed_dep(t, &d, WATCH);
	d.available = 5, d.unavailable = 0, d.reason = "NewReplicaSetAvailable", d.t_cond = 110;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);
	track_free(t);
}

/* Recreate, and the heliograph.io/strategy annotation over the Deployment's own strategy. */
static void test_bigbang_and_annotation(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep bb = { .ns = "shop", .name = "bb", .image = "shop/bb:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable", .recreate = true,
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &bb, LIST);
	bb.image = "shop/bb:2.0", bb.gen = 2, bb.rev = 2, bb.t_spec = 20;
	feed_dep(t, &bb, WATCH);
	/* Recreate: every old pod goes first. */
	bb.observed = 2, bb.updated = 0, bb.available = 0, bb.reason = "ReplicaSetUpdated", bb.t_cond = 21;
	feed_dep(t, &bb, WATCH);
	bb.updated = 2, bb.available = 2, bb.reason = "NewReplicaSetAvailable", bb.t_cond = 50;
	feed_dep(t, &bb, WATCH);
	CHECK_STR(seq(), "Deployment/bb bigbang started; Deployment/bb bigbang progressing; Deployment/bb bigbang completed");
	CHECK_PT(0, AT(20), -1, -1);
	CHECK_PT(1, AT(21), -1, -1);
	CHECK_INT(pts[1].available, 0);
	CHECK_INT(pts[1].unavailable, 2); /* replicas - available when the API leaves it out */
	CHECK_PT(2, AT(50), -1, 30.0);
	CHECK_STR(pts[2].version, "2.0");

	/* A RollingUpdate Deployment annotated bigbang; one annotated canary (weight 0 until done). */
	reset();
	struct dep lg = { .ns = "shop", .name = "legacy", .image = "shop/legacy:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .ann = "\"heliograph.io/strategy\":\"bigbang\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &lg, LIST);
	lg.image = "shop/legacy:2.0", lg.gen = 2, lg.rev = 2, lg.t_spec = 30;
	feed_dep(t, &lg, WATCH);
	lg.observed = 2, lg.t_cond = 40;
	feed_dep(t, &lg, WATCH); /* completes at once: no progressing seen */
	CHECK_STR(seq(), "Deployment/legacy bigbang started; Deployment/legacy bigbang completed");
	CHECK_PT(1, AT(40), -1, 10.0);

	reset();
	struct dep ca = { .ns = "shop", .name = "solo", .image = "shop/solo:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .ann = "\"heliograph.io/strategy\":\"canary\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &ca, LIST);
	ca.image = "shop/solo:2.0", ca.gen = 2, ca.rev = 2, ca.t_spec = 60;
	feed_dep(t, &ca, WATCH);
	ca.observed = 2, ca.updated = 1, ca.available = 0, ca.reason = "ReplicaSetUpdated", ca.t_cond = 61;
	feed_dep(t, &ca, WATCH);
	ca.available = 1, ca.reason = "NewReplicaSetAvailable", ca.t_cond = 70;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Deployment/solo canary started; Deployment/solo canary progressing; Deployment/solo canary completed");
	CHECK_PT(0, AT(60), 0, -1);
	CHECK_PT(1, AT(61), 0, -1);
	CHECK_PT(2, AT(70), 100, 10.0);
	track_free(t);
}

/* A rollout that hits its progress deadline, then kubectl rollout undo:
 * one deploy, started, progressing, failed, rolled_back. */
static void test_failed_then_undo(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "fail", .image = "shop/fail:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/fail:2.0", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 10;
	feed_dep(t, &d, WATCH);
	d.observed = 2, d.updated = 1, d.available = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 12;
	feed_dep(t, &d, WATCH);
	d.reason = "ProgressDeadlineExceeded", d.cstatus = "False", d.t_cond = 612;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/fail rolling started; Deployment/fail rolling progressing; Deployment/fail rolling failed");
	CHECK_PT(2, AT(612), -1, 602.0);
	CHECK_STR(pts[2].message, "ReplicaSet \"fail-2\" has timed out progressing.");
	CHECK_INT(pts[2].updated, 1);
	/* Still stuck: nothing more. */
	d.t_cond = 700;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);

	/* kubectl rollout undo: the 1.0 template comes back as revision 3. */
	d.image = "shop/fail:1.0", d.gen = 3, d.t_spec = 720;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.cstatus = NULL, d.reason = "NewReplicaSetCreated", d.t_cond = 720;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.reason = "ReplicaSetUpdated", d.t_cond = 721;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 3);
	d.updated = 3, d.reason = "NewReplicaSetAvailable", d.t_cond = 750;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/fail rolling started; Deployment/fail rolling progressing; Deployment/fail rolling failed; "
			 "Deployment/fail rolling rolled_back");
	CHECK_PT(3, AT(750), -1, 740.0);
	CHECK_INT(pts[3].revision, 3);
	CHECK_STR(pts[3].image, "shop/fail:1.0");
	CHECK_STR(pts[3].message, "ReplicaSet \"fail-3\" has successfully progressed.");
	track_free(t);
}

/* A new leader: the ReplicaSets are listed before their Deployment, which
 * runs revision 2; kubectl rollout undo brings back revision 1's template,
 * known only from its ReplicaSet: a deploy that ends rolled_back. A later
 * new image is a normal deploy. */
static void test_undo_from_replicaset_history(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_rs(t, "shop", "api-7d4b9c", "Deployment", "api", "shop/api:1.0,fluent/fluent-bit:3.0", 1,
		"deployment.kubernetes.io/revision");
	feed_rs(t, "shop", "api-5f6d8e", "Deployment", "api", "shop/api:1.1,fluent/fluent-bit:3.0", 2,
		"deployment.kubernetes.io/revision");
	struct dep d = { .ns = "shop", .name = "api", .image = "shop/api:1.1", .gen = 2, .rev = 2, .observed = 2,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -300, .t_cond = -290 };
	feed_dep(t, &d, LIST);
	CHECK_INT(npts, 0);
	/* The controller reuses revision 1's ReplicaSet and renumbers it 3; its
	 * watch delivers that before the Deployment's watch delivers the undo. */
	feed_rs(t, "shop", "api-7d4b9c", "Deployment", "api", "shop/api:1.0,fluent/fluent-bit:3.0", 3,
		"deployment.kubernetes.io/revision");
	d.image = "shop/api:1.0", d.gen = 3, d.t_spec = 100;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.reason = "NewReplicaSetCreated", d.t_cond = 100;
	feed_dep(t, &d, WATCH);
	d.observed = 3, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 105;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 130;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/api rolling started; Deployment/api rolling progressing; Deployment/api rolling rolled_back");
	CHECK_PT(0, AT(100), -1, -1);
	CHECK_PT(2, AT(130), -1, 30.0);

	/* 1.2 was never deployed: completed. */
	d.image = "shop/api:1.2", d.gen = 4, d.t_spec = 200;
	feed_dep(t, &d, WATCH);
	d.rev = 4, d.observed = 4, d.updated = 2, d.t_cond = 230;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(3), "Deployment/api rolling started; Deployment/api rolling completed");
	CHECK_PT(4, AT(230), -1, 30.0);
	track_free(t);
}

/* A rollout that never finishes (the new pods never become ready and the
 * progress deadline is far): started and progressing only, however many
 * status updates follow; the next revision is a deploy of its own, timed
 * from its own start. */
static void test_never_finishes(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "stuck", .image = "shop/stuck:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 4, .updated = 4, .available = 4, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/stuck:2.0", d.gen = 2, d.t_spec = 10;
	feed_dep(t, &d, WATCH);
	d.rev = 2, d.observed = 2, d.updated = 1, d.available = 3, d.unavailable = 2, d.reason = "ReplicaSetUpdated",
	d.t_cond = 12;
	for (int i = 0; i < 20; i++) {
		now_ns = AT(20 + i);
		feed_dep(t, &d, WATCH);
	}
	CHECK_STR(seq(), "Deployment/stuck rolling started; Deployment/stuck rolling progressing");
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_INT(pts[1].unavailable, 2);

	d.image = "shop/stuck:2.1", d.gen = 3, d.t_spec = 1000;
	feed_dep(t, &d, WATCH);
	d.rev = 3, d.observed = 3, d.updated = 4, d.available = 4, d.unavailable = 0, d.reason = "NewReplicaSetAvailable",
	d.t_cond = 1010;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(2), "Deployment/stuck rolling started; Deployment/stuck rolling completed");
	CHECK_PT(2, AT(1000), -1, -1);
	CHECK_PT(3, AT(1010), -1, 10.0);
	now_ns = AT(5000);
	track_free(t);
}

/* progressDeadlineSeconds: 2147483647 turns progress checking off and the
 * controller drops the Progressing condition: the replica counts decide,
 * times are when the change was seen, and a re-list by a new leader does
 * not record again what happened before it. */
static void test_no_progress_deadline(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(100));
	struct dep d = { .ns = "shop", .name = "nodl", .image = "shop/nodl:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 3, .updated = 3, .available = 3, .t_spec = -600 };
	now_ns = AT(150);
	feed_dep(t, &d, LIST);
	CHECK_STR(seq(), "");
	/* Listed mid-rollout, started after the earlier leader's last record: new. */
	struct dep n = { .ns = "shop", .name = "nodl2", .image = "shop/nodl2:2.0", .gen = 2, .rev = 2, .observed = 2,
			 .replicas = 3, .updated = 1, .available = 3, .t_spec = 120 };
	feed_dep(t, &n, LIST);
	CHECK_STR(seq(), "Deployment/nodl2 rolling started; Deployment/nodl2 rolling progressing");
	CHECK_PT(0, AT(120), -1, -1);
	CHECK_PT(1, AT(150), -1, -1);

	d.image = "shop/nodl:2.0", d.gen = 2, d.t_spec = 200;
	now_ns = AT(201);
	feed_dep(t, &d, WATCH);
	/* maxSurge 1, maxUnavailable 0: 3 old pods still available, 1 updated: not done. */
	d.rev = 2, d.observed = 2, d.updated = 1;
	now_ns = AT(210);
	feed_dep(t, &d, WATCH);
	d.updated = 3;
	now_ns = AT(240);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(2), "Deployment/nodl rolling started; Deployment/nodl rolling progressing; "
			       "Deployment/nodl rolling completed");
	CHECK_PT(2, AT(200), -1, -1);
	CHECK_PT(3, AT(210), -1, -1);
	CHECK_PT(4, AT(240), -1, 40.0);
	CHECK_STR(pts[4].message, "");
	now_ns = AT(5000);
	track_free(t);
}

/* kubectl rollout restart: the template changes (an annotation), not the
 * images; the deploy starts when the controller numbers the new revision,
 * timed from the restart's write. */
static void test_restart(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "rs", .image = "shop/rs:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.gen = 2, d.t_spec = 30;
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	d.rev = 2, d.reason = "NewReplicaSetCreated", d.t_cond = 31;
	feed_dep(t, &d, WATCH);
	d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 32;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 50;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/rs rolling started; Deployment/rs rolling progressing; Deployment/rs rolling completed");
	CHECK_PT(0, AT(30), -1, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_PT(2, AT(50), -1, 20.0);
	track_free(t);
}

/* The watch of Deployments ends with 410 Gone and lists again while the
 * ReplicaSet watch already delivered the new ReplicaSet: the Deployment's
 * newest state comes in one event. A new revision, not a rollback. */
static void test_relist_after_gone(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "gone", .image = "shop/gone:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	feed_rs(t, "shop", "gone-66f7c", "Deployment", "gone", "shop/gone:2.0,fluent/fluent-bit:3.0", 2,
		"deployment.kubernetes.io/revision");
	d.image = "shop/gone:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated",
	d.t_spec = 10, d.t_cond = 12;
	feed_dep(t, &d, LIST);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 20;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/gone rolling started; Deployment/gone rolling progressing; Deployment/gone rolling completed");
	CHECK_PT(2, AT(20), -1, 10.0);
	track_free(t);
}

/* The condition's time (the controller's clock) before the spec write's
 * (the API server's): the duration is 0, never negative. */
static void test_clock_skew(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "skew", .image = "shop/skew:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/skew:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.t_spec = 60, d.t_cond = 58;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/skew rolling started; Deployment/skew rolling completed");
	CHECK_PT(1, AT(58), -1, 0.0);
	track_free(t);
}

/* A new leader lists objects. Phases older than the previous leader's
 * recorded-until time are not emitted again, but a rollout under way goes
 * on and its end gets the duration from its real start; rollouts after that
 * time are emitted from the list; watch events are always new. */
static void test_relist_by_new_leader(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(100));
	struct dep mid = { .ns = "shop", .name = "mid", .image = "shop/mid:2.0", .gen = 2, .rev = 2, .observed = 2,
			   .replicas = 3, .updated = 1, .available = 2, .reason = "ReplicaSetUpdated",
			   .t_spec = 50, .t_cond = 60 };
	feed_dep(t, &mid, LIST);
	struct dep late = { .ns = "shop", .name = "late", .image = "shop/late:2.0", .gen = 2, .rev = 2, .observed = 2,
			    .replicas = 3, .updated = 1, .available = 2, .reason = "ReplicaSetUpdated",
			    .t_spec = 110, .t_cond = 120 };
	feed_dep(t, &late, LIST);
	CHECK_STR(seq(), "Deployment/late rolling started; Deployment/late rolling progressing");
	CHECK_PT(0, AT(110), -1, -1);
	CHECK_PT(1, AT(120), -1, -1);

	mid.updated = 3, mid.available = 3, mid.reason = "NewReplicaSetAvailable", mid.t_cond = 130;
	feed_dep(t, &mid, WATCH);
	CHECK_STR(seq_from(2), "Deployment/mid rolling completed");
	CHECK_PT(2, AT(130), -1, 80.0);

	/* Created and seen on the watch, with API times before skip_before: emitted. */
	struct dep fresh = { .ns = "shop", .name = "fresh", .image = "shop/fresh:1.0", .gen = 1, .rev = 1,
			     .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			     .t_spec = 20, .t_cond = 30 };
	feed_dep(t, &fresh, WATCH);
	CHECK_STR(seq_from(3), "Deployment/fresh rolling started; Deployment/fresh rolling completed");
	CHECK_PT(4, AT(30), -1, 10.0);
	track_free(t);

	/* kind's real coredns Deployment (created 04:14:45, available 04:15:05). */
	char *list = slurp("k8s-api/deployments/kind-v1.36-deploymentlist-kube-system.json");
	char *item = strstr(list, "{\"metadata\":{\"name\":\"coredns\"");
	CHECK(item != NULL);
	if (!item)
		return;
	char *end = strrchr(item, ']'); /* the list's "]}" */
	if (end)
		*end = '\0';
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1781496886)); /* recorded past its creation: only the end is new */
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_STR(seq(), "Deployment/coredns rolling completed");
	CHECK_PT(0, EPOCH(1781496905), -1, 20.0);
	CHECK_STR(pts[0].ns, "kube-system");
	CHECK_STR(pts[0].image, "registry.k8s.io/coredns/coredns:v1.14.2");
	CHECK_STR(pts[0].version, "v1.14.2");
	CHECK_INT(pts[0].revision, 1);
	CHECK_INT(pts[0].replicas, 2);
	CHECK_INT(pts[0].available, 2);
	CHECK_STR(pts[0].message, "ReplicaSet \"coredns-589f44dc88\" has successfully progressed.");
	track_free(t);
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1781496906));
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_INT(npts, 0);
	track_free(t);
	reset();
	t = track_new(on_point, NULL); /* no earlier leader: everything the list shows */
	feed(t, KOBJ_DEPLOYMENT, item, false, true);
	CHECK_STR(seq(), "Deployment/coredns rolling started; Deployment/coredns rolling completed");
	CHECK_PT(0, EPOCH(1781496885), -1, -1);
	track_free(t);
	free(list);
}

/* A canary Deployment (track=canary) beside the stable one behind Service
 * api: the deploy is the Service's; the weight is canary pods over all pods. */
static void test_canary_pair(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"stable\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	CHECK_INT(npts, 0);

	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 0, .reason = "ReplicaSetUpdated",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	CHECK_PT(0, AT(10), 25, -1); /* 1 canary pod of 4 */
	CHECK_PT(1, AT(12), 25, -1);
	CHECK_STR(pts[0].image, "shop/api:2.0");
	CHECK_STR(pts[0].ns, "shop");
	CHECK_INT(pts[1].replicas, 1);
	ca.available = 1, ca.reason = "NewReplicaSetAvailable", ca.t_cond = 20;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 2);

	/* Promotion: the stable Deployment takes the canary's image; promoted
	 * waits for the stable's new revision number, timed at its spec write. */
	st.image = "shop/api:2.0", st.gen = 2, st.t_spec = 100;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	st.rev = 2, st.reason = "NewReplicaSetCreated", st.t_cond = 100;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(2), "Service/api canary promoted");
	CHECK_PT(2, AT(100), 100, -1);
	CHECK_INT(pts[2].revision, 2);
	CHECK_STR(pts[2].image, "shop/api:2.0");
	st.observed = 2, st.updated = 1, st.reason = "ReplicaSetUpdated", st.t_cond = 101;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 3);
	st.updated = 3, st.reason = "NewReplicaSetAvailable", st.t_cond = 130;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(3), "Service/api canary completed");
	CHECK_PT(3, AT(130), 100, 120.0);
	CHECK_INT(pts[3].revision, 2);
	CHECK_STR(pts[3].message, "ReplicaSet \"api-2\" has successfully progressed.");
	/* The canary is scaled away afterwards: no deploy. */
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 140;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 4);

	/* The next canary fails its progress deadline. */
	ca.image = "shop/api:3.0", ca.gen = 3, ca.rev = 2, ca.observed = 3, ca.replicas = 1, ca.updated = 1,
	ca.reason = "ReplicaSetUpdated", ca.t_spec = 200, ca.t_cond = 201;
	feed_dep(t, &ca, WATCH);
	ca.reason = "ProgressDeadlineExceeded", ca.cstatus = "False", ca.t_cond = 801;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(4), "Service/api canary started; Service/api canary progressing; Service/api canary failed");
	CHECK_PT(4, AT(200), 25, -1);
	CHECK_PT(6, AT(801), 25, 601.0);
	CHECK_STR(pts[6].message, "ReplicaSet \"api-canary-2\" has timed out progressing.");
	/* ... and is scaled to 0: nothing more (it failed; it is not promoted). */
	ca.gen = 4, ca.observed = 4, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.cstatus = NULL,
	ca.reason = "NewReplicaSetAvailable", ca.t_spec = 900, ca.t_cond = 900;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(7), "Service/api canary rolled_back");
	CHECK_PT(7, AT(900), 0, 700.0);
	track_free(t);
}

/* A canary abandoned before promotion: scaled to 0, or deleted. */
static void test_canary_abandoned(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "cart", "{\"app\":\"cart\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "cart", .image = "shop/cart:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 9, .updated = 9, .available = 9, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep ca = { .ns = "shop", .name = "cart-canary", .image = "shop/cart:2.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"cart\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 15 };
	feed_dep(t, &ca, WATCH);
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 70;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/cart canary started; Service/cart canary progressing; Service/cart canary rolled_back");
	CHECK_PT(0, AT(10), 10, -1);
	CHECK_PT(1, AT(15), 10, -1);
	CHECK_PT(2, AT(70), 0, 60.0);

	/* Up again with a new image, then kubectl delete: rolled_back when the deletion is seen. */
	ca.image = "shop/cart:2.1", ca.gen = 3, ca.rev = 2, ca.observed = 3, ca.replicas = 1, ca.updated = 1,
	ca.available = 1, ca.t_spec = 100, ca.t_cond = 104;
	feed_dep(t, &ca, WATCH);
	now_ns = AT(160);
	delete_dep(t, &ca);
	now_ns = AT(5000);
	CHECK_STR(seq_from(3), "Service/cart canary started; Service/cart canary progressing; Service/cart canary rolled_back");
	CHECK_PT(5, AT(160), 0, 60.0);
	/* Deleted objects give nothing more; the stable is tracked on its own again. */
	delete_dep(t, &ca);
	st.image = "shop/cart:1.1", st.gen = 2, st.rev = 2, st.observed = 2, st.t_spec = 300, st.t_cond = 320;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(6), "Deployment/cart rolling started; Deployment/cart rolling completed");
	track_free(t);
}

/* Out of order: a canary Deployment seen before its Service or before the
 * stable one is tracked on its own (kind Deployment); once both are known
 * the next canary is the Service's. */
static void test_canary_out_of_order(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep ca = { .ns = "shop", .name = "pay-canary", .image = "shop/pay:2.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 0, .reason = "ReplicaSetUpdated",
			  .labels = "{\"app\":\"pay\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 11 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Deployment/pay-canary canary started; Deployment/pay-canary canary progressing");
	CHECK_PT(0, AT(10), 0, -1);
	feed_svc(t, "pay", "{\"app\":\"pay\"}", NULL, 20, false, WATCH);
	struct dep st = { .ns = "shop", .name = "pay", .image = "shop/pay:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	CHECK_INT(npts, 2);
	/* The stable deleted: the canary's next image is its own deploy again. */
	delete_dep(t, &st);
	ca.image = "shop/pay:2.0.1", ca.gen = 2, ca.rev = 2, ca.observed = 2, ca.t_spec = 30, ca.t_cond = 31;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(2), "Deployment/pay-canary canary started; Deployment/pay-canary canary progressing");
	/* The stable back: the next canary is the Service's. */
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(4), "Deployment/pay rolling started; Deployment/pay rolling completed");
	ca.image = "shop/pay:2.1", ca.gen = 3, ca.rev = 3, ca.observed = 3, ca.t_spec = 50, ca.t_cond = 51;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq_from(6), "Service/pay canary started; Service/pay canary progressing");
	CHECK_PT(6, AT(50), 25, -1);
	track_free(t);
}

/* Around a canary pair: a hotfix of the stable that is not the canary's
 * image is no promotion; the canary scaled away after promotion is no
 * rollback; the stable failing after promotion fails the deploy; another
 * Deployment behind the Service annotated rolling, one without the
 * Service's labels, and one of the same labels in another namespace are
 * deploys of their own. */
static void test_canary_pair_edges(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep wk = { .ns = "shop", .name = "api-worker", .image = "shop/worker:1.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"role\":\"worker\"}",
			  .ann = "\"heliograph.io/strategy\":\"rolling\"", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &wk, LIST);
	struct dep gone = { .ns = "shop", .name = "api-v0", .image = "shop/api:0.9", .gen = 1, .rev = 1, .observed = 1,
			    .replicas = 4, .updated = 4, .available = 4, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"api\",\"release\":\"v0\"}", .t_spec = -900, .t_cond = -890 };
	feed_dep(t, &gone, LIST);
	delete_dep(t, &gone); /* its pods no longer count */
	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = 10, .t_cond = 14 };
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	CHECK_PT(0, AT(10), 20, -1); /* 1 of 1 + 3 + 1 (the worker is selected too) */

	/* A hotfix of the stable during the canary: not the canary's image. */
	st.image = "shop/api:1.0.1", st.gen = 2, st.rev = 2, st.observed = 2, st.t_spec = 20, st.t_cond = 25;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	/* The annotated worker rolls on its own meanwhile. */
	wk.image = "shop/worker:1.1", wk.gen = 2, wk.rev = 2, wk.observed = 2, wk.t_spec = 30, wk.t_cond = 35;
	feed_dep(t, &wk, WATCH);
	CHECK_STR(seq_from(2), "Deployment/api-worker rolling started; Deployment/api-worker rolling completed");
	CHECK_PT(3, AT(35), -1, 5.0);

	/* Promotion; the canary scaled away before the stable is done: still promoted. */
	st.image = "shop/api:2.0", st.gen = 3, st.rev = 3, st.observed = 2, st.t_spec = 40;
	feed_dep(t, &st, WATCH);
	ca.gen = 2, ca.observed = 2, ca.replicas = 0, ca.updated = 0, ca.available = 0, ca.t_spec = 41;
	feed_dep(t, &ca, WATCH);
	st.observed = 3, st.updated = 1, st.reason = "ReplicaSetUpdated", st.t_cond = 42;
	feed_dep(t, &st, WATCH);
	st.reason = "ProgressDeadlineExceeded", st.cstatus = "False", st.t_cond = 642;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(4), "Service/api canary promoted; Service/api canary failed");
	CHECK_PT(4, AT(40), 100, -1);
	CHECK_PT(5, AT(642), 100, 632.0);
	CHECK_STR(pts[5].message, "ReplicaSet \"api-3\" has timed out progressing.");

	/* Same labels, other namespace: not behind Service shop/api. */
	struct dep other = ca;
	other.ns = "other", other.gen = 1, other.rev = 1, other.observed = 1, other.replicas = 1, other.updated = 1,
	other.available = 1, other.t_spec = 700, other.t_cond = 705;
	feed_dep(t, &other, WATCH);
	CHECK_STR(seq_from(6), "Deployment/api-canary canary started; Deployment/api-canary canary completed");
	CHECK_STR(pts[6].ns, "other");
	track_free(t);

	/* Blue-green Service: a Deployment with its app label but no color is not one of the pair;
	 * a new color created scaled to 0 starts nothing. */
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "bg", "{\"app\":\"bg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep mig = { .ns = "shop", .name = "bg-migrate", .image = "shop/bg-migrate:1.0", .gen = 1, .rev = 1,
			   .observed = 1, .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			   .labels = "{\"app\":\"bg\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &mig, WATCH);
	CHECK_STR(seq(), "Deployment/bg-migrate rolling started; Deployment/bg-migrate rolling completed");
	struct dep gr = { .ns = "shop", .name = "bg-green", .image = "shop/bg:2.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 0, .updated = 0, .available = 0, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"bg\",\"color\":\"green\"}", .t_spec = 20, .t_cond = 21 };
	feed_dep(t, &gr, WATCH);
	CHECK_INT(npts, 2);
	track_free(t);
}

/* Two Deployments (color blue, green) behind Service shopbg: green comes
 * up, the selector switches to it (promoted, completed), switches back
 * (rolled_back), and forward again (a new deploy). */
static void test_bluegreen_pair(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "shopbg-blue", .image = "shop/bg:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"shopbg\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &blue, LIST);
	CHECK_INT(npts, 0);
	struct dep green = { .ns = "shop", .name = "shopbg-green", .image = "shop/bg:2.0", .gen = 1, .rev = 1,
			     .observed = 1, .replicas = 3, .updated = 3, .available = 1, .reason = "ReplicaSetUpdated",
			     .labels = "{\"app\":\"shopbg\",\"color\":\"green\"}", .t_spec = 10, .t_cond = 12 };
	feed_dep(t, &green, WATCH);
	green.available = 3, green.reason = "NewReplicaSetAvailable", green.t_cond = 30;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq(), "Service/shopbg bluegreen started; Service/shopbg bluegreen progressing");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_STR(pts[0].version, "2.0");

	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"green\"}", NULL, 60, false, WATCH);
	CHECK_STR(seq_from(2), "Service/shopbg bluegreen promoted; Service/shopbg bluegreen completed");
	CHECK_PT(2, AT(60), -1, -1);
	CHECK_PT(3, AT(60), -1, 50.0);
	CHECK_STR(pts[3].image, "shop/bg:2.0");
	CHECK_STR(pts[3].ns, "shop");

	/* Switched back to blue. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, 90, false, WATCH);
	CHECK_STR(seq_from(4), "Service/shopbg bluegreen rolled_back");
	CHECK_PT(4, AT(90), -1, 80.0);
	CHECK_STR(pts[4].image, "shop/bg:1.0");

	/* And to green again: traffic moves to the new version, a deploy. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"green\"}", NULL, 120, false, WATCH);
	CHECK_STR(seq_from(5), "Service/shopbg bluegreen started; Service/shopbg bluegreen promoted; "
			       "Service/shopbg bluegreen completed");
	CHECK_PT(5, AT(120), -1, -1);
	CHECK_PT(7, AT(120), -1, 0.0);
	/* Back to blue: that deploy is rolled back. */
	feed_svc(t, "shopbg", "{\"app\":\"shopbg\",\"color\":\"blue\"}", NULL, 150, false, WATCH);
	CHECK_STR(seq_from(8), "Service/shopbg bluegreen rolled_back");
	CHECK_PT(8, AT(150), -1, 30.0);

	/* A new green that fails before any switch. */
	green.image = "shop/bg:3.0", green.gen = 2, green.rev = 2, green.observed = 2, green.available = 2,
	green.reason = "ReplicaSetUpdated", green.t_spec = 200, green.t_cond = 201;
	feed_dep(t, &green, WATCH);
	green.reason = "ProgressDeadlineExceeded", green.cstatus = "False", green.t_cond = 801;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq_from(9), "Service/shopbg bluegreen started; Service/shopbg bluegreen progressing; "
			       "Service/shopbg bluegreen failed");
	CHECK_PT(11, AT(801), -1, 601.0);
	track_free(t);
}

/* Selectors on "version", or on "slot" with the annotation; a switch to a
 * value no Deployment has yet; a deleted Service. */
static void test_bluegreen_selectors(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "cat", "{\"app\":\"cat\",\"version\":\"v1\"}", NULL, -3000, false, LIST);
	/* A switch to v2 before any v2 Deployment exists: the Service's own namespace. */
	feed_svc(t, "cat", "{\"app\":\"cat\",\"version\":\"v2\"}", NULL, 40, false, WATCH);
	CHECK_STR(seq(), "Service/cat bluegreen started; Service/cat bluegreen promoted");
	CHECK_PT(0, AT(40), -1, -1);
	CHECK_PT(1, AT(40), -1, -1);
	CHECK_STR(pts[0].ns, "shop");
	CHECK_STR(pts[1].ns, "shop");
	CHECK_STR(pts[1].image, "");

	/* "slot" only counts with the annotation. */
	reset();
	feed_svc(t, "dog", "{\"app\":\"dog\",\"slot\":\"a\"}", NULL, -3000, false, LIST);
	feed_svc(t, "dog", "{\"app\":\"dog\",\"slot\":\"b\"}", NULL, 50, false, WATCH);
	CHECK_INT(npts, 0);
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"a\"}", "\"heliograph.io/strategy\":\"bluegreen\"", -3000, false,
		 LIST);
	struct dep b = { .ns = "shop", .name = "eel-b", .image = "shop/eel:2.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .labels = "{\"app\":\"eel\",\"slot\":\"b\"}", .t_spec = 60, .t_cond = 65 };
	feed_dep(t, &b, WATCH);
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"b\"}", "\"heliograph.io/strategy\":\"bluegreen\"", 70, false, WATCH);
	CHECK_STR(seq(), "Service/eel bluegreen started; Service/eel bluegreen progressing; Service/eel bluegreen promoted; "
			 "Service/eel bluegreen completed");
	CHECK_PT(3, AT(70), -1, 10.0);

	/* Service deleted: its Deployments are tracked on their own. */
	reset();
	feed_svc(t, "eel", "{\"app\":\"eel\",\"slot\":\"b\"}", NULL, 80, true, WATCH);
	b.image = "shop/eel:2.1", b.gen = 2, b.rev = 2, b.observed = 2, b.t_spec = 90, b.t_cond = 95;
	feed_dep(t, &b, WATCH);
	CHECK_STR(seq(), "Deployment/eel-b rolling started; Deployment/eel-b rolling completed");
	track_free(t);
}

/* Deleted mid-rollout: nothing more; created again: a new deploy. */
static void test_deleted(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "tmp", .image = "shop/tmp:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	d.image = "shop/tmp:2.0", d.gen = 2, d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated",
	d.t_spec = 10, d.t_cond = 11;
	feed_dep(t, &d, WATCH);
	delete_dep(t, &d);
	delete_dep(t, &d); /* twice: no effect */
	CHECK_STR(seq(), "Deployment/tmp rolling started; Deployment/tmp rolling progressing");
	/* The same name created again, at 2.0: its first rollout. */
	struct dep n = { .ns = "shop", .name = "tmp", .image = "shop/tmp:2.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = 100, .t_cond = 108 };
	feed_dep(t, &n, WATCH);
	CHECK_STR(seq_from(2), "Deployment/tmp rolling started; Deployment/tmp rolling completed");
	CHECK_PT(3, AT(108), -1, 8.0);
	/* A deleted object never seen: ignored. */
	struct dep ghost = n;
	ghost.name = "ghost";
	delete_dep(t, &ghost);
	feed_svc(t, "ghost", "{\"app\":\"ghost\"}", NULL, 0, true, WATCH);
	CHECK_INT(npts, 4);
	track_free(t);
}

/* The real Argo Rollouts objects (fixtures), each after a "before" state
 * (previous image, fully rolled out) seen in the list. */
static char *argo_before(const char *rel, const char *image, const char *image_before, const char *hash,
			 const char *stable)
{
	char *j = fixture_json(rel);
	j = subst(j, image, image_before);
	char a[128], b[128];
	snprintf(a, sizeof a, "\"currentPodHash\":\"%s\"", hash);
	snprintf(b, sizeof b, "\"currentPodHash\":\"%s\"", stable);
	return subst(j, a, b);
}

static void test_argo_canary(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1572238400)); /* after everything the list shows */
	const char *rel = "k8s-api/argo-rollouts/canary/canary-rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:does-not-exist", "argoproj/rollouts-demo:blue",
				   "65fb5ffc84", "877894d5b");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	reset();
	char *real = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, real, false, false);
	/* Started at creationTimestamp (no managedFields), failed at the condition's time. */
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary failed");
	CHECK_PT(0, EPOCH(1571983638), 20, -1);
	CHECK_PT(1, EPOCH(1572238375), 20, 254737.0);
	CHECK_STR(pts[1].ns, "jesse-test");
	CHECK_STR(pts[1].message, "ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.");
	CHECK_STR(pts[1].image, "argoproj/rollouts-demo:does-not-exist");
	CHECK_STR(pts[1].version, "does-not-exist");
	CHECK_INT(pts[1].revision, 31);
	CHECK_INT(pts[1].replicas, 5);
	CHECK_INT(pts[1].updated, 1);
	CHECK_INT(pts[1].available, 5);
	CHECK_INT(pts[1].unavailable, 0);
	free(real);
	track_free(t);
}

/* The canary fixture made healthy and walked through its steps: setWeight
 * 20, pause, 40 ... 80, then fully promoted. */
static void test_argo_canary_steps(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1571900000));
	const char *rel = "k8s-api/argo-rollouts/canary/canary-rollout.yaml";
	char *j = fixture_json(rel);
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "has timed out progressing.", "is progressing.");
	now_ns = EPOCH(1572238400);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing");
	CHECK_PT(0, EPOCH(1571983638), 20, -1);
	CHECK_PT(1, EPOCH(1572238375), 20, -1);
	j = subst(j, "\"currentStepIndex\":0", "\"currentStepIndex\":3");
	feed(t, KOBJ_ROLLOUT, j, false, false); /* pause with duration after setWeight 40 */
	CHECK_INT(npts, 2);
	j = subst(j, "\"currentStepIndex\":3", "\"currentStepIndex\":8");
	now_ns = EPOCH(1572238500);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/canary-demo canary promoted");
	CHECK_PT(2, EPOCH(1572238500), 80, -1); /* all steps done; no time in the object: when seen */
	j = subst(j, "\"stableRS\":\"877894d5b\"", "\"stableRS\":\"65fb5ffc84\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:52:55Z\"", "\"lastUpdateTime\":\"2019-10-28T04:55:00Z\"");
	j = subst(j, "\"reason\":\"ReplicaSetUpdated\"", "\"reason\":\"NewReplicaSetAvailable\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(3), "Rollout/canary-demo canary completed");
	CHECK_PT(3, EPOCH(1572238500), 100, 254862.0);
	now_ns = AT(5000);
	free(j);
	track_free(t);
}

/* status.phase Degraded fails the rollout; with traffic routing the
 * weight is the one in status.canary.weights. */
static void test_argo_degraded_and_weights(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1572238400));
	char *j = fixture_json("k8s-api/argo-rollouts/canary/canary-rollout.yaml");
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "\"canary\":{},\"stableRS\"",
		  "\"canary\":{\"weights\":{\"canary\":{\"podTemplateHash\":\"65fb5ffc84\",\"weight\":35},"
		  "\"stable\":{\"podTemplateHash\":\"877894d5b\",\"weight\":65}}},\"stableRS\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing");
	CHECK_PT(0, EPOCH(1571983638), 35, -1);
	CHECK_PT(1, EPOCH(1572238375), 35, -1);
	j = subst(j, "\"currentStepIndex\":0,", "\"currentStepIndex\":0,\"phase\":\"Degraded\",");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/canary-demo canary failed");
	CHECK_PT(2, EPOCH(1572238375), 35, 254737.0);
	free(j);
	track_free(t);
}

static void test_argo_bluegreen(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1572100000));
	const char *rel = "k8s-api/argo-rollouts/blue-green/bluegreen-rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:green", "argoproj/rollouts-demo:blue", "74b948fccb",
				   "6cbccd9f99");
	before = subst(before, "\"lastUpdateTime\":\"2019-10-28T04:50:20Z\"", "\"lastUpdateTime\":\"2019-10-20T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	/* The real object: paused for promotion (BlueGreenPause). */
	char *j = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/bluegreen-demo bluegreen started; Rollout/bluegreen-demo bluegreen progressing");
	CHECK_PT(0, EPOCH(1572060214), -1, -1);
	CHECK_PT(1, EPOCH(1572238220), -1, -1);
	CHECK_STR(pts[1].message, "Rollout is paused");
	CHECK_STR(pts[1].version, "green");
	CHECK_INT(pts[1].revision, 11);
	/* Promoted: the active selector moves to the new pods. */
	j = subst(j, "\"activeSelector\":\"6cbccd9f99\"", "\"activeSelector\":\"74b948fccb\"");
	now_ns = EPOCH(1572238300);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/bluegreen-demo bluegreen promoted");
	CHECK_PT(2, EPOCH(1572238300), -1, -1);
	j = subst(j, "\"stableRS\":\"6cbccd9f99\"", "\"stableRS\":\"74b948fccb\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:50:20Z\",\"message\":\"Rollout is paused\",\"reason\":\"RolloutPaused\","
		     "\"status\":\"Unknown\"",
		  "\"lastUpdateTime\":\"2019-10-28T04:51:40Z\",\"message\":\"Rollout has completed\","
		  "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(3), "Rollout/bluegreen-demo bluegreen completed");
	CHECK_PT(3, EPOCH(1572238300), -1, 178086.0);
	now_ns = AT(5000);
	free(j);
	track_free(t);
}

static void test_argo_aborted(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1600765790));
	const char *rel = "k8s-api/argo-rollouts/rollout-aborted/rollout.yaml";
	char *before = argo_before(rel, "argoproj/rollouts-demo:yellow", "argoproj/rollouts-demo:red", "db976bc44",
				   "7d84d44bb8");
	before = subst(before, "\"abort\":true,", "");
	before = subst(before, "\"lastUpdateTime\":\"2020-09-22T09:10:04Z\"", "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, before, false, true);
	CHECK_INT(npts, 0);
	free(before);
	char *j = fixture_json(rel);
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* Failed at abortedAt (09:10:05), not at the condition's 09:10:04. */
	CHECK_STR(seq(), "Rollout/rollout-background-analysis canary started; Rollout/rollout-background-analysis canary failed");
	CHECK_PT(0, EPOCH(1600765786), 10, -1);
	CHECK_PT(1, EPOCH(1600765805), 10, 19.0);
	CHECK_STR(pts[1].ns, "default");
	CHECK_STR(pts[1].message, "metric \"web\" assessed Failed due to failed (1) > failureLimit (0)");
	CHECK_STR(pts[1].version, "yellow");
	free(j);
	track_free(t);
}

/* Argo: kubectl argo rollouts undo to a template known only from the
 * Rollout's ReplicaSets (listed first, owner kind Rollout): rolled_back. */
static void test_argo_undo_from_replicaset_history(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1572300000));
	feed_rs(t, "jesse-test", "canary-demo-877894d5b", "Rollout", "canary-demo", "argoproj/rollouts-demo:blue", 30,
		"rollout.argoproj.io/revision");
	feed_rs(t, "jesse-test", "canary-demo-65fb5ffc84", "Rollout", "canary-demo",
		"argoproj/rollouts-demo:does-not-exist", 31, "rollout.argoproj.io/revision");
	/* Listed fully rolled out at revision 31 (does-not-exist). */
	char *j = fixture_json("k8s-api/argo-rollouts/canary/canary-rollout.yaml");
	j = subst(j, "\"stableRS\":\"877894d5b\"", "\"stableRS\":\"65fb5ffc84\"");
	j = subst(j, "\"reason\":\"ProgressDeadlineExceeded\",\"status\":\"False\"",
		  "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	feed(t, KOBJ_ROLLOUT, j, false, true);
	CHECK_INT(npts, 0);
	/* The undo: the blue template again (generation 430), written at 04:59:30... */
	j = subst(j, "argoproj/rollouts-demo:does-not-exist", "argoproj/rollouts-demo:blue");
	j = subst(j, "\"generation\":429", "\"generation\":430");
	j = subst(j, "\"creationTimestamp\":\"2019-10-25T06:07:18Z\"",
		  "\"creationTimestamp\":\"2019-10-25T06:07:18Z\",\"managedFields\":[{\"manager\":\"kubectl-argo-rollouts\","
		  "\"operation\":\"Update\",\"apiVersion\":\"argoproj.io/v1alpha1\",\"time\":\"2019-10-28T04:59:30Z\"}]");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* ... the controller sees it: the blue pods come up ... */
	j = subst(j, "\"observedGeneration\":\"429\"", "\"observedGeneration\":\"430\"");
	j = subst(j, "\"currentPodHash\":\"65fb5ffc84\"", "\"currentPodHash\":\"877894d5b\"");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"31\"", "\"rollout.argoproj.io/revision\":\"32\"");
	j = subst(j, "\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"",
		  "\"reason\":\"ReplicaSetUpdated\",\"status\":\"True\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T04:52:55Z\"", "\"lastUpdateTime\":\"2019-10-28T05:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	/* ... and become stable. */
	j = subst(j, "\"stableRS\":\"65fb5ffc84\"", "\"stableRS\":\"877894d5b\"");
	j = subst(j, "\"reason\":\"ReplicaSetUpdated\"", "\"reason\":\"NewReplicaSetAvailable\"");
	j = subst(j, "\"lastUpdateTime\":\"2019-10-28T05:00:00Z\"", "\"lastUpdateTime\":\"2019-10-28T05:01:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/canary-demo canary started; Rollout/canary-demo canary progressing; "
			 "Rollout/canary-demo canary rolled_back");
	/* At the spec write, once the controller numbered revision 32: its weight. */
	CHECK_PT(0, EPOCH(1572238770), 20, -1);
	CHECK_INT(pts[0].revision, 32);
	CHECK_STR(pts[0].image, "argoproj/rollouts-demo:blue");
	CHECK_PT(1, EPOCH(1572238800), 20, -1);
	CHECK_PT(2, EPOCH(1572238860), 100, 90.0);
	CHECK_INT(pts[2].revision, 32);
	CHECK_STR(pts[2].image, "argoproj/rollouts-demo:blue");
	free(j);
	track_free(t);
}

/* Argo writes the new pod hash and revision after the user's spec change,
 * at the same generation and once it has observed it: one deploy, one
 * started (when the revision is numbered, timed at the spec write), and
 * nothing read from the status the controller has not updated yet (no
 * promoted/completed on the spec write). */
static void test_argo_controller_writes(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, EPOCH(1600765790));
	const char *rel = "k8s-api/argo-rollouts/rollout-aborted/rollout.yaml";
	char *j = fixture_json(rel);
	/* Before: red, generation 14, stable, observed. */
	j = subst(j, "\"abort\":true,", "");
	j = subst(j, "\"currentPodHash\":\"db976bc44\"", "\"currentPodHash\":\"7d84d44bb8\"");
	j = subst(j, "argoproj/rollouts-demo:yellow", "argoproj/rollouts-demo:red");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"2\"", "\"rollout.argoproj.io/revision\":\"1\"");
	j = subst(j, "\"generation\":15", "\"generation\":14");
	j = subst(j, "\"observedGeneration\":\"15\"", "\"observedGeneration\":\"14\"");
	j = subst(j, "\"message\":\"metric \\\"web\\\" assessed Failed due to failed (1) > failureLimit (0)\",\"reason\":\"RolloutAborted\","
		     "\"status\":\"False\"",
		  "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\",\"status\":\"True\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-22T09:10:04Z\"", "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, true);
	CHECK_INT(npts, 0);
	/* The user's write at 09:09:48: the yellow template, generation 15; the status is the old one. */
	j = subst(j, "argoproj/rollouts-demo:red", "argoproj/rollouts-demo:yellow");
	j = subst(j, "\"generation\":14", "\"generation\":15");
	j = subst(j, "\"creationTimestamp\":\"2020-09-22T09:09:46Z\"",
		  "\"creationTimestamp\":\"2020-09-22T09:09:46Z\",\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\","
		  "\"operation\":\"Update\",\"apiVersion\":\"argoproj.io/v1alpha1\",\"time\":\"2020-09-22T09:09:48Z\"}]");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_INT(npts, 0); /* started waits for revision 2 */
	/* The controller: observed 15, new pod hash, revision 2, the canary pod coming up. */
	j = subst(j, "\"observedGeneration\":\"14\"", "\"observedGeneration\":\"15\"");
	j = subst(j, "\"currentPodHash\":\"7d84d44bb8\"", "\"currentPodHash\":\"db976bc44\"");
	j = subst(j, "\"rollout.argoproj.io/revision\":\"1\"", "\"rollout.argoproj.io/revision\":\"2\"");
	j = subst(j, "\"readyReplicas\":1,", "\"readyReplicas\":1,\"updatedReplicas\":1,");
	j = subst(j, "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\"",
		  "\"message\":\"Rollout is progressing\",\"reason\":\"ReplicaSetUpdated\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-21T00:00:00Z\"", "\"lastUpdateTime\":\"2020-09-22T09:09:50Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq(), "Rollout/rollout-background-analysis canary started; "
			 "Rollout/rollout-background-analysis canary progressing");
	CHECK_PT(0, EPOCH(1600765788), 10, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "argoproj/rollouts-demo:yellow");
	CHECK_PT(1, EPOCH(1600765790), 10, -1);
	CHECK_INT(pts[1].revision, 2);
	CHECK_STR(pts[1].message, "Rollout is progressing");
	/* Promoted and stable at 09:10:30. */
	j = subst(j, "\"stableRS\":\"7d84d44bb8\"", "\"stableRS\":\"db976bc44\"");
	j = subst(j, "\"message\":\"Rollout is progressing\",\"reason\":\"ReplicaSetUpdated\"",
		  "\"message\":\"Rollout has completed\",\"reason\":\"NewReplicaSetAvailable\"");
	j = subst(j, "\"lastUpdateTime\":\"2020-09-22T09:09:50Z\"", "\"lastUpdateTime\":\"2020-09-22T09:10:30Z\"");
	feed(t, KOBJ_ROLLOUT, j, false, false);
	CHECK_STR(seq_from(2), "Rollout/rollout-background-analysis canary promoted; "
			       "Rollout/rollout-background-analysis canary completed");
	CHECK_PT(2, EPOCH(1600765830), 100, -1);
	CHECK_PT(3, EPOCH(1600765830), 100, 42.0);
	free(j);
	track_free(t);
}

/* Many workloads in one tracker; object names longer than the fields. */
static void test_many_and_long_names(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	char names[40][32];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "w%02d", i);
		struct dep d = { .ns = "bulk", .name = names[i], .image = "bulk/w:1", .gen = 1, .rev = 1, .observed = 1,
				 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
				 .t_spec = -100, .t_cond = -90 };
		feed_dep(t, &d, LIST);
	}
	for (int i = 0; i < 40; i += 13) {
		struct dep d = { .ns = "bulk", .name = names[i], .image = "bulk/w:2", .gen = 2, .rev = 2, .observed = 2,
				 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
				 .t_spec = i, .t_cond = i + 5 };
		feed_dep(t, &d, WATCH);
	}
	CHECK_STR(seq(), "Deployment/w00 rolling started; Deployment/w00 rolling completed; "
			 "Deployment/w13 rolling started; Deployment/w13 rolling completed; "
			 "Deployment/w26 rolling started; Deployment/w26 rolling completed; "
			 "Deployment/w39 rolling started; Deployment/w39 rolling completed");
	CHECK_PT(5, AT(31), -1, 5.0);
	track_free(t);
}

/* started names the revision being rolled out: it waits for the controller
 * to number it (keeping the time of the spec write), for every strategy, as
 * does a canary pair's promoted (the stable's spec write);
 * when the number does not come, started is still emitted once, with what
 * is known: at the fifth state counting the spec write's, at a state 30 s
 * or more after it was seen, at the next template, at a deletion, at a
 * flush, before any other phase. A spec write a re-list shows from before
 * skip_before stays skipped. */
static void test_started_waits_for_revision(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	struct dep d = { .ns = "shop", .name = "slow", .image = "shop/slow:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &d, LIST);
	/* The controller is slow: the spec write and four more states without a number. */
	d.image = "shop/slow:1.1", d.gen = 2, d.t_spec = 10;
	for (int i = 0; i < 4; i++)
		feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_INT(pts[0].revision, 1); /* what is known */
	CHECK_STR(pts[0].image, "shop/slow:1.1");
	d.rev = 2, d.observed = 2, d.updated = 1, d.reason = "ReplicaSetUpdated", d.t_cond = 20;
	feed_dep(t, &d, WATCH);
	d.updated = 2, d.reason = "NewReplicaSetAvailable", d.t_cond = 30;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started; Deployment/slow rolling progressing; "
			 "Deployment/slow rolling completed"); /* no second started */
	CHECK_INT(pts[2].revision, 2);

	/* The next state 30 s after the spec write was seen. */
	reset();
	d.image = "shop/slow:1.2", d.gen = 3, d.t_spec = 100;
	now_ns = AT(100);
	feed_dep(t, &d, WATCH);
	now_ns = AT(129);
	feed_dep(t, &d, WATCH);
	CHECK_INT(npts, 0);
	now_ns = AT(130);
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(100), -1, -1);
	CHECK_INT(pts[0].revision, 2);

	/* Another template before the number: the first one's started as it
	 * was written, the second waits for the number the controller gives. */
	reset();
	now_ns = AT(5000);
	d.image = "shop/slow:1.3", d.gen = 4, d.t_spec = 200;
	feed_dep(t, &d, WATCH);
	d.image = "shop/slow:1.4", d.gen = 5, d.t_spec = 201;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_PT(0, AT(200), -1, -1);
	CHECK_STR(pts[0].image, "shop/slow:1.3");
	CHECK_INT(pts[0].revision, 2);
	d.rev = 3, d.reason = "NewReplicaSetCreated", d.t_cond = 202;
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq_from(1), "Deployment/slow rolling started");
	CHECK_PT(1, AT(201), -1, -1);
	CHECK_STR(pts[1].image, "shop/slow:1.4");
	CHECK_INT(pts[1].revision, 3);

	/* Deleted before the number; flushed (leadership lost) before it. */
	reset();
	d.image = "shop/slow:1.5", d.gen = 6, d.t_spec = 300;
	feed_dep(t, &d, WATCH);
	delete_dep(t, &d);
	CHECK_STR(seq(), "Deployment/slow rolling started");
	CHECK_INT(pts[0].revision, 3);
	struct dep f = { .ns = "shop", .name = "flush", .image = "shop/flush:1.0", .gen = 1, .rev = 1, .observed = 1,
			 .replicas = 1, .updated = 1, .available = 1, .reason = "NewReplicaSetAvailable",
			 .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &f, LIST);
	f.image = "shop/flush:2.0", f.gen = 2, f.t_spec = 400;
	feed_dep(t, &f, WATCH);
	CHECK_INT(npts, 1);
	track_flush(t);
	track_flush(t);
	CHECK_STR(seq_from(1), "Deployment/flush rolling started");
	CHECK_PT(1, AT(400), -1, -1);
	f.rev = 2, f.observed = 2, f.t_cond = 410;
	feed_dep(t, &f, WATCH);
	CHECK_STR(seq_from(1), "Deployment/flush rolling started; Deployment/flush rolling completed");
	track_free(t);

	/* A new leader's list shows a spec write from before skip_before: numbered later, still skipped. */
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(100));
	struct dep l = { .ns = "shop", .name = "listed", .image = "shop/listed:2.0", .gen = 2, .rev = 1, .observed = 1,
			 .replicas = 2, .updated = 2, .available = 2, .reason = "NewReplicaSetAvailable",
			 .t_spec = 90, .t_cond = -590 };
	feed_dep(t, &l, LIST);
	l.rev = 2, l.observed = 2, l.updated = 1, l.reason = "ReplicaSetUpdated", l.t_cond = 110;
	feed_dep(t, &l, WATCH);
	CHECK_STR(seq(), "Deployment/listed rolling progressing");
	track_free(t);

	/* A canary pair: the Service's started names the canary's new revision. */
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "api", "{\"app\":\"api\"}", NULL, -3000, false, LIST);
	struct dep st = { .ns = "shop", .name = "api", .image = "shop/api:1.0", .gen = 1, .rev = 1, .observed = 1,
			  .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"stable\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &st, LIST);
	struct dep ca = { .ns = "shop", .name = "api-canary", .image = "shop/api:1.0", .gen = 1, .rev = 1,
			  .observed = 1, .replicas = 0, .updated = 0, .available = 0, .reason = "NewReplicaSetAvailable",
			  .labels = "{\"app\":\"api\",\"track\":\"canary\"}", .t_spec = -600, .t_cond = -590 };
	feed_dep(t, &ca, LIST);
	ca.image = "shop/api:2.0", ca.gen = 2, ca.replicas = 1, ca.t_spec = 10;
	feed_dep(t, &ca, WATCH);
	CHECK_INT(npts, 0);
	ca.rev = 2, ca.reason = "NewReplicaSetCreated", ca.t_cond = 11;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started");
	CHECK_PT(0, AT(10), 25, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "shop/api:2.0");
	ca.observed = 2, ca.updated = 1, ca.reason = "ReplicaSetUpdated", ca.t_cond = 12;
	feed_dep(t, &ca, WATCH);
	CHECK_STR(seq(), "Service/api canary started; Service/api canary progressing");
	/* Promoted: the stable's spec write, then its number and completion in one state. */
	st.image = "shop/api:2.0", st.gen = 2, st.t_spec = 30;
	feed_dep(t, &st, WATCH);
	CHECK_INT(npts, 2);
	st.rev = 2, st.observed = 2, st.t_cond = 40;
	feed_dep(t, &st, WATCH);
	CHECK_STR(seq_from(2), "Service/api canary promoted; Service/api canary completed");
	CHECK_PT(2, AT(30), 100, -1);
	CHECK_INT(pts[2].revision, 2);
	CHECK_PT(3, AT(40), 100, 30.0);
	/* The next canary deleted before its number: started, then rolled_back. */
	ca.image = "shop/api:3.0", ca.gen = 3, ca.t_spec = 50;
	feed_dep(t, &ca, WATCH);
	now_ns = AT(60);
	delete_dep(t, &ca);
	now_ns = AT(5000);
	CHECK_STR(seq_from(4), "Service/api canary started; Service/api canary rolled_back");
	CHECK_PT(4, AT(50), 25, -1);
	CHECK_INT(pts[4].revision, 2);
	CHECK_STR(pts[4].image, "shop/api:3.0");
	CHECK_PT(5, AT(60), 0, 10.0);
	track_free(t);

	/* A blue-green pair: the new color's revision. */
	reset();
	t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "bg", "{\"app\":\"bg\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "bg-blue", .image = "shop/bg:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"bg\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	struct dep green = blue;
	green.name = "bg-green", green.labels = "{\"app\":\"bg\",\"color\":\"green\"}";
	feed_dep(t, &blue, LIST);
	feed_dep(t, &green, LIST);
	green.image = "shop/bg:2.0", green.gen = 2, green.t_spec = 10;
	feed_dep(t, &green, WATCH);
	CHECK_INT(npts, 0);
	green.rev = 2, green.observed = 2, green.updated = 1, green.reason = "ReplicaSetUpdated", green.t_cond = 12;
	feed_dep(t, &green, WATCH);
	CHECK_STR(seq(), "Service/bg bluegreen started; Service/bg bluegreen progressing");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].version, "2.0");
	track_free(t);
}

/* The live color's Deployment updated in place (no selector switch) is a
 * deploy of the pair: started, progressing, completed; bringing back an
 * earlier template, rolled_back; failing, failed. A later switch is its own
 * deploy, and switching back rolls back the switch, not the in-place one. */
static void test_bluegreen_inplace(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"blue\"}", NULL, -3000, false, LIST);
	struct dep blue = { .ns = "shop", .name = "web-blue", .image = "shop/web:1.0", .gen = 1, .rev = 1,
			    .observed = 1, .replicas = 3, .updated = 3, .available = 3, .reason = "NewReplicaSetAvailable",
			    .labels = "{\"app\":\"web\",\"color\":\"blue\"}", .t_spec = -600, .t_cond = -590 };
	struct dep green = blue;
	green.name = "web-green", green.labels = "{\"app\":\"web\",\"color\":\"green\"}";
	feed_dep(t, &blue, LIST);
	feed_dep(t, &green, LIST);
	CHECK_INT(npts, 0);

	/* blue (live) gets 1.1: spec write, the controller numbers it, rolls, completes. */
	blue.image = "shop/web:1.1", blue.gen = 2, blue.t_spec = 10;
	feed_dep(t, &blue, WATCH);
	CHECK_INT(npts, 0); /* waiting for the revision number */
	blue.rev = 2, blue.observed = 2, blue.updated = 1, blue.reason = "ReplicaSetUpdated", blue.t_cond = 12;
	feed_dep(t, &blue, WATCH);
	blue.updated = 3, blue.reason = "NewReplicaSetAvailable", blue.t_cond = 40;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq(), "Service/web bluegreen started; Service/web bluegreen progressing; "
			 "Service/web bluegreen completed");
	CHECK_PT(0, AT(10), -1, -1);
	CHECK_PT(1, AT(12), -1, -1);
	CHECK_PT(2, AT(40), -1, 30.0);
	CHECK_INT(pts[0].revision, 2);
	CHECK_STR(pts[0].image, "shop/web:1.1");
	CHECK_STR(pts[2].version, "1.1");
	/* A state of it with nothing new: nothing. */
	feed_dep(t, &blue, WATCH);
	CHECK_INT(npts, 3);

	/* Back to 1.0 in place (kubectl rollout undo): rolled_back. */
	blue.image = "shop/web:1.0", blue.gen = 3, blue.rev = 3, blue.observed = 3, blue.t_spec = 100, blue.t_cond = 110;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq_from(3), "Service/web bluegreen started; Service/web bluegreen rolled_back");
	CHECK_PT(4, AT(110), -1, 10.0);

	/* 1.2 in place never becomes available. */
	blue.image = "shop/web:1.2", blue.gen = 4, blue.rev = 4, blue.observed = 4, blue.updated = 1,
	blue.reason = "ReplicaSetUpdated", blue.t_spec = 200, blue.t_cond = 201;
	feed_dep(t, &blue, WATCH);
	blue.reason = "ProgressDeadlineExceeded", blue.cstatus = "False", blue.t_cond = 801;
	feed_dep(t, &blue, WATCH);
	CHECK_STR(seq_from(5), "Service/web bluegreen started; Service/web bluegreen progressing; "
			       "Service/web bluegreen failed");
	CHECK_PT(7, AT(801), -1, 601.0);

	/* green (idle) rolls 2.0 out, the selector switches to it, then back. */
	green.image = "shop/web:2.0", green.gen = 2, green.rev = 2, green.observed = 2, green.t_spec = 900,
	green.t_cond = 905;
	feed_dep(t, &green, WATCH);
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"green\"}", NULL, 920, false, WATCH);
	CHECK_STR(seq_from(8), "Service/web bluegreen started; Service/web bluegreen progressing; "
			       "Service/web bluegreen promoted; Service/web bluegreen completed");
	CHECK_PT(11, AT(920), -1, 20.0);
	CHECK_STR(pts[11].image, "shop/web:2.0");
	feed_svc(t, "web", "{\"app\":\"web\",\"color\":\"blue\"}", NULL, 950, false, WATCH);
	CHECK_STR(seq_from(12), "Service/web bluegreen rolled_back");
	CHECK_PT(12, AT(950), -1, 50.0);
	CHECK_INT(npts, 13);
	track_free(t);
}

/* Bytes the program holds on the heap: what the tracker's entries cost. */
static size_t heap_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#elif !defined(HAVE_MEMCHECK)
	return 0;
#else
#ifdef HAVE_MEMCHECK
	if (RUNNING_ON_VALGRIND) { /* its malloc: the blocks a leak check finds */
		unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
		VALGRIND_DO_QUICK_LEAK_CHECK;
		VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
		return leaked + dubious + reachable + suppressed;
	}
#endif
	/* Plain glibc: no exact measure (mallinfo counts the chunks in its
	 * per-thread cache as in use, up to ~200 KB): counts only. */
	return 0;
#endif
}

/* n Deployment + Service + ReplicaSet sets in namespace shop, named c<from>..; deleted: their deletions. */
static void churn_sets(struct track *t, int from, int n, bool deleted)
{
	for (int i = from; i < from + n; i++) {
		char name[64], labels[128], sel[128], rs[80];
		snprintf(name, sizeof name, "churn-app-%04d", i);
		snprintf(labels, sizeof labels, "{\"app\":\"%s\",\"app.kubernetes.io/part-of\":\"churn\"}", name);
		snprintf(sel, sizeof sel, "{\"app\":\"%s\"}", name);
		snprintf(rs, sizeof rs, "%s-5d8f6c7b9", name);
		struct dep d = { .ns = "shop", .name = name, .image = "registry.example.com/shop/churn-app:1.0.0", .gen = 1,
				 .rev = 1, .observed = 1, .replicas = 2, .updated = 2, .available = 2,
				 .reason = "NewReplicaSetAvailable", .labels = labels, .t_spec = i, .t_cond = i + 5 };
		if (!deleted) {
			reset(); /* each new Deployment is a deploy (started, completed): not kept */
			feed_svc(t, name, sel, NULL, i, false, WATCH);
			rs_event(t, "shop", rs, "Deployment", name, "registry.example.com/shop/churn-app:1.0.0,fluent/fluent-bit:3.0",
				 1, "deployment.kubernetes.io/revision", false);
			feed_dep(t, &d, WATCH);
		} else {
			/* The order the garbage collector gives: the Deployment, then its ReplicaSet. */
			feed_svc(t, name, sel, NULL, i, true, WATCH);
			delete_dep(t, &d);
			rs_event(t, "shop", rs, "Deployment", name, "registry.example.com/shop/churn-app:1.0.0,fluent/fluent-bit:3.0",
				 1, "deployment.kubernetes.io/revision", true);
		}
	}
}

static void check_count(struct track *t, size_t workloads, size_t services)
{
	size_t w, sv, p;
	track_count(t, &w, &sv, &p);
	CHECK_INT((int64_t)w, (int64_t)workloads);
	CHECK_INT((int64_t)sv, (int64_t)services);
	CHECK_INT((int64_t)p, 0);
}

/* Each tracked Deployment and Service costs at most 1 KiB, and deleting
 * them gives it back: creating and deleting 1,000 sets beside 10 that stay
 * leaves the heap where the first round left it (bytes where the build can
 * count them exactly: ASan, valgrind; entries always). Also: a ReplicaSet whose
 * owner is never seen is forgotten at its deletion. */
static void test_memory_per_object_and_freeing(void)
{
	reset();
	struct track *t = track_new(on_point, NULL);
	track_set_skip_before(t, AT(0));
	/* The test build's AddressSanitizer, or valgrind, count the bytes exactly; else only entries. */
	bool exact = heap_bytes() > 0;
	churn_sets(t, 0, 10, false); /* the ones that stay */
	check_count(t, 10, 10);
	size_t base = heap_bytes();
	churn_sets(t, 100, 1000, false);
	check_count(t, 1010, 1010);
	size_t full = heap_bytes();
	double per_set = (double)(full - base) / 1000;
	if (exact) {
		printf("tracker: %.0f bytes per Deployment+Service+ReplicaSet set (2 tracked objects)\n", per_set);
		CHECK(per_set / 2 <= 1024);
		CHECK(per_set > 200); /* the measure sees the entries */
	}
	CHECK_STR(seq(), "Deployment/churn-app-1099 rolling started; Deployment/churn-app-1099 rolling completed");
	churn_sets(t, 100, 1000, true);
	CHECK_INT(npts, 2); /* deletions of finished deploys: nothing */
	check_count(t, 10, 10);
	size_t after1 = heap_bytes();
	/* What stays: the hash tables' buckets and arrays, sized for the peak. */
	if (exact) {
		printf("tracker: %zu bytes before, %zu with 1,000 sets more, %zu after deleting them\n", base, full, after1);
		CHECK(after1 < base + 64 * 1024);
	}
	for (int round = 0; round < 3; round++) {
		churn_sets(t, 2000 + round * 1000, 1000, false);
		churn_sets(t, 2000 + round * 1000, 1000, true);
	}
	check_count(t, 10, 10);
	size_t after4 = heap_bytes();
	if (exact) {
		printf("tracker: %zu bytes after 3 more rounds\n", after4);
		CHECK(after4 <= after1 + 1024); /* the parsed object kept by feed() varies by its strings */
	}
	/* The 10 still tracked: a rollout of one of them is a deploy. */
	reset();
	struct dep d = { .ns = "shop", .name = "churn-app-0003", .image = "registry.example.com/shop/churn-app:1.1.0",
			 .gen = 2, .rev = 2, .observed = 2, .replicas = 2, .updated = 2, .available = 2,
			 .reason = "NewReplicaSetAvailable",
			 .labels = "{\"app\":\"churn-app-0003\",\"app.kubernetes.io/part-of\":\"churn\"}", .t_spec = 5000,
			 .t_cond = 5010 };
	feed_dep(t, &d, WATCH);
	CHECK_STR(seq(), "Deployment/churn-app-0003 rolling started; Deployment/churn-app-0003 rolling completed");
	/* ReplicaSets of an owner never seen (a Rollout while Argo is not watched): forgotten at their deletion. */
	for (int i = 0; i < 200; i++) {
		char rs[32];
		snprintf(rs, sizeof rs, "orphan-%d-7c9d", i);
		rs_event(t, "shop", rs, "Rollout", rs, "shop/orphan:1", 1, "rollout.argoproj.io/revision", false);
	}
	check_count(t, 210, 10);
	for (int i = 0; i < 200; i++) {
		char rs[32];
		snprintf(rs, sizeof rs, "orphan-%d-7c9d", i);
		rs_event(t, "shop", rs, "Rollout", rs, "shop/orphan:1", 1, "rollout.argoproj.io/revision", true);
	}
	check_count(t, 10, 10);
	if (exact)
		CHECK(heap_bytes() <= after4 + 1024);
	/* A ReplicaSet of a present Deployment deleted (history cleanup): the Deployment stays. */
	rs_event(t, "shop", "churn-app-0003-5d8f6c7b9", "Deployment", "churn-app-0003", "x:1", 1,
		 "deployment.kubernetes.io/revision", true);
	check_count(t, 10, 10);
	track_free(t);
}

int main(void)
{
	test_names();
	test_rolling();
	test_bigbang_and_annotation();
	test_failed_then_undo();
	test_undo_from_replicaset_history();
	test_never_finishes();
	test_no_progress_deadline();
	test_restart();
	test_relist_after_gone();
	test_clock_skew();
	test_relist_by_new_leader();
	test_canary_pair();
	test_canary_abandoned();
	test_canary_out_of_order();
	test_canary_pair_edges();
	test_bluegreen_pair();
	test_bluegreen_selectors();
	test_deleted();
	test_argo_canary();
	test_argo_canary_steps();
	test_argo_degraded_and_weights();
	test_argo_bluegreen();
	test_argo_aborted();
	test_argo_undo_from_replicaset_history();
	test_argo_controller_writes();
	test_started_waits_for_revision();
	test_many_and_long_names();
	test_bluegreen_inplace();
	test_memory_per_object_and_freeing();
	track_free(NULL);
	CHECK_DONE();
}
