/* agentctl install-stack: decides where the data is kept, plans where the
 * stack pod and the agents go (printed before anything is created, and
 * refused with the options when nothing fits), labels the stack node,
 * creates the Secrets, server-side applies the render, waits
 * for the rollout and for InfluxDB's set-up in the stack pod. Every step is idempotent, so an
 * interrupted run is finished by running it again, and a run over an
 * installed stack changes nothing and says "unchanged" throughout. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "stack.h"
#include "url_redact.h"

#define DEFAULT_TIMEOUT_MS (5 * 60 * 1000)

enum { OPT_DRY_RUN = 1, OPT_FORCE, OPT_WAIT, OPT_NO_WAIT, OPT_TIMEOUT, OPT_STORAGE };

static void install_usage(FILE *out)
{
	fprintf(out,
		"Usage: agentctl install-stack [options]\n"
		"Installs or updates the monitoring stack (InfluxDB 1.12 and Grafana in one pod, the agent as a\n"
		"DaemonSet) in the cluster of the current kubeconfig context, by server-side apply of what\n"
		"`agentctl render` prints. Before creating anything it prints its placement plan: per node the pod\n"
		"slots, pod-network IPs and memory requests, and where the stack pod (InfluxDB, Grafana and that\n"
		"node's agent) and the agents go; it labels the stack node heliograph.io/stack=true. When nothing\n"
		"fits it refuses and says why and what to change. Secrets get random passwords once and are\n"
		"never replaced. Where the cluster enforces NetworkPolicies (the VPC CNI's network policy agent)\n"
		"it installs one for the stack pod. Then it waits for the rollout, in which the stack pod's init\n"
		"container influxdb-setup sets up InfluxDB's database, retention policy and users from the\n"
		"Secrets (the passwords stay in the pod), restarts the pod when a Secret or the retention changed\n"
		"since, prints the set-up's report and how to reach Grafana. Running it again changes nothing;\n"
		"an interrupted run is finished by running it again.\n"
		"  --dry-run                      print what would change; change nothing\n"
		"  --force                        install even if the plan does not fit or storage is not usable\n"
		"  --storage auto|node|ebs        where the data is kept (default auto): node = hostPath volumes on\n"
		"                                 the stack node's disk (lost with the node), ebs = EBS volumes\n"
		"                                 (the EBS CSI add-on); auto = existing volumes, else a default\n"
		"                                 class whose provisioner is installed, else EBS (gp3) when the\n"
		"                                 driver is installed, else node\n"
		"  --wait[=true|false]            wait for the rollout and InfluxDB's set-up (default true)\n"
		"  --no-wait                      same as --wait=false\n"
		"  --timeout DURATION             how long to wait, e.g. 300s, 5m, 1h (default 5m)\n");
	hg_stack_conn_usage(out);
	hg_render_params_usage(out);
	fprintf(out, "  -h, --help                     this help\n"
		     "Exit codes: 0 installed, 1 failed or refused, 2 usage or configuration error.\n");
}

/* "90", "90s", "5m", "1h" -> ms; -1 if invalid. */
static int64_t parse_timeout(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || n < 0 || n > 86400 * 7)
		return -1;
	int64_t unit = 1000;
	if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (strcmp(end, "h") == 0)
		unit = 3600000;
	else if (*end && strcmp(end, "s") != 0)
		return -1;
	return n * unit;
}

static void print_access(const struct stack *s)
{
	const char *ns = hg_stack_namespace(s);
	char ctx[300] = "";
	if (s->context)
		snprintf(ctx, sizeof ctx, " --context %s", s->context);
	fprintf(s->out,
		"\nGrafana:  kubectl%s -n %s port-forward svc/%s %s:%s   then open http://localhost:%s\n"
		"  user admin; password: kubectl%s -n %s get secret %s -o jsonpath='{.data.password}' | base64 -d\n"
		"InfluxDB: users and passwords in the Secrets %s, %s and %s (same command)\n",
		ctx, ns, STACK_GRAFANA_SERVICE, STACK_GRAFANA_PORT, STACK_GRAFANA_PORT, STACK_GRAFANA_PORT, ctx, ns,
		hg_stack_secrets[STACK_SECRET_GRAFANA_ADMIN].name, hg_stack_secrets[STACK_SECRET_INFLUX_ADMIN].name,
		hg_stack_secrets[STACK_SECRET_INFLUX_AGENT].name, hg_stack_secrets[STACK_SECRET_INFLUX_GRAFANA].name);
}

/* The default agent image exists only once this version's release has been
 * published (.github/workflows/release.yml): said before anything is
 * created, because the symptom otherwise is an ImagePullBackOff minutes later. */
static void print_agent_image(const struct stack *s)
{
	if (s->rp.value[RP_AGENT_IMAGE])
		return;
	fprintf(s->out,
		"Agent image %s (the default): published by the project's release of this version. Until then,\n"
		"  or to use your own registry: scripts/ecr-push.sh builds and pushes it to your ECR and prints\n"
		"  the --agent-image to pass.\n",
		hg_render_param_value(&s->rp, RP_AGENT_IMAGE));
}

