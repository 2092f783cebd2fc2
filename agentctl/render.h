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

enum render_param {
	RP_NAMESPACE,
	RP_STORAGE_CLASS,
	RP_INFLUXDB_SIZE,
	RP_GRAFANA_SIZE,
	RP_RETENTION,
	RP_IMAGE_REGISTRY,
	RP_IMAGE_PULL_SECRET,
	RP_AGENT_IMAGE,
	RP_RETENTION_SHARD, /* derived from RP_RETENTION, no flag */
	RP_COUNT
};

/* NULL value = the default. Values are borrowed (argv), not copied. */
struct render_params {
	const char *value[RP_COUNT];
};

/* The flag name without "--" ("namespace"), or NULL for a derived one. */
const char *render_param_flag(enum render_param p);
/* The effective value: the one set, else the default (NULL for a parameter
 * without one, such as storage-class). */
const char *render_param_value(const struct render_params *rp, enum render_param p);
/* Looks a flag name (without "--") up; -1 if it is not a parameter. */
int render_param_find(const char *flag);
/* Like render_param_find, also knowing the derived parameters' marker names
 * ("retention-shard"). */
int render_param_marker_find(const char *name);
/* The value the files hold for a parameter (NULL: the optional-line form). */
const char *render_param_default(enum render_param p);
/* Validates and sets a parameter by flag name. -1 with a message naming the
 * flag and what it accepts. */
int render_params_set(struct render_params *rp, const char *flag, const char *value, char *err, size_t errlen);
/* The "--flag VALUE  meaning (default ...)" lines of every parameter, for
 * the --help of each command that takes them. */
void render_params_usage(FILE *out);

/* A growable output buffer; p is NUL-terminated. */
struct render_buf {
	char *p;
	size_t len, cap;
};
void render_buf_free(struct render_buf *b);

/* Substitutes the parameters into one manifest file (text[0..len)), appending
 * to out. name is used in messages ("name:line: ..."). -1 on a malformed or
 * unknown marker, or a marker whose default is not on its line. */
int render_text(const struct render_params *rp, const char *name, const char *text, size_t len,
		struct render_buf *out, char *err, size_t errlen);

struct render_dashboard {
	const char *name; /* ConfigMap key: the file's base name */
	const char *json;
	size_t len;
};
/* Appends the grafana-dashboards ConfigMap holding the given dashboards. */
int render_dashboards(const struct render_params *rp, const struct render_dashboard *d, size_t n,
		      struct render_buf *out, char *err, size_t errlen);

/* Name under which render_all emits the generated dashboards ConfigMap; it
 * sorts among the files where it is applied. */
#define RENDER_DASHBOARDS_NAME "25-grafana-dashboards.yaml"

/* Renders every embedded manifest and the dashboards ConfigMap in apply
 * order, calling emit once per file (text NUL-terminated). Stops at the
 * first error of emit (its return value) or of rendering (-1). */
typedef int (*render_emit_fn)(void *ud, const char *name, const char *text, size_t len);
int render_all(const struct render_params *rp, render_emit_fn emit, void *ud, char *err, size_t errlen);

#endif
