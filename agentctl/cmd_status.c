/* agentctl status: what of the stack is installed, whether it is ready,
 * which images run, and the state of its volumes. Read-only. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "jsonq.h"
#include "stack.h"
#include "url_redact.h"

static void status_usage(FILE *out)
{
	fprintf(out, "Usage: agentctl status [options]\n"
		     "Shows which objects of the monitoring stack exist, whether the stack pod and the agent pods\n"
		     "are rolled out and ready, the images they run, the volumes' phase and capacity (node storage's\n"
		     "PersistentVolumes with their node), and the node labelled heliograph.io/stack, with a warning\n"
		     "when no node, a NotReady node or a node other than the volumes' carries the label.\n");
	hg_stack_conn_usage(out);
	fprintf(out, "  --namespace NAME               namespace of the stack (default monitoring)\n"
		     "  -h, --help                     this help\n"
		     "Exit codes: 0 installed and ready, 1 not installed, not ready or failed, 2 usage or\n"
		     "configuration error.\n");
}

static yajl_val get(struct stack *s, const char *api, const char *kind, const char *name, int *rc, char *err,
		    size_t errlen)
{
	char *body = NULL;
	*rc = hg_kube_get(s->client, api, kind, hg_stack_namespace(s), name, &body, err, errlen);
	yajl_val v = *rc == 0 ? hg_jq_parse(body, err, errlen) : NULL;
	if (*rc == 0 && !v)
		*rc = -1;
	free(body);
	return v;
}

static void images(struct stack *s, yajl_val obj)
{
	yajl_val cs = hg_jq_at(obj, "spec", "template", "spec", "containers", JQ_END);
	for (size_t i = 0; i < hg_jq_len(cs); i++) {
		const char *n = hg_jq_str(hg_jq_item(cs, i), "name", JQ_END), *img = hg_jq_str(hg_jq_item(cs, i), "image", JQ_END);
		fprintf(s->out, "    %-10s %s\n", n ? n : "?", img ? img : "?");
	}
}

/* 1 ready, 0 not (or absent), <0 error. w: the name column's width. */
static int workload(struct stack *s, int w, const char *kind, const char *name, char *err, size_t errlen)
{
	int rc;
	yajl_val v = get(s, "apps/v1", kind, name, &rc, err, errlen);
	char label[160], msg[200];
	hg_stack_kind_label("apps/v1", kind, name, label, sizeof label);
	if (rc == KUBE_ENOTFOUND) {
		fprintf(s->out, "  %-*s not installed\n", w, label);
		return 0;
	}
	if (rc != 0)
		return rc;
	int st = hg_stack_rollout_state(kind, v, msg, sizeof msg);
	fprintf(s->out, "  %-*s %s (%s)\n", w, label, st == 1 ? "ready" : st < 0 ? "FAILED" : "not ready", msg);
	images(s, v);
	yajl_tree_free(v);
	return st == 1;
}

/* The class a claim's volume really has: the claim's own, else (a claim made
 * without one) its bound volume's, else what the cluster would assign. */
static int volume_class(struct stack *s, yajl_val pvc, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *sc = hg_jq_str(pvc, "spec", "storageClassName", JQ_END);
	const char *vol = hg_jq_str(pvc, "spec", "volumeName", JQ_END);
	if (sc && *sc) {
		snprintf(out, outlen, "%s", sc);
		return 0;
	}
	if (vol && *vol) {
		char *body = NULL;
		int rc = hg_kube_get(s->client, "v1", "PersistentVolume", NULL, vol, &body, err, errlen);
		yajl_val pv = rc == 0 ? hg_jq_parse(body, err, errlen) : NULL;
		free(body);
		if (rc == 0 && !pv)
			return -1;
		if (rc != 0 && rc != KUBE_ENOTFOUND)
			return rc;
		const char *pvsc = hg_jq_str(pv, "spec", "storageClassName", JQ_END);
		if (rc == KUBE_ENOTFOUND)
			snprintf(out, outlen, "unknown (its PersistentVolume %s is gone)", vol);
		else
			snprintf(out, outlen, "%s", pvsc && *pvsc ? pvsc : "none (a PersistentVolume without a class)");
		yajl_tree_free(pv);
		return 0;
	}
	if (sc) { /* "": binds only to a volume without a class */
		snprintf(out, outlen, "none (the claim asks for a volume without a class)");
		return 0;
	}
	char *def = NULL, *prov = NULL;
	int rc = hg_stack_default_class(s, &def, &prov, err, errlen);
	if (rc != 0)
		return rc;
	if (def)
		snprintf(out, outlen, "none yet (the cluster's default, %s, is assigned to it)", def);
	else
		snprintf(out, outlen, "none (the cluster has no default StorageClass)");
	free(def);
	free(prov);
	return 0;
}