/* A failed check stops the install unless --force. */
static int check(struct stack *s, int rc, const char *what, const char *err)
{
	if (rc == 0)
		return 0;
	if (rc == KUBE_EAUTH || !s->force) {
		fprintf(stderr, "agentctl install-stack: %s%s\n", rc == KUBE_EAUTH ? "" : "refusing to install: ", err);
		return -1;
	}
	fprintf(stderr, "agentctl install-stack: warning: %s check failed, installing anyway (--force): %s\n", what, err);
	return 0;
}

/* Decides storage and placement, sets the render parameters they need and
 * re-renders d, prints the plan. 0 to go on (it fits, or --force), -1 on
 * a refusal or error (printed). */
static int plan(struct stack *s, struct stack_docs *d, struct stack_plan *p, int *changed)
{
	char err[8192], serr[2048];
	struct stack_storage st;
	int nrc = hg_stack_netpol_decide(s, err, sizeof err);
	if (nrc != 0) {
		fprintf(stderr, "agentctl install-stack: %s\n", err);
		return -1;
	}
	/* A storage refusal comes after the plan, which is shown either way. */
	int src = hg_stack_storage_decide(s, &st, serr, sizeof serr);
	if (src == KUBE_EAUTH) {
		check(s, src, "storage", serr);
		return -1;
	}
	if (src != 0 && !st.node && !st.cls[0])
		st.node = true, st.why = "--force"; /* a failed check: something to render */
	if (hg_stack_plan_load(s, d, p, err, sizeof err) != 0) {
		fprintf(stderr, "agentctl install-stack: %s\n", err);
		return -1;
	}
	if (st.vol_node[0]) {
		snprintf(p->want_buf[0], sizeof p->want_buf[0], "%s", st.vol_node);
		p->want_node = p->want_buf[0];
		p->want_why = st.exists ? "its volumes are on that node's disk" : "--storage-node";
		p->want_volumes = st.exists;
	} else if (st.vol_zone[0]) {
		snprintf(p->want_buf[1], sizeof p->want_buf[1], "%s", st.vol_zone);
		p->want_zone = p->want_buf[1];
		p->want_why = "its EBS volumes are in that zone";
		p->want_volumes = true;
	}
	hg_stack_plan_place(p);
	/* The storage parameters change the volumes, not the pods: the plan stands. */
	if ((src == 0 || s->force) &&
	    (hg_stack_storage_params(s, &st, hg_stack_plan_node(p), err, sizeof err) != 0 ||
	     (hg_stack_docs_free(d), hg_stack_docs_render(&s->rp, d, err, sizeof err)) != 0 ||
	     hg_stack_plan_set_docs(p, d, err, sizeof err) != 0)) {
		fprintf(stderr, "agentctl install-stack: %s\n", err);
		return -1;
	}
	hg_stack_plan_print(s, p);
	if (src == 0 || s->force)
		hg_stack_storage_print(s, &st, hg_stack_plan_node(p));
	fprintf(s->out, "\n");
	fflush(s->out);
	if (check(s, src, "storage", serr) != 0)
		return -1;
	if (!p->fits) {
		hg_stack_plan_refusal(p, err, sizeof err);
		if (check(s, -1, "placement", err) != 0)
			return -1;
	}
	if (hg_stack_plan_label(s, p, changed, err, sizeof err) != 0) {
		fprintf(stderr, "agentctl install-stack: %s\n", err);
		return -1;
	}
	return 0;
}

static int install(struct stack *s, struct stack_docs *d, bool wait, int64_t timeout_ms)
{
	char err[16384]; /* a stuck rollout lists each reason with its fix */
	int changed = 0, rc;
	char server[512];
	fprintf(s->out, "%s the Heliograph stack in namespace %s (context %s, %s)\n",
		s->dry_run ? "Dry run: would install" : "Installing", hg_stack_namespace(s), s->kc.context ? s->kc.context : "?",
		s->kc.server ? hg_url_redact(s->kc.server, server, sizeof server) : "?");
	struct stack_plan p;
	memset(&p, 0, sizeof p);
	rc = plan(s, d, &p, &changed);
	hg_stack_plan_free(&p);
	if (rc != 0)
		return AGENTCTL_FAILED;
	size_t first = 0; /* the Namespace comes first: the Secrets go into it */
	while (first < d->n && strcmp(d->v[first].id.kind, "Namespace") == 0)
		first++;
	rc = hg_stack_apply(s, d, 0, first, &changed, err, sizeof err);
	if (rc == 0 && !hg_stack_interrupted)
		rc = hg_stack_ensure_secrets(s, &changed, err, sizeof err);
	if (rc == 0)
		rc = hg_stack_apply(s, d, first, d->n, &changed, err, sizeof err);
	if (rc == 0 && !s->dry_run && wait && !hg_stack_interrupted)
		rc = hg_stack_wait(s, timeout_ms, err, sizeof err);
	if (rc == 0 && !s->dry_run && wait && !hg_stack_interrupted)
		rc = hg_stack_converge_influxdb(s, timeout_ms, &changed, err, sizeof err);
	if (rc == 0 && hg_stack_interrupted) {
		snprintf(err, sizeof err, "interrupted");
		rc = -1;
	}
	if (rc != 0) {
		fprintf(stderr, "agentctl install-stack: %s\n", err);
		if (hg_stack_interrupted)
			fprintf(stderr, "Every step done so far is complete; run agentctl install-stack again to finish.\n");
		return AGENTCTL_FAILED;
	}
	if (s->dry_run)
		fprintf(s->out, "\nDry run: %d change%s would be made; nothing was changed.\n", changed,
			changed == 1 ? "" : "s");
	else if (changed == 0)
		fprintf(s->out, "\nNothing changed: the stack was already installed as asked (everything unchanged).\n");
	else
		fprintf(s->out, "\nDone: %d change%s.\n", changed, changed == 1 ? "" : "s");
	if (!s->dry_run && !wait)
		fprintf(s->out, "Not waiting (--wait=false): the stack pod sets InfluxDB up as it starts; run "
				"install-stack again to wait for it and see its report (agentctl status shows progress).\n");
	if (!s->dry_run)
		print_access(s);
	return AGENTCTL_OK;
}

