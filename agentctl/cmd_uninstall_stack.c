/* agentctl uninstall-stack: deletes what install-stack created, newest
 * first, and takes the heliograph.io/stack label off the stack node. The
 * data stays unless --delete-data: the PVCs (metrics, dashboards' state),
 * node storage's PersistentVolumes (cluster-scoped, so not in the
 * namespace), the Secrets (the passwords the data was set up with) and the
 * namespace holding them. The agents' disk buffers (hostPath directories
 * on every node) are data too, but no Kubernetes deletion reaches them:
 * the output says where they are and, with --delete-data, how to remove
 * them. */
#include <getopt.h>
#include <string.h>
#include "commands.h"
#include "stack.h"

enum { OPT_DRY_RUN = 1, OPT_DELETE_DATA };

static void uninstall_usage(FILE *out)
{
	fprintf(out, "Usage: agentctl uninstall-stack [options]\n"
		     "Deletes the monitoring stack install-stack created and removes the heliograph.io/stack label\n"
		     "from the stack node. Keeps the volumes (PVCs, and node storage's PersistentVolumes), the\n"
		     "Secrets and the namespace, so that installing again finds the old data and passwords.\n"
		     "  --delete-data                  also delete the PVCs (all metrics), node storage's PersistentVolumes,\n"
		     "                                 the Secrets and the namespace (node storage's files and the agents'\n"
		     "                                 disk buffers stay on the nodes: the output says how to remove them)\n"
		     "  --dry-run                      print what would be deleted; delete nothing\n");
	hg_stack_conn_usage(out);
	fprintf(out, "  --namespace NAME               namespace of the stack (default monitoring)\n"
		     "  -h, --help                     this help\n"
		     "Exit codes: 0 done, 1 failed, 2 usage or configuration error.\n");
}

static int delete_one(struct stack *s, const char *api, const char *kind, const char *ns, const char *name,
		      const char *label, char *err, size_t errlen)
{
	int rc = s->dry_run ? hg_kube_get(s->client, api, kind, ns, name, NULL, err, errlen)
			    : hg_kube_delete(s->client, api, kind, ns, name, err, errlen);
	if (rc == KUBE_ENOTFOUND) {
		fprintf(s->out, "%-58s not found\n", label);
		return 0;
	}
	if (rc == 0)
		hg_stack_line(s, label, "deleted");
	return rc;
}

/* The node(s) the node-local volumes are on, "a, b" ("" none). */
static void pv_nodes(const struct stack_node_pv *pv, size_t n, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!pv[i].node[0] || strstr(out, pv[i].node))
			continue;
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s", l ? ", " : "", pv[i].node);
	}
}

/* The agents' disk buffers: metrics not written yet, on every node an agent
 * ran on. Kept, a new install's agents write them first; with
 * --delete-data they stay all the same, and this says how to remove them. */
static void spool_note(struct stack *s, const char *ns, bool delete_data)
{
	const char *dir = STACK_NODE_DATA_DIR;
	if (!delete_data) {
		fprintf(s->out,
			"The agents' disk buffers (metrics not written yet, bounded by the agent config's max_size) "
			"stay on each node under %s/%s/%s (the stack node: %s/%s/%s); a new install's agents write "
			"them first.\n",
			dir, ns, STACK_SPOOL_DIR, dir, ns, STACK_STACK_SPOOL_DIR);
		return;
	}
	fprintf(s->out,
		"\nThe agents' disk buffers %s on each node under %s/%s/%s and %s/%s/%s (metrics not written yet, "
		"bounded by the agent config's max_size; Kubernetes does not delete a hostPath volume's data). A new "
		"install's agents would write them into its InfluxDB. To remove them, on each node:\n"
		"  kubectl debug node/NODE -it --image=busybox -- rm -rf /host%s/%s/%s /host%s/%s/%s\n"
		"or on the node itself: sudo rm -rf %s/%s/%s %s/%s/%s\n",
		s->dry_run ? "would stay" : "stay", dir, ns, STACK_SPOOL_DIR, dir, ns, STACK_STACK_SPOOL_DIR, dir, ns,
		STACK_SPOOL_DIR, dir, ns, STACK_STACK_SPOOL_DIR, dir, ns, STACK_SPOOL_DIR, dir, ns, STACK_STACK_SPOOL_DIR);
}