static int volumes(struct stack *s, int w, const struct stack_docs *d, int *bound, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].id.kind, "PersistentVolumeClaim") != 0)
			continue;
		int rc;
		yajl_val v = get(s, "v1", "PersistentVolumeClaim", d->v[i].id.name, &rc, err, errlen);
		if (rc == KUBE_ENOTFOUND) {
			fprintf(s->out, "  %-*s not installed\n", w, d->v[i].label);
			continue;
		}
		if (rc != 0)
			return rc;
		const char *phase = hg_jq_str(v, "status", "phase", JQ_END);
		const char *cap = hg_jq_str(v, "status", "capacity", "storage", JQ_END);
		const char *req = hg_jq_str(v, "spec", "resources", "requests", "storage", JQ_END);
		char sc[400];
		if ((rc = volume_class(s, v, sc, sizeof sc, err, errlen)) != 0) {
			yajl_tree_free(v);
			return rc;
		}
		bool ok = phase && strcmp(phase, "Bound") == 0;
		*bound += ok;
		fprintf(s->out, "  %-*s %s, capacity %s (requested %s, StorageClass %s)%s\n", w, d->v[i].label,
			phase ? phase : "Pending", cap ? cap : "-", req ? req : "?", sc,
			ok ? "" : " - see `kubectl describe pvc` for why it is not bound");
		yajl_tree_free(v);
	}
	return 0;
}

static void pv_label(const struct stack_node_pv *pv, char *out, size_t outlen)
{
	snprintf(out, outlen, "persistentvolume/%.253s", pv->name);
}

/* Node storage's PersistentVolumes pv (found without the render's
 * storage-node: by name and claimRef) and the node labelled for the stack
 * pod, with a warning for each way the stack pod could not be placed. */
