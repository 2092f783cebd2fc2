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
/* The Node label that puts the stack pod on the node agentctl chose (the
 * agent DaemonSet skips that node: the stack pod carries its agent). */
#define STACK_NODE_LABEL "heliograph.io/stack"
/* The classes render knows: node-local pre-bound volumes, and the gp3
 * class render emits when --storage-class names it. */
#define STACK_NODE_CLASS RENDER_NODE_CLASS
#define STACK_GP3_CLASS RENDER_GP3_CLASS
#define STACK_NODE_DATA_DIR RENDER_NODE_DATA_DIR
/* The agents' disk buffers on every node, under STACK_NODE_DATA_DIR/NAMESPACE/
 * (hostPath volumes agent-spool of 42-agent-daemonset.yaml and 30-stack.yaml). */
#define STACK_SPOOL_DIR "agent-spool"
#define STACK_STACK_SPOOL_DIR "stack-agent-spool"

/* The Secrets the manifests refer to; install-stack creates them. */
struct stack_secret {
	const char *name;
	const char *username;
	const char *purpose;
};
extern const struct stack_secret hg_stack_secrets[];
extern const size_t hg_stack_secrets_count;
#define STACK_SECRET_INFLUX_ADMIN 0
#define STACK_SECRET_INFLUX_AGENT 1
#define STACK_SECRET_INFLUX_GRAFANA 2
#define STACK_SECRET_GRAFANA_ADMIN 3

/* Options every cluster command takes, and the connection made from them. */
enum stack_storage_mode { STACK_STORAGE_AUTO, STACK_STORAGE_NODE, STACK_STORAGE_EBS };