static int uninstall(struct stack *s, const struct stack_docs *d, bool delete_data)
{
	char err[2048], nodes[600];
	int rc = 0;
	const char *ns = hg_stack_namespace(s);
	/* Read before anything goes: where the data is, and which nodes carry the label. */
	struct stack_node_pv pv[STACK_NODE_PV_MAX];
	struct stack_label_node ln[STACK_LABEL_NODE_MAX];
	size_t npv = 0, nln = 0;
	rc = hg_stack_node_pvs(s, pv, &npv, err, sizeof err);
	if (rc == 0)
		rc = hg_stack_label_nodes(s, ln, &nln, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "agentctl uninstall-stack: %s\n", err);
		return AGENTCTL_FAILED;
	}
	pv_nodes(pv, npv, nodes, sizeof nodes);
	fprintf(s->out, "%s the Heliograph stack from namespace %s (context %s)%s\n",
		s->dry_run ? "Dry run: would uninstall" : "Uninstalling", ns, s->kc.context ? s->kc.context : "?",
		delete_data ? ", with its data" : "");
	/* The NetworkPolicy is in the render only where install-stack found
	 * NetworkPolicies enforced: deleted wherever it is, said only then. */
	rc = hg_kube_get(s->client, "networking.k8s.io/v1", "NetworkPolicy", ns, RENDER_NETPOL, NULL, err, sizeof err);
	if (rc == 0)
		rc = delete_one(s, "networking.k8s.io/v1", "NetworkPolicy", ns, RENDER_NETPOL,
				"networkpolicy.networking.k8s.io/" RENDER_NETPOL, err, sizeof err);
	else if (rc == KUBE_ENOTFOUND)
		rc = 0;
	for (size_t i = d->n; i-- > 0 && rc == 0;) {
		const struct kube_ident *id = &d->v[i].id;
		if (hg_stack_doc_is_data(id) && !delete_data)
			continue;
		if (strcmp(id->kind, "Namespace") == 0) {
			/* Secrets first: they are in the namespace, and named in the output. */
			for (size_t k = 0; k < hg_stack_secrets_count && rc == 0; k++) {
				char label[160];
				snprintf(label, sizeof label, "secret/%s", hg_stack_secrets[k].name);
				rc = delete_one(s, "v1", "Secret", ns, hg_stack_secrets[k].name, label, err, sizeof err);
			}
		}
		if (rc == 0)
			rc = delete_one(s, id->api_version, id->kind, id->namespace, id->name, d->v[i].label, err, sizeof err);
	}
	/* The label after the workloads: removed earlier, the agent DaemonSet
	 * would start a pod on the stack node beside the stack pod it is
	 * deleting. */
	for (size_t i = 0; i < nln && rc == 0; i++) {
		char label[300];
		snprintf(label, sizeof label, "node/%.253s", ln[i].name);
		rc = s->dry_run ? 0 : hg_stack_node_unlabel(s, ln[i].name, err, sizeof err);
		if (rc == KUBE_ENOTFOUND)
			rc = 0; /* the node went meanwhile */
		if (rc == 0)
			hg_stack_line(s, label, "label " STACK_NODE_LABEL " removed");
	}
	/* Cluster-scoped, Retain: deleting the claims leaves them Released and
	 * bound to the old claims' uids, so a new install's claims could not
	 * bind them. */
	for (size_t i = 0; i < npv && rc == 0 && delete_data; i++) {
		char label[300];
		snprintf(label, sizeof label, "persistentvolume/%.253s", pv[i].name);
		rc = delete_one(s, "v1", "PersistentVolume", NULL, pv[i].name, label, err, sizeof err);
	}
	if (rc != 0) {
		fprintf(stderr, "agentctl uninstall-stack: %s\n", err);
		return AGENTCTL_FAILED;
	}
	if (!delete_data) {
		fprintf(s->out, "\n%s the data: PVCs influxdb-data and grafana-data, the Secrets and namespace %s",
			s->dry_run ? "Would keep" : "Kept", ns);
		if (npv)
			fprintf(s->out, ", and the PersistentVolumes %s%s%s. The data stays on the disk of node %s, "
					"under %s/%s/. Installing again uses it and puts the stack back on %s",
				pv[0].name, npv > 1 ? " and " : "", npv > 1 ? pv[1].name : "", nodes[0] ? nodes : "?",
				STACK_NODE_DATA_DIR, ns, nodes[0] ? "that node" : "the volumes' node");
		else
			fprintf(s->out, ". Installing again uses them");
		fprintf(s->out, "; agentctl uninstall-stack --delete-data removes them (all metrics are lost)%s.\n",
			npv ? ", all but the files on the node, which it says how to remove" : "");
	} else if (npv) {
		/* A hostPath volume's files are the node's: no Kubernetes deletion reaches them. */
		fprintf(s->out,
			"\nThe files of the node-local volumes %s on node %s under %s/%s/: Kubernetes does not delete a "
			"hostPath volume's data. A new install on that node would find them (InfluxDB's old users, whose "
			"passwords the new Secrets do not know). To remove them too:\n"
			"  kubectl debug node/%s -it --image=busybox -- rm -rf /host%s/%s\n"
			"(kubectl debug mounts the node's root at /host and leaves its node-debugger pod behind: `kubectl "
			"get pods` names it, `kubectl delete pod NAME` removes it), or on the node itself: sudo rm -rf %s/%s\n",
			s->dry_run ? "would stay" : "stay", nodes[0] ? nodes : "?", STACK_NODE_DATA_DIR, ns,
			nodes[0] ? nodes : "NODE", STACK_NODE_DATA_DIR, ns, STACK_NODE_DATA_DIR, ns);
	}
	spool_note(s, ns, delete_data);
	return AGENTCTL_OK;
}