static int stack_node(struct stack *s, int w, const struct stack_node_pv *pv, size_t npv, char *err, size_t errlen)
{
	struct stack_label_node ln[STACK_LABEL_NODE_MAX];
	size_t nln = 0;
	int rc = hg_stack_label_nodes(s, ln, &nln, err, errlen);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < npv; i++) {
		char label[300];
		pv_label(&pv[i], label, sizeof label);
		fprintf(s->out, "  %-*s %s%s%s, on node %s (%s), capacity %s, reclaim %s\n", w, label,
			pv[i].phase[0] ? pv[i].phase : "Pending", pv[i].claim[0] ? " to " : "", pv[i].claim,
			pv[i].node[0] ? pv[i].node : "?", pv[i].path[0] ? pv[i].path : "?", pv[i].capacity[0] ? pv[i].capacity : "?",
			pv[i].reclaim[0] ? pv[i].reclaim : "?");
	}
	if (nln == 0)
		fprintf(s->out, "Stack node: none labelled %s\n", STACK_NODE_LABEL);
	for (size_t i = 0; i < nln; i++)
		fprintf(s->out, "%s%s (labelled %s=%s, %s)%s", i ? ", " : "Stack node: ", ln[i].name, STACK_NODE_LABEL,
			ln[i].value, ln[i].ready ? "Ready" : "NotReady", i + 1 == nln ? "\n" : "");
	/* The warnings. The label matters only while the stack is installed. */
	rc = hg_kube_get(s->client, "apps/v1", "Deployment", hg_stack_namespace(s), STACK_DEPLOYMENT, NULL, err, errlen);
	if (rc != 0 && rc != KUBE_ENOTFOUND)
		return rc;
	bool installed = rc == 0;
	const char *vol_node = npv && pv[0].node[0] ? pv[0].node : NULL;
	for (size_t i = 0; i < nln; i++) {
		if (strcmp(ln[i].value, "true") != 0)
			fprintf(s->out, "warning: node %s is labelled %s=%s, not \"true\": the stack pod's nodeSelector does "
					"not match it. `kubectl label node %s %s=true --overwrite` fixes it.\n",
				ln[i].name, STACK_NODE_LABEL, ln[i].value, ln[i].name, STACK_NODE_LABEL);
		else if (!ln[i].ready)
			fprintf(s->out, "warning: the stack node %s is NotReady: the stack pod cannot run there until it is "
					"Ready again (`kubectl describe node %s` says why)%s\n",
				ln[i].name, ln[i].name,
				vol_node ? "; its volumes are on that node's disk, so it cannot move elsewhere" :
					   ". agentctl install-stack chooses and labels another node.");
	}
	if (installed && nln == 0)
		fprintf(s->out, "warning: no node is labelled %s=true: the stack pod's nodeSelector asks for it, so a "
				"new stack pod (a restart, a rollout) cannot be placed, and the agent DaemonSet wants a pod "
				"of its own on the stack pod's node. agentctl install-stack labels the node again, or by "
				"hand: kubectl label node %s %s=true\n",
			STACK_NODE_LABEL, vol_node ? vol_node : "NODE", STACK_NODE_LABEL);
	if (nln > 1)
		fprintf(s->out, "warning: %zu nodes are labelled %s: the stack pod may land on any of them, and the agent "
				"DaemonSet skips them all. agentctl install-stack keeps the label on one.\n",
			nln, STACK_NODE_LABEL);
	if (vol_node) {
		bool exists, ready, labelled = false;
		for (size_t i = 0; i < nln; i++)
			labelled |= strcmp(ln[i].name, vol_node) == 0;
		if ((rc = hg_stack_node_ready(s, vol_node, &exists, &ready, err, errlen)) != 0)
			return rc;
		if (!exists)
			fprintf(s->out, "warning: the stack's volumes are on the disk of node %s, and the cluster has no such "
					"node any more: node-local data is lost with its node. kubectl delete pv %s%s%s lets "
					"agentctl install-stack start afresh.\n",
				vol_node, pv[0].name, npv > 1 ? " " : "", npv > 1 ? pv[1].name : "");
		else if (nln > 0 && !labelled)
			fprintf(s->out, "warning: the stack's volumes are on the disk of node %s, but the label is on %s: "
					"the stack pod cannot start (volume node affinity conflict). agentctl install-stack "
					"moves the label back.\n",
				vol_node, ln[0].name);
	}
	return 0;
}

/* The name column fits the longest name it will hold: the rendered objects
 * (workloads and claims among them), the Secrets and node storage's volumes,
 * whose names grow with the namespace's. */
static int name_width(const struct stack_docs *d, const struct stack_node_pv *pv, size_t npv)
{
	size_t w = 0;
	char label[300];
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i].label) > w)
			w = strlen(d->v[i].label);
	for (size_t i = 0; i < hg_stack_secrets_count; i++) {
		snprintf(label, sizeof label, "secret/%s", hg_stack_secrets[i].name);
		if (strlen(label) > w)
			w = strlen(label);
	}
	for (size_t i = 0; i < npv; i++) {
		pv_label(&pv[i], label, sizeof label);
		if (strlen(label) > w)
			w = strlen(label);
	}
	return (int)w;
}

