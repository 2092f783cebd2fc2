/* Why a rollout is stuck, in plain sentences with the fix: install-stack's
 * wait lists the stack's Pods, PVCs and Events (and, when something is
 * wrong, the Nodes, every Pod, the PersistentVolumes and CSIDrivers) and
 * turns what it sees into one sentence per problem. The functions here are
 * pure (API objects in, sentences out), so unit tests feed them objects
 * shaped as the API server returns them. */
#ifndef AGENTCTL_STACK_DIAG_H
#define AGENTCTL_STACK_DIAG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* What the diagnosis reads: List objects as GET on a collection returns
 * them ({"items": [...]}); any may be NULL (not fetched or not allowed),
 * which leaves out what needs it. */
struct stack_diag_in {
	const char *ns;       /* the stack's namespace */
	const char *cluster;  /* EKS cluster name for the commands, or NULL */
	yajl_val pods;        /* the stack's Pods (label app.kubernetes.io/part-of=heliograph) */
	yajl_val pvcs;        /* the namespace's PersistentVolumeClaims */
	yajl_val events;      /* the namespace's Events (core/v1) */
	yajl_val nodes;       /* every Node */
	yajl_val all_pods;    /* every Pod not Succeeded/Failed, all namespaces */
	yajl_val pvs;         /* PersistentVolumes */
	yajl_val csidrivers;  /* CSIDrivers */
};

/* One problem: key names it (stable while it lasts, so a sentence is
 * printed once), text is the sentence with its fix. */
struct stack_diag {
	char key[200];
	char text[2048];
};
struct stack_diags {
	struct stack_diag *v;
	size_t n, cap;
};

/* Appends a sentence for each problem seen in in to out (out->n is not
 * reset: call hg_stack_diags_clear first for a fresh round). Returns the
 * number added. */
size_t hg_stack_diagnose(const struct stack_diag_in *in, struct stack_diags *out);
void hg_stack_diags_clear(struct stack_diags *d);
void hg_stack_diags_free(struct stack_diags *d);

/* Agent DaemonSet pods (ours, not ready) on NotReady nodes: the wait does
 * not count them. Returns how many; a sentence per node goes to out when
 * out != NULL. */
int64_t hg_stack_diag_notready(const struct stack_diag_in *in, struct stack_diags *out);

/* Whether the namespace's pods or claims show anything not yet fine, so the
 * wait fetches the cluster-wide lists only then. */
bool hg_stack_diag_trouble(const struct stack_diag_in *in);

/* The EKS cluster name in a kubeconfig context name: "arn:aws:eks:REGION:
 * ACCOUNT:cluster/NAME" (aws eks update-kubeconfig) or "USER@NAME.REGION.
 * eksctl.io" (eksctl). Empty when neither. */
void hg_stack_diag_cluster_name(const char *context, char *out, size_t outlen);

/* hg_stack_rollout_state, with skip DaemonSet pods (on NotReady nodes) not
 * waited for. */
int hg_stack_rollout_state_skip(const char *kind, yajl_val obj, int64_t skip, char *msg, size_t len);

#endif