struct stack {
	const char *kubeconfig, *context;
	struct render_params rp;
	bool dry_run, force;
	enum stack_storage_mode storage; /* install-stack --storage */
	/* Render parameter values install-stack decides (rp borrows them). */
	char storage_node[256], storage_class[256];
	char netpol_from[RENDER_CIDRS_MAX * 20]; /* the node and API server addresses (hg_stack_netpol_decide) */
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
void hg_stack_longopts(struct option *opts, int *n, bool with_params);
/* Handles one getopt_long result of those options: 1 when it was one, 0
 * when not, -1 on a bad value (message printed). */
int hg_stack_opt(struct stack *s, int c, const char *arg);
void hg_stack_conn_usage(FILE *out);

/* Loads the kubeconfig and makes the client. AGENTCTL_USAGE-type failures
 * (no kubeconfig, bad context) return -2, others -1; err says which. */
int hg_stack_connect(struct stack *s, char *err, size_t errlen);
void hg_stack_close(struct stack *s);
/* hg_kube_list, parsed: *out is the List object (free with yajl_tree_free). */
int hg_stack_list(struct stack *s, const char *api_version, const char *kind, const char *ns, const char *labels,
	       const char *fields, yajl_val *out, char *err, size_t errlen);
const char *hg_stack_namespace(const struct stack *s);

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
int hg_stack_docs_render(const struct render_params *rp, struct stack_docs *d, char *err, size_t errlen);
void hg_stack_docs_free(struct stack_docs *d);
/* The objects that hold the data (the namespace and the PersistentVolumeClaims):
 * uninstall-stack keeps them, with the Secrets, unless --delete-data. */
bool hg_stack_doc_is_data(const struct kube_ident *id);
/* What every stack command does after its options: render the stack into
 * d and connect s, a failure reported as "agentctl CMD: ...". Returns
 * AGENTCTL_OK, or the exit code for the command to return. */
int hg_stack_open(struct stack *s, struct stack_docs *d, const char *cmd);
/* kubectl's name of a kind: "deployment.apps", "configmap". */
void hg_stack_kind_label(const char *api_version, const char *kind, const char *name, char *out, size_t outlen);
/* What one pod of a Deployment/DaemonSet doc asks of its node. */
struct stack_pod_needs {
	int64_t memory;       /* as the scheduler counts it: max(sum of containers, largest init container) */
	bool host_network;    /* no pod-network IP */
	char containers[128]; /* "influxdb, grafana, agent" */
	int64_t priority;     /* of its priorityClassName (the built-in classes), else 0 */
};
/* The priority the Priority admission plugin gives a class name: the two
 * built-in system classes, 0 for no class or any other (install-stack
 * creates no PriorityClass). */
int64_t hg_stack_class_priority(const char *class_name);
int hg_stack_doc_pod(const struct stack_doc *d, struct stack_pod_needs *need);
/* The memory of hg_stack_doc_pod. */
int hg_stack_doc_memory_request(const struct stack_doc *d, int64_t *bytes);

/* Prints "label  state" aligned (state: created, configured, unchanged ...). */
void hg_stack_line(const struct stack *s, const char *label, const char *state);

/* The placement plan (stack_plan.c): every node with its pod slots,
 * pod-network IPs and memory requests, and where the stack pod and the
 * agents go. */
struct plan_pod;
struct plan_node;
struct stack_plan {
	yajl_val nodes_v, pods_v; /* the lists read; the strings below point into them */
	const char *ns;           /* the stack's namespace */
	struct plan_node *node;
	size_t nn;
	struct plan_pod *pod;
	size_t np;
	struct stack_pod_needs stack, agent; /* one pod of the Deployment / of the DaemonSet */
	/* Where the stack pod must go (its volumes, --storage-node): a node
	 * name, a zone, or NULL; why says so in the plan. */
	const char *want_node, *want_zone, *want_why;
	bool want_volumes; /* the volumes exist there (else --storage-node asks for it) */
	char want_buf[2][256];
	int chosen; /* index of the stack node, -1 none */
	bool fits;
};
/* Reads Nodes and Pods and what the rendered stack asks for. */
int hg_stack_plan_load(struct stack *s, const struct stack_docs *d, struct stack_plan *p, char *err, size_t errlen);
/* Re-reads the pod needs from a new render (the storage decision re-renders). */
int hg_stack_plan_set_docs(struct stack_plan *p, const struct stack_docs *d, char *err, size_t errlen);
/* Chooses the stack node; p->fits tells whether everything fits. */
void hg_stack_plan_place(struct stack_plan *p);
const char *hg_stack_plan_node(const struct stack_plan *p); /* the chosen node's name or NULL */
/* The table, printed before anything is created (and in --dry-run). */
void hg_stack_plan_print(const struct stack *s, struct stack_plan *p);
/* Why nothing fits, per node, and each option with its effect and command
 * (evaluated on p, which is left as it was). */
void hg_stack_plan_refusal(struct stack_plan *p, char *err, size_t errlen);
/* Labels the chosen node heliograph.io/stack=true (server-side apply, field
 * manager agentctl) and removes the label from every other node. */
int hg_stack_plan_label(struct stack *s, const struct stack_plan *p, int *changed, char *err, size_t errlen);
/* Removes the stack label from a node with a merge patch, so it goes
 * whoever set it (install-stack's apply or kubectl label by hand);
 * uninstall-stack uses it too. */
int hg_stack_node_unlabel(struct stack *s, const char *name, char *err, size_t errlen);
void hg_stack_plan_free(struct stack_plan *p);

/* The storage decision (stack_storage.c): node-local volumes on the stack
 * node, or a StorageClass. */
struct stack_storage {
	bool node;           /* node-local hostPath volumes */
	char cls[254];       /* the StorageClass (not node) */
	char default_cls[254]; /* the cluster's default class, if any */
	bool keep_class;     /* install-stack sets --storage-class to cls */
	const char *why;     /* why this one */
	bool create_gp3;     /* render emits StorageClass heliograph-gp3 */
	bool exists;         /* the volumes exist already (a re-run) */
	char vol_node[256];  /* where existing volumes are bound to a node */
	char vol_zone[128];  /* or to a zone (EBS) */
};
int hg_stack_storage_decide(struct stack *s, struct stack_storage *st, char *err, size_t errlen);
/* Sets the render parameters for the decision, the stack node chosen. */
int hg_stack_storage_params(struct stack *s, const struct stack_storage *st, const char *node, char *err, size_t errlen);
void hg_stack_storage_print(const struct stack *s, const struct stack_storage *st, const char *node);
/* The node-local PersistentVolumes of the stack's namespace (uninstall-stack,
 * status): found by name (heliograph-NS-influxdb-data/-grafana-data) or by a
 * claimRef to the namespace's influxdb-data/grafana-data in class
 * heliograph-node, so no render parameter is needed to find them. */
struct stack_node_pv {
	char name[256], node[256], path[300], phase[32], capacity[64], claim[300], reclaim[32];
};
#define STACK_NODE_PV_MAX 4
int hg_stack_node_pvs(struct stack *s, struct stack_node_pv *pv, size_t *n, char *err, size_t errlen);
/* The cluster's default StorageClass, name and provisioner (malloc'd), or NULLs. */
int hg_stack_default_class(struct stack *s, char **name, char **prov, char *err, size_t errlen);
/* The nodes labelled heliograph.io/stack (any value), with readiness. */
struct stack_label_node {
	char name[256], value[64];
	bool ready;
};
#define STACK_LABEL_NODE_MAX 16
int hg_stack_label_nodes(struct stack *s, struct stack_label_node *ln, size_t *n, char *err, size_t errlen);
/* Whether node name exists and is Ready (*exists false: no such node). */
int hg_stack_node_ready(struct stack *s, const char *name, bool *exists, bool *ready, char *err, size_t errlen);

/* Whether the cluster enforces NetworkPolicies (the VPC CNI's network policy
 * agent): if so, sets --network-policy-from to the nodes' and the API
 * server's addresses, so the render holds the NetworkPolicy; if not, prints
 * why none is installed. --network-policy-from given: used as given. */
int hg_stack_netpol_decide(struct stack *s, char *err, size_t errlen);

/* The steps of install-stack, each idempotent. */
int hg_stack_ensure_secrets(struct stack *s, int *changed, char *err, size_t errlen);
/* The username and password of a Secret (malloc'd). */
int hg_stack_secret_read(struct stack *s, const char *name, char **user, char **password, char *err, size_t errlen);
/* Applies d->v[from..to); *changed counts what was created or configured. */
int hg_stack_apply(struct stack *s, const struct stack_docs *d, size_t from, size_t to, int *changed, char *err,
		size_t errlen);
/* Rollout state of a Deployment or DaemonSet object as `kubectl rollout
 * status` judges it: 1 done, 0 in progress, -1 failed; msg says how far. */
int hg_stack_rollout_state(const char *kind, yajl_val obj, char *msg, size_t len);
/* Waits until the stack Deployment and the agent DaemonSet are rolled out. */
int hg_stack_wait(struct stack *s, int64_t timeout_ms, char *err, size_t errlen);
/* InfluxDB's set-up (stack_influx.c): the stack pod's init container
 * influxdb-setup ran with the current Secrets and ConfigMap influxdb-init
 * (the pod restarted when not), and its report printed. */
int hg_stack_converge_influxdb(struct stack *s, int64_t timeout_ms, int *changed, char *err, size_t errlen);
/* Whether a stack pod of pods (a Pod list) had its influxdb-setup fail:
 * 1 and why in msg (its exit code and the script's own message, or the
 * log's last lines), 0 if not. */
int hg_stack_setup_failure(struct stack *s, yajl_val pods, char *msg, size_t len);
/* The log of influxdb-setup in pod (malloc'd), of its previous run if asked. */
int hg_stack_setup_log(struct stack *s, const char *pod, bool previous, char **log, char *err, size_t errlen);

/* Set by SIGINT: the steps stop at the next check. */
extern volatile int hg_stack_interrupted;
void hg_stack_catch_interrupt(void);
/* SIGINT, SIGTERM and SIGHUP (unless ignored) end agentctl as they would,
 * after a SIGTERM to the exec credential plugins it runs: they are in
 * sessions of their own (kube_exec_run.c), where the terminal's Ctrl-C does
 * not reach them. Called first thing by main. */
void hg_stack_catch_fatal_signals(void);

#endif
