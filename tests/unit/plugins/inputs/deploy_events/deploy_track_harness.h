/* The harness of the deploy tracking tests (test_deploy_track*.c): the
 * points track.c emits, copied; objects built as JSON shaped like the API's
 * and fed to hg_track_object as deploy_events.c does; fixtures read from YAML.
 * Test-only; every function is static. */
#ifndef HG_DEPLOY_TRACK_HARNESS_H
#define HG_DEPLOY_TRACK_HARNESS_H
#define DT_FN static __attribute__((unused))

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "kobj.h"
#include "track.h"
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

DT_FN void on_point(void *arg, const struct deploy_point *p)
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
	snprintf(x->strategy, sizeof x->strategy, "%s", hg_track_strategy_name(p->strategy));
	snprintf(x->phase, sizeof x->phase, "%s", hg_track_phase_name(p->phase));
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
DT_FN const char *seq_from(int from)
{
	static char s[4096];
	size_t k = 0;
	s[0] = '\0';
	for (int i = from; i < npts && k < sizeof s; i++)
		k += (size_t)snprintf(s + k, sizeof s - k, "%s%s/%s %s %s", i > from ? "; " : "", pts[i].kind, pts[i].name,
				      pts[i].strategy, pts[i].phase);
	return s;
}

DT_FN const char *seq(void)
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

DT_FN void reset(void)
{
	npts = 0;
	memset(pts, 0, sizeof pts);
}

/* ---- feeding objects ---- */

enum { WATCH = 0, LIST = 1 };

static int64_t now_ns = AT(5000); /* the "time the change was seen" */

DT_FN void feed(struct track *t, enum kobj_kind kind, const char *json, bool deleted, bool from_list)
{
	static struct kobj o;
	char err[256] = "";
	int rc = hg_kobj_parse(&o, kind, json, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kobj_parse: %s\n%s\n", err, json);
	CHECK_INT(rc, 0);
	if (rc == 0)
		hg_track_object(t, &o, deleted, from_list, now_ns);
}

DT_FN const char *iso(int off)
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
DT_FN const char *dep_message(const struct dep *d)
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

DT_FN void json_str(char *out, size_t n, const char *s)
{
	size_t k = 0;
	for (; *s && k + 3 < n; s++) {
		if (*s == '"' || *s == '\\')
			out[k++] = '\\';
		out[k++] = *s;
	}
	out[k] = '\0';
}

DT_FN const char *dep_json(const struct dep *d)
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

DT_FN void feed_dep(struct track *t, const struct dep *d, bool from_list)
{
	feed(t, KOBJ_DEPLOYMENT, dep_json(d), false, from_list);
}

DT_FN void delete_dep(struct track *t, const struct dep *d)
{
	feed(t, KOBJ_DEPLOYMENT, dep_json(d), true, false);
}

DT_FN void feed_svc(struct track *t, const char *name, const char *selector, const char *ann, int t_spec,
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
DT_FN void rs_event(struct track *t, const char *ns, const char *name, const char *owner_kind, const char *owner,
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

DT_FN void feed_rs(struct track *t, const char *ns, const char *name, const char *owner_kind, const char *owner,
		    const char *images, int64_t rev, const char *rev_ann)
{
	rs_event(t, ns, name, owner_kind, owner, images, rev, rev_ann, false);
}

/* ---- fixtures: YAML objects to JSON ---- */

DT_FN void yaml_json_str(FILE *out, const char *s)
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

DT_FN void yaml_json(FILE *out, yaml_document_t *d, yaml_node_t *n)
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
DT_FN char *fixture_json(const char *rel)
{
	char *y = fixture_slurp(rel);
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
DT_FN char *subst(char *s, const char *from, const char *to)
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

#endif
