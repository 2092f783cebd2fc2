/* What install-stack, status and uninstall-stack share: the connection to
 * the cluster, the rendered manifests split into objects, the objects the
 * stack consists of, and one line of output per object. */
#ifndef AGENTCTL_STACK_H
#define AGENTCTL_STACK_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "kube_client.h"
#include "render.h"

/* Names written in k8s-manifests/ (a test keeps these and the files in step). */
#define STACK_DEPLOYMENT "heliograph-stack"
#define STACK_DAEMONSET "heliograph-agent"
#define STACK_INFLUX_SERVICE "influxdb"
#define STACK_INFLUX_PORT "8086"
#define STACK_GRAFANA_SERVICE "grafana"
#define STACK_GRAFANA_PORT "3000"
#define STACK_DATABASE "heliograph"
#define STACK_PART_OF "app.kubernetes.io/part-of=heliograph"

/* The Secrets the manifests refer to; install-stack creates them. */
struct stack_secret {
	const char *name;
	const char *username;
	const char *purpose;
};
extern const struct stack_secret stack_secrets[];
extern const size_t stack_secrets_count;
#define STACK_SECRET_INFLUX_ADMIN 0
#define STACK_SECRET_INFLUX_AGENT 1
#define STACK_SECRET_INFLUX_GRAFANA 2
#define STACK_SECRET_GRAFANA_ADMIN 3

/* Options every cluster command takes, and the connection made from them. */
struct stack {
	const char *kubeconfig, *context;
	struct render_params rp;
	bool dry_run, force;
	struct kube_config kc;
	uv_loop_t loop;
	bool loop_ready;
	struct kube_client *client;
	FILE *out;
	const char *cmd; /* "install-stack", for messages */
};

/* The long options of struct stack (--kubeconfig, --context and the render
 * parameters) for getopt_long: appends them to opts from index *n. */
#define STACK_OPT_KUBECONFIG 900
#define STACK_OPT_CONTEXT 901
#define STACK_OPT_PARAM 1000 /* + enum render_param */
struct option;
void stack_longopts(struct option *opts, int *n, bool with_params);
/* Handles one getopt_long result of those options: 1 when it was one, 0
 * when not, -1 on a bad value (message printed). */
int stack_opt(struct stack *s, int c, const char *arg);
void stack_conn_usage(FILE *out);

/* Loads the kubeconfig and makes the client. AGENTCTL_USAGE-type failures
 * (no kubeconfig, bad context) return -2, others -1; err says which. */
int stack_connect(struct stack *s, char *err, size_t errlen);
void stack_close(struct stack *s);
const char *stack_namespace(const struct stack *s);

/* One object of the render. */
struct stack_doc {
	char *text;
	size_t len;
	struct kube_ident id;
	char label[160]; /* "deployment.apps/heliograph-stack", as kubectl names it */
};
struct stack_docs {
	struct stack_doc *v;
	size_t n;
};
int stack_docs_render(const struct render_params *rp, struct stack_docs *d, char *err, size_t errlen);
void stack_docs_free(struct stack_docs *d);
/* What every stack command does after its options: render the stack into
 * d and connect s, a failure reported as "agentctl CMD: ...". Returns
 * AGENTCTL_OK, or the exit code for the command to return. */
int stack_open(struct stack *s, struct stack_docs *d, const char *cmd);
/* kubectl's name of a kind: "deployment.apps", "configmap". */
void stack_kind_label(const char *api_version, const char *kind, const char *name, char *out, size_t outlen);
/* Sum of the memory requests of the containers of a Deployment/DaemonSet doc. */
int stack_doc_memory_request(const struct stack_doc *d, int64_t *bytes);

/* Prints "label  state" aligned (state: created, configured, unchanged ...). */
void stack_line(const struct stack *s, const char *label, const char *state);

/* The steps of install-stack, each idempotent. */
int stack_check_capacity(struct stack *s, const struct stack_docs *d, char *err, size_t errlen);
int stack_check_storage(struct stack *s, char *err, size_t errlen);
int stack_ensure_secrets(struct stack *s, int *changed, char *err, size_t errlen);
/* The username and password of a Secret (malloc'd). */
int stack_secret_read(struct stack *s, const char *name, char **user, char **password, char *err, size_t errlen);
/* Applies d->v[from..to); *changed counts what was created or configured. */
int stack_apply(struct stack *s, const struct stack_docs *d, size_t from, size_t to, int *changed, char *err,
		size_t errlen);
/* Rollout state of a Deployment or DaemonSet object as `kubectl rollout
 * status` judges it: 1 done, 0 in progress, -1 failed; msg says how far. */
int stack_rollout_state(const char *kind, yajl_val obj, char *msg, size_t len);
/* Waits until the stack Deployment and the agent DaemonSet are rolled out. */
int stack_wait(struct stack *s, int64_t timeout_ms, char *err, size_t errlen);
int stack_converge_influxdb(struct stack *s, int64_t timeout_ms, int *changed, char *err, size_t errlen);

/* Set by SIGINT: the steps stop at the next check. */
extern volatile int stack_interrupted;
void stack_catch_interrupt(void);

#endif