static int status(struct stack *s, const struct stack_docs *d)
{
	char err[2048];
	int rc = 0, present = 0, data = 0, ready = 0, bound = 0, secrets = 0;
	struct stack_node_pv pv[STACK_NODE_PV_MAX];
	size_t npv = 0;
	char server[512];
	fprintf(s->out, "Heliograph stack in namespace %s (context %s, %s)\n", hg_stack_namespace(s),
		s->kc.context ? s->kc.context : "?", s->kc.server ? hg_url_redact(s->kc.server, server, sizeof server) : "?");
	rc = hg_stack_node_pvs(s, pv, &npv, err, sizeof err);
	int w = name_width(d, pv, npv);
	if (rc == 0)
		fprintf(s->out, "Objects:\n");
	for (size_t i = 0; i < d->n && rc == 0; i++) {
		const struct kube_ident *id = &d->v[i].id;
		rc = hg_kube_get(s->client, id->api_version, id->kind, id->namespace, id->name, NULL, err, sizeof err);
		if (rc == 0 || rc == KUBE_ENOTFOUND) {
			present += rc == 0;
			data += rc == 0 && hg_stack_doc_is_data(id);
			fprintf(s->out, "  %-*s %s\n", w, d->v[i].label, rc == 0 ? "present" : "missing");
			rc = 0;
		}
	}
	for (size_t i = 0; i < hg_stack_secrets_count && rc == 0; i++) {
		char label[160];
		snprintf(label, sizeof label, "secret/%s", hg_stack_secrets[i].name);
		rc = hg_kube_get(s->client, "v1", "Secret", hg_stack_namespace(s), hg_stack_secrets[i].name, NULL, err, sizeof err);
		if (rc == 0 || rc == KUBE_ENOTFOUND) {
			secrets += rc == 0;
			fprintf(s->out, "  %-*s %s\n", w, label, rc == 0 ? "present" : "missing");
			rc = 0;
		}
	}
	if (rc == 0) {
		fprintf(s->out, "Workloads:\n");
		int a = workload(s, w, "Deployment", STACK_DEPLOYMENT, err, sizeof err);
		int b = a < 0 ? a : workload(s, w, "DaemonSet", STACK_DAEMONSET, err, sizeof err);
		rc = a < 0 ? a : b < 0 ? b : 0;
		ready = a > 0 && b > 0;
	}
	if (rc == 0) {
		fprintf(s->out, "Volumes:\n");
		rc = volumes(s, w, d, &bound, err, sizeof err);
	}
	if (rc == 0)
		rc = stack_node(s, w, pv, npv, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "agentctl status: %s\n", err);
		return AGENTCTL_FAILED;
	}
	size_t total = d->n + hg_stack_secrets_count;
	bool installed = (size_t)(present + secrets) == total;
	/* What uninstall-stack keeps (the data: namespace, claims, Secrets) is not a part of an installed stack. */
	bool partly = present > data;
	if (installed)
		fprintf(s->out, "\n%s: %zu of %zu objects present, %s.\n", ready ? "Installed and ready" : "Installed, not ready",
			(size_t)(present + secrets), total, ready ? "rollout complete" : "rollout not complete");
	else if (partly)
		fprintf(s->out, "\nPartly installed: %zu of %zu objects present, %s.\n", (size_t)(present + secrets), total,
			ready ? "rollout complete" : "rollout not complete");
	else if (data + secrets)
		fprintf(s->out, "\nNot installed: only the data uninstall-stack keeps is left (%d of the namespace and volume "
				"claims, %d Secrets): agentctl install-stack uses it again, agentctl uninstall-stack "
				"--delete-data removes it.\n",
			data, secrets);
	else
		fprintf(s->out, "\nNot installed: none of the %zu objects present.\n", total);
	if (partly)
		fprintf(s->out, "Run agentctl install-stack to install or finish the stack.\n");
	else if (!installed)
		fprintf(s->out, "Run agentctl install-stack to install the stack.\n");
	return installed && ready ? AGENTCTL_OK : AGENTCTL_FAILED;
}

static int run_status(int argc, char **argv)
{
	struct option longopts[RP_COUNT + 8];
	int n = 0;
	hg_stack_longopts(longopts, &n, false);
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};
	struct stack s = {.out = stdout, .cmd = "status"};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int r = hg_stack_opt(&s, c, optarg);
		if (r < 0)
			return AGENTCTL_USAGE;
		if (r > 0)
			continue;
		if (c == 'h') {
			status_usage(stdout);
			return AGENTCTL_OK;
		}
		if (c == ':')
			fprintf(stderr, "agentctl status: %s needs a value; see agentctl status --help\n",
				argv[optind - 1]);
		else
			fprintf(stderr, "agentctl status: unknown option %.*s; see agentctl status --help\n",
				(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
		return AGENTCTL_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "agentctl status: unexpected argument '%s'; see agentctl status --help\n",
			argv[optind]);
		return AGENTCTL_USAGE;
	}
	struct stack_docs d;
	int rc = hg_stack_open(&s, &d, "status");
	if (rc != AGENTCTL_OK)
		return rc;
	rc = status(&s, &d);
	hg_stack_close(&s);
	hg_stack_docs_free(&d);
	return rc;
}

const struct agentctl_command hg_cmd_status = {
	.name = "status",
	.summary = "show what of the stack is installed and ready",
	.run = run_status,
	.usage = status_usage,
};