static int run_uninstall(int argc, char **argv)
{
	struct option longopts[RP_COUNT + 8];
	int n = 0;
	hg_stack_longopts(longopts, &n, false);
	longopts[n++] = (struct option){"dry-run", no_argument, NULL, OPT_DRY_RUN};
	longopts[n++] = (struct option){"delete-data", no_argument, NULL, OPT_DELETE_DATA};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};
	struct stack s = {.out = stdout, .cmd = "uninstall-stack"};
	bool delete_data = false;
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
			uninstall_usage(stdout);
			return AGENTCTL_OK;
		} else if (c == OPT_DRY_RUN) {
			s.dry_run = true;
		} else if (c == OPT_DELETE_DATA) {
			delete_data = true;
		} else {
			if (c == ':')
				fprintf(stderr, "agentctl uninstall-stack: %s needs a value; see agentctl uninstall-stack --help\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "agentctl uninstall-stack: unknown option %.*s; see agentctl uninstall-stack --help\n",
				(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return AGENTCTL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentctl uninstall-stack: unexpected argument '%s'; see agentctl uninstall-stack --help\n",
			argv[optind]);
		return AGENTCTL_USAGE;
	}
	struct stack_docs d;
	int rc = hg_stack_open(&s, &d, "uninstall-stack");
	if (rc != AGENTCTL_OK)
		return rc;
	rc = uninstall(&s, &d, delete_data);
	hg_stack_close(&s);
	hg_stack_docs_free(&d);
	return rc;
}

const struct agentctl_command hg_cmd_uninstall_stack = {
	.name = "uninstall-stack",
	.summary = "delete the monitoring stack (keeps its data unless --delete-data)",
	.run = run_uninstall,
	.usage = uninstall_usage,
};
