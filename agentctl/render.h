/* The manifests agentctl applies: the embedded the k8s-manifests files with the
 * user's parameters substituted, plus the grafana-dashboards ConfigMap built
 * from the embedded dashboards.
 *
 * Parameter markers (k8s-manifests/README.md documents them for people):
 *   value lines     "<yaml>  # agentctl:P1[,P2]": each set parameter's
 *                   default, where it stands as a whole token on the line, is
 *                   replaced by its value; the first listed parameter wins
 *                   where two defaults start at the same place.
 *   optional lines  "<indent># agentctl:P? <yaml with @VALUE@>": a comment
 *                   unless P is set; then "<indent><yaml>" with the value.
 * With every parameter at its default the output is the file, byte for byte. */
#ifndef AGENTCTL_RENDER_H
#define AGENTCTL_RENDER_H
#include <stddef.h>
#include <stdio.h>
#include "strbuf.h"

enum render_param {
	RP_NAMESPACE,
	RP_STORAGE_CLASS,
	RP_INFLUXDB_SIZE,
	RP_GRAFANA_SIZE,
	RP_RETENTION,
	RP_IMAGE_REGISTRY,
	RP_IMAGE_PULL_SECRET,
	RP_AGENT_IMAGE,
	RP_STORAGE_NODE,
	RP_NETPOL_FROM,     /* NetworkPolicy: who may reach InfluxDB and the agent's port */
	RP_GRAFANA_FROM,    /* NetworkPolicy: who may reach Grafana's port */
	RP_RETENTION_SHARD, /* derived from RP_RETENTION, no flag */
	RP_VOLUME_CLASS,    /* derived: the PVCs' storageClassName, no flag */
	RP_COUNT
};

/* The storageClassName of the volumes with --storage-node: a class name only,
 * no StorageClass object (the PersistentVolumes are pre-bound to the PVCs
 * and nothing provisions it). */
#define RENDER_NODE_CLASS "heliograph-node"
/* The one --storage-class value for which render also emits the
 * StorageClass (RENDER_STORAGE_CLASS_NAME): agentctl's own encrypted gp3
 * class for clusters with the EBS CSI driver and no usable default class. */
#define RENDER_GP3_CLASS "heliograph-gp3"
/* Where --storage-node keeps the data on the node: DIR/<namespace>/influxdb
 * and DIR/<namespace>/grafana. */
#define RENDER_NODE_DATA_DIR "/var/lib/heliograph"

/* NULL value = the default. Values are borrowed (argv), not copied. */
struct render_params {
	const char *value[RP_COUNT];
};

/* The flag name without "--" ("namespace"), or NULL for a derived one. */
const char *hg_render_param_flag(enum render_param p);
/* The effective value: the one set, else the default (NULL for a parameter
 * without one, such as storage-class). */
const char *hg_render_param_value(const struct render_params *rp, enum render_param p);
/* Looks a flag name (without "--") up; -1 if it is not a parameter. */
int hg_render_param_find(const char *flag);
/* Like hg_render_param_find, also knowing the derived parameters' marker names
 * ("retention-shard"). */
int hg_render_param_marker_find(const char *name);
/* The value the files hold for a parameter (NULL: the optional-line form). */
const char *hg_render_param_default(enum render_param p);
/* Validates and sets a parameter by flag name. -1 with a message naming the
 * flag and what it accepts, or the flag it cannot be combined with
 * (--storage-node and --storage-class: node storage has its own class). */
int hg_render_params_set(struct render_params *rp, const char *flag, const char *value, char *err, size_t errlen);
/* The "--flag VALUE  meaning (default ...)" lines of every parameter, for
 * the --help of each command that takes them. */
void hg_render_params_usage(FILE *out);

/* Substitutes the parameters into one manifest file (text[0..len)), appending
 * to out. name is used in messages ("name:line: ..."). -1 on a malformed or
 * unknown marker, or a marker whose default is not on its line. */
int hg_render_text(const struct render_params *rp, const char *name, const char *text, size_t len,
		struct strbuf *out, char *err, size_t errlen);

struct render_dashboard {
	const char *name; /* ConfigMap key: the file's base name */
	const char *json;
	size_t len;
};
/* Appends the grafana-dashboards ConfigMap holding the given dashboards. */
int hg_render_dashboards(const struct render_params *rp, const struct render_dashboard *d, size_t n,
		      struct strbuf *out, char *err, size_t errlen);

/* With --storage-node NODE: the two hostPath PersistentVolumes on NODE,
 * pre-bound to the PVCs. Appends nothing without --storage-node. */
int hg_render_node_volumes(const struct render_params *rp, struct strbuf *out, char *err, size_t errlen);
/* With --storage-class heliograph-gp3: that StorageClass. Appends nothing
 * for any other class. */
int hg_render_storage_class(const struct render_params *rp, struct strbuf *out, char *err, size_t errlen);

/* With --network-policy-from: the NetworkPolicy of the stack pod (InfluxDB
 * from those addresses only, Grafana's port from --grafana-from only, the
 * agent's health port from its node's kubelet only). Appends nothing without --network-policy-from. */
int hg_render_network_policy(const struct render_params *rp, struct strbuf *out, char *err, size_t errlen);
/* At most this many CIDRs in --network-policy-from / --grafana-from. */
#define RENDER_CIDRS_MAX 1024
/* The NetworkPolicy's name (and the stack pod's app.kubernetes.io/name). */
#define RENDER_NETPOL "heliograph-stack"

/* Names under which hg_render_all emits the generated documents; each sorts
 * among the files where it is applied. A generated document that is empty
 * for the parameters given is not emitted. */
#define RENDER_STORAGE_CLASS_NAME "05-storage-class.yaml"
#define RENDER_NODE_VOLUMES_NAME "15-node-volumes.yaml"
#define RENDER_DASHBOARDS_NAME "25-grafana-dashboards.yaml"
#define RENDER_NETPOL_NAME "29-network-policy.yaml"

/* Renders every embedded manifest and the generated documents in apply
 * order, calling emit once per file (text NUL-terminated). Stops at the
 * first error of emit (its return value) or of rendering (-1). */
typedef int (*render_emit_fn)(void *ud, const char *name, const char *text, size_t len);
int hg_render_all(const struct render_params *rp, render_emit_fn emit, void *ud, char *err, size_t errlen);

#endif