static int run_install(int argc, char **argv)
{
	struct option longopts[RP_COUNT + 16];
	int n = 0;
	hg_stack_longopts(longopts, &n, true);
	longopts[n++] = (struct option){"dry-run", no_argument, NULL, OPT_DRY_RUN};
	longopts[n++] = (struct option){"force", no_argument, NULL, OPT_FORCE};
	longopts[n++] = (struct option){"wait", optional_argument, NULL, OPT_WAIT};
	longopts[n++] = (struct option){"no-wait", no_argument, NULL, OPT_NO_WAIT};
	longopts[n++] = (struct option){"timeout", required_argument, NULL, OPT_TIMEOUT};
	longopts[n++] = (struct option){"storage", required_argument, NULL, OPT_STORAGE};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};

	struct stack s = {.out = stdout, .cmd = "install-stack"};
	bool wait = true;
	int64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		/* Options with a required argument always get one from
		 * getopt_long (else ':'); val says so for the reader and the
		 * analyser, which keeps optarg's NULL from an earlier --wait. */
		const char *val = optarg ? optarg : "";
		int r = hg_stack_opt(&s, c, optarg);
		if (r < 0)
			return AGENTCTL_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			install_usage(stdout);
			return AGENTCTL_OK;
		case OPT_DRY_RUN: s.dry_run = true; break;
		case OPT_FORCE: s.force = true; break;
		case OPT_STORAGE:
			if (strcmp(val, "auto") == 0)
				s.storage = STACK_STORAGE_AUTO;
			else if (strcmp(val, "node") == 0)
				s.storage = STACK_STORAGE_NODE;
			else if (strcmp(val, "ebs") == 0)
				s.storage = STACK_STORAGE_EBS;
			else {
				fprintf(stderr, "agentctl install-stack: --storage '%s': expected auto, node or ebs\n", val);
				return AGENTCTL_USAGE;
			}
			break;
		case OPT_NO_WAIT: wait = false; break;
		case OPT_WAIT:
			if (!optarg || strcmp(optarg, "true") == 0)
				wait = true;
			else if (strcmp(optarg, "false") == 0)
				wait = false;
			else {
				fprintf(stderr, "agentctl install-stack: --wait '%s': expected true or false\n", optarg);
				return AGENTCTL_USAGE;
			}
			break;
		case OPT_TIMEOUT:
			if ((timeout_ms = parse_timeout(val)) < 0) {
				fprintf(stderr, "agentctl install-stack: --timeout '%s': expected a duration such as 300s, "
						"5m or 1h\n", val);
				return AGENTCTL_USAGE;
			}
			break;
		case ':':
			fprintf(stderr, "agentctl install-stack: %s needs a value; see agentctl install-stack --help\n",
				argv[optind - 1]);
			return AGENTCTL_USAGE;
		default:
			fprintf(stderr, "agentctl install-stack: unknown option %.*s; see agentctl install-stack --help\n",
				(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return AGENTCTL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentctl install-stack: unexpected argument '%s'; see agentctl install-stack --help\n",
			argv[optind]);
		return AGENTCTL_USAGE;
	}
	struct stack_docs d;
	int rc = hg_stack_open(&s, &d, "install-stack");
	if (rc != AGENTCTL_OK)
		return rc;
	hg_stack_catch_interrupt();
	print_agent_image(&s);
	rc = install(&s, &d, wait, timeout_ms);
	hg_stack_close(&s);
	hg_stack_docs_free(&d);
	return rc;
}

const struct agentctl_command hg_cmd_install_stack = {
	.name = "install-stack",
	.summary = "install or update the monitoring stack in the cluster",
	.run = run_install,
	.usage = install_usage,
};
