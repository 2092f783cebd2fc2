/* Connection options of the cluster commands and the client made from them. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "jsonq.h"
#include "kube_exec.h"
#include "stack.h"

const struct stack_secret hg_stack_secrets[] = {
	[STACK_SECRET_INFLUX_ADMIN] = {"influxdb-admin", "admin", "InfluxDB admin"},
	[STACK_SECRET_INFLUX_AGENT] = {"influxdb-agent", "heliograph", "InfluxDB user of the agent (write-only)"},
	[STACK_SECRET_INFLUX_GRAFANA] = {"influxdb-grafana", "grafana", "InfluxDB user of Grafana (read-only)"},
	[STACK_SECRET_GRAFANA_ADMIN] = {"grafana-admin", "admin", "Grafana admin"},
};
const size_t hg_stack_secrets_count = sizeof hg_stack_secrets / sizeof *hg_stack_secrets;

volatile int hg_stack_interrupted;

/* Ends the process by sig, as the default action would, with its plugins. */
static void end_with_plugins(int sig)
{
	hg_kube_exec_signal_groups(SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

void hg_stack_catch_fatal_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old, sa = { 0 };
		/* A signal the caller ignores (nohup, a job's SIGINT) stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sa.sa_handler = end_with_plugins;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static void on_interrupt(int sig)
{
	(void)sig;
	hg_stack_interrupted = 1;
	/* A second Ctrl-C ends the process at once (with its plugins). */
	signal(SIGINT, end_with_plugins);
}

void hg_stack_catch_interrupt(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

void hg_stack_longopts(struct option *opts, int *n, bool with_params)
{
	opts[(*n)++] = (struct option){"kubeconfig", required_argument, NULL, STACK_OPT_KUBECONFIG};
	opts[(*n)++] = (struct option){"context", required_argument, NULL, STACK_OPT_CONTEXT};
	for (int p = 0; p < RP_COUNT; p++) {
		if (!hg_render_param_flag(p) || (!with_params && p != RP_NAMESPACE))
			continue;
		opts[(*n)++] = (struct option){hg_render_param_flag(p), required_argument, NULL, STACK_OPT_PARAM + p};
	}
}

int hg_stack_opt(struct stack *s, int c, const char *arg)
{
	char err[512];
	if (c == STACK_OPT_KUBECONFIG) {
		s->kubeconfig = arg;
		return 1;
	}
	if (c == STACK_OPT_CONTEXT) {
		s->context = arg;
		return 1;
	}
	if (c >= STACK_OPT_PARAM && c < STACK_OPT_PARAM + RP_COUNT) {
		if (hg_render_params_set(&s->rp, hg_render_param_flag(c - STACK_OPT_PARAM), arg, err, sizeof err) < 0) {
			fprintf(stderr, "agentctl %s: %s\n", s->cmd, err);
			return -1;
		}
		return 1;
	}
	return 0;
}

void hg_stack_conn_usage(FILE *out)
{
	fprintf(out, "  --kubeconfig FILE              kubeconfig to use (default $KUBECONFIG, else ~/.kube/config)\n"
		     "  --context NAME                 kubeconfig context (default its current-context)\n");
}

const char *hg_stack_namespace(const struct stack *s)
{
	return hg_render_param_value(&s->rp, RP_NAMESPACE);
}

int hg_stack_connect(struct stack *s, char *err, size_t errlen)
{
	struct kube_config_opts o = {.kubeconfig = s->kubeconfig, .context = s->context};
	if (hg_kube_config_load(&s->kc, &o, err, errlen) != 0)
		return -2;
	/* Once per run: each command connects once. */
	if (s->kc.insecure_skip_tls_verify)
		fprintf(stderr, "agentctl %s: warning: the kubeconfig's cluster \"%s\" %s\n", s->cmd,
			s->kc.cluster_name ? s->kc.cluster_name : "?", hg_kube_config_insecure_text(&s->kc));
	if (uv_loop_init(&s->loop) != 0) {
		snprintf(err, errlen, "cannot start the event loop");
		hg_kube_config_free(&s->kc);
		return -1;
	}
	s->loop_ready = true;
	s->client = hg_kube_client_new(&s->loop, NULL, &s->kc, err, errlen);
	if (!s->client) {
		hg_stack_close(s);
		return -1;
	}
	hg_kube_client_set_user_agent(s->client, "agentctl/" HG_VERSION);
	return 0;
}

void hg_stack_close(struct stack *s)
{
	if (s->client)
		hg_kube_client_free(s->client);
	s->client = NULL;
	if (s->loop_ready) {
		/* Handles closed by the client finish closing here. */
		uv_run(&s->loop, UV_RUN_DEFAULT);
		uv_loop_close(&s->loop);
		s->loop_ready = false;
		hg_kube_config_free(&s->kc);
	}
}

void hg_stack_line(const struct stack *s, const char *label, const char *state)
{
	fprintf(s->out, "%-58s %s%s\n", label, state, s->dry_run ? " (dry run)" : "");
	fflush(s->out);
}

int hg_stack_open(struct stack *s, struct stack_docs *d, const char *cmd)
{
	char err[1024];
	if (hg_stack_docs_render(&s->rp, d, err, sizeof err) != 0) {
		fprintf(stderr, "agentctl %s: %s\n", cmd, err);
		return AGENTCTL_FAILED;
	}
	int rc = hg_stack_connect(s, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "agentctl %s: %s\n", cmd, err);
		hg_stack_docs_free(d);
		return rc == -2 ? AGENTCTL_USAGE : AGENTCTL_FAILED;
	}
	return AGENTCTL_OK;
}

int hg_stack_list(struct stack *s, const char *api_version, const char *kind, const char *ns, const char *labels,
	       const char *fields, yajl_val *out, char *err, size_t errlen)
{
	char *body = NULL;
	*out = NULL;
	int rc = hg_kube_list(s->client, api_version, kind, ns, labels, fields, &body, err, errlen);
	if (rc == 0 && !(*out = hg_jq_parse(body, err, errlen)))
		rc = -1;
	free(body);
	return rc;
}
