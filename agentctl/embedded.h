/* Files compiled into agentctl at build time (agentctl/embed.cmake writes
 * the table): the manifests of k8s-manifests/ and the dashboards of
 * grafana-dashboards/, each sorted by name. */
#ifndef AGENTCTL_EMBEDDED_H
#define AGENTCTL_EMBEDDED_H
#include <stddef.h>

struct embedded_file {
	const char *name; /* base name, e.g. "00-namespace.yaml" */
	const char *data; /* len bytes, NUL-terminated */
	size_t len;
};

extern const struct embedded_file hg_embedded_manifests[];
extern const size_t hg_embedded_manifests_count;
extern const struct embedded_file hg_embedded_dashboards[];
extern const size_t hg_embedded_dashboards_count;

#endif
