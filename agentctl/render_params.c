/* The parameters of the manifests: defaults, and validation of the values a
 * user gives. A value ends up inside YAML unquoted, so validation is also what
 * keeps a value from changing the structure of a manifest. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"

struct param_desc {
	const char *flag;
	const char *def;  /* must match the value written in k8s-manifests/ */
	const char *meta; /* the VALUE of the usage line */
	const char *help;
	bool (*valid)(const char *v);
	const char *accepts; /* what a valid value is, for the error */
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 label: what Namespace names must be. */
static bool valid_dns_label(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 63 || !is_lower_alnum(v[0]) || !is_lower_alnum(v[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(v[i]) && v[i] != '-')
			return false;
	return true;
}

/* RFC 1123 subdomain: StorageClass and Secret names. */
static bool valid_dns_subdomain(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 253)
		return false;
	const char *s = v;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		char label[64];
		if (l == 0 || l > 63)
			return false;
		memcpy(label, s, l);
		label[l] = '\0';
		if (!valid_dns_label(label))
			return false;
		if (!dot)
			return true;
		s = dot + 1;
	}
}

/* A Kubernetes quantity as storage sizes are written: a positive decimal
 * number with an optional binary or decimal suffix (5Gi, 1.5Gi, 500M). */
static bool valid_quantity(const char *v)
{
	static const char *const suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E"};
	const char *p = v;
	bool nonzero = false, digits = false;
	while (*p >= '0' && *p <= '9') {
		nonzero |= *p != '0';
		digits = true;
		p++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			nonzero |= *p != '0';
			digits = true;
			p++;
		}
	}
	if (!digits || !nonzero)
		return false;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
		if (strcmp(p, suffixes[i]) == 0)
			return true;
	return false;
}

/* Seconds of an InfluxQL duration made of s/m/h/d/w parts ("30d", "4w2d");
 * -1 if it is not one. INF is handled by the callers. */
static int64_t influx_duration_s(const char *v)
{
	int64_t total = 0;
	const char *p = v;
	if (!*p)
		return -1;
	while (*p) {
		int64_t n = 0;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p - '0');
			if (n > 1000000000)
				return -1;
			p++;
		}
		int64_t unit;
		switch (*p) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		p++;
		total += n * unit;
		if (total > (int64_t)1 << 50)
			return -1;
	}
	return total;
}

/* InfluxDB refuses retention policies shorter than an hour. */
static bool valid_retention(const char *v)
{
	return strcmp(v, "INF") == 0 || influx_duration_s(v) >= 3600;
}

/* A registry host with an optional port and path (an ECR pull-through cache is
 * "ACCOUNT.dkr.ecr.REGION.amazonaws.com/docker-hub"). */
static bool valid_registry(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 200 || v[0] == '/' || v[0] == '-' || v[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '-' || c == '_' || c == ':' || c == '/';
		if (!ok || (c == '/' && v[i + 1] == '/'))
			return false;
	}
	return true;
}

/* An image reference: registry/path:tag or @sha256:digest characters only. */
static bool valid_image(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 255 || v[0] == '-' || v[0] == '/' || v[0] == ':' || v[0] == '@')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '-' || c == '_' || c == ':' || c == '/' || c == '@';
		if (!ok)
			return false;
	}
	return true;
}

/* "10.0.1.7/32,10.0.2.0/24": at most RENDER_CIDRS_MAX CIDRs, each an address
 * inet_pton reads and a prefix length within its family's bits. */
static bool valid_cidrs(const char *v)
{
	size_t n = 0;
	while (*v) {
		size_t len = strcspn(v, ",");
		char one[64];
		if (len == 0 || len >= sizeof one || ++n > RENDER_CIDRS_MAX)
			return false;
		memcpy(one, v, len);
		one[len] = '\0';
		char *slash = strchr(one, '/');
		if (!slash || !slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) || strlen(slash + 1) > 3)
			return false;
		*slash = '\0';
		unsigned char addr[16];
		int bits = atoi(slash + 1);
		bool v4 = inet_pton(AF_INET, one, addr) == 1, v6 = !v4 && inet_pton(AF_INET6, one, addr) == 1;
		if ((!v4 && !v6) || bits > (v4 ? 32 : 128))
			return false;
		v += len;
		if (*v == ',' && *++v == '\0')
			return false;
	}
	return n > 0;
}

static const struct param_desc params[RP_COUNT] = {
	[RP_NAMESPACE] = {"namespace", "monitoring", "NAME", "namespace of the stack and the agent", valid_dns_label,
			  "a DNS label: lowercase letters, digits and '-', at most 63"},
	[RP_STORAGE_CLASS] = {"storage-class", NULL, "NAME",
			      "StorageClass of the volumes (default: the cluster's default class; "
			      "" RENDER_GP3_CLASS " is created: EBS gp3, encrypted)",
			      valid_dns_subdomain, "a StorageClass name: lowercase letters, digits, '-' and '.'"},
	[RP_INFLUXDB_SIZE] = {"influxdb-size", "5Gi", "SIZE", "size of the InfluxDB volume", valid_quantity,
			      "a positive size such as 5Gi or 500Mi"},
	[RP_GRAFANA_SIZE] = {"grafana-size", "1Gi", "SIZE", "size of the Grafana volume", valid_quantity,
			     "a positive size such as 1Gi or 500Mi"},
	[RP_RETENTION] = {"retention", "30d", "DURATION", "how long InfluxDB keeps metrics (INF: forever)",
			  valid_retention, "INF or a duration of at least 1h such as 30d, 2w or 12h"},
	[RP_IMAGE_REGISTRY] = {"image-registry", "docker.io", "HOST[/PATH]",
			       "pull the docker.io images (InfluxDB, Grafana) from this registry instead, e.g. an ECR "
			       "pull-through cache ACCOUNT.dkr.ecr.REGION.amazonaws.com/docker-hub",
			       valid_registry,
			       "a registry host with an optional :port and /path"},
	[RP_IMAGE_PULL_SECRET] = {"image-pull-secret", NULL, "NAME", "Secret the pods pull their images with",
				  valid_dns_subdomain, "a Secret name: lowercase letters, digits, '-' and '.'"},
	[RP_AGENT_IMAGE] = {"agent-image", HG_AGENT_IMAGE /* the IMAGE file */, "IMAGE",
			    "image of the agent, used as given; the default is the one the release of this version "
			    "publishes on ghcr.io; scripts/ecr-push.sh builds and pushes your own to ECR and prints this flag",
			    valid_image,
			    "an image reference such as registry/heliograph/agent:0.1.0"},
	[RP_STORAGE_NODE] = {"storage-node", NULL, "NODE",
			     "keep the volumes in " RENDER_NODE_DATA_DIR " on this node's disk (hostPath "
			     "PersistentVolumes; lost with the node)",
			     valid_dns_subdomain, "a Node name: lowercase letters, digits, '-' and '.'"},
	[RP_NETPOL_FROM] = {"network-policy-from", NULL, "CIDR[,CIDR...]",
			    "install a NetworkPolicy: InfluxDB's port only from these addresses (the nodes, whose "
			    "agents run on the host network, and the API server), the stack agent's port only from its "
			    "node (the kubelet); "
			    "install-stack sets it itself where the cluster enforces NetworkPolicies",
			    valid_cidrs, "comma-separated IPv4 or IPv6 CIDRs such as 10.0.1.7/32,10.0.2.0/24"},
	[RP_GRAFANA_FROM] = {"grafana-from", NULL, "CIDR[,CIDR...]",
			     "with the NetworkPolicy: Grafana's port from these addresses too (default: no one; "
			     "kubectl port-forward is not subject to NetworkPolicies)",
			     valid_cidrs, "comma-separated IPv4 or IPv6 CIDRs such as 203.0.113.0/24"},
	[RP_RETENTION_SHARD] = {NULL, "1d", NULL, NULL, NULL, NULL},
	[RP_VOLUME_CLASS] = {NULL, NULL, NULL, NULL, NULL, NULL},
};

/* Names of the derived parameters in markers (they have no flag). */
static const char *const derived_marker[RP_COUNT] = {
	[RP_RETENTION_SHARD] = "retention-shard",
	[RP_VOLUME_CLASS] = "volume-class",
};


const char *hg_render_param_flag(enum render_param p)
{
	return p < RP_COUNT ? params[p].flag : NULL;
}

/* InfluxDB's own choice of shard group duration for a retention (the one
 * CREATE RETENTION POLICY makes without SHARD DURATION): an ALTER with a
 * shard duration longer than the retention would be refused. */
static const char *shard_duration(const char *retention)
{
	if (strcmp(retention, "INF") == 0)
		return "7d";
	int64_t s = influx_duration_s(retention);
	if (s < 2 * 86400)
		return "1h";
	if (s <= 182 * 86400)
		return "1d";
	return "7d";
}

const char *hg_render_param_value(const struct render_params *rp, enum render_param p)
{
	if (p >= RP_COUNT)
		return NULL;
	if (p == RP_RETENTION_SHARD)
		return shard_duration(hg_render_param_value(rp, RP_RETENTION));
	if (p == RP_VOLUME_CLASS)
		return rp->value[RP_STORAGE_NODE] ? RENDER_NODE_CLASS : rp->value[RP_STORAGE_CLASS];
	return rp->value[p] ? rp->value[p] : params[p].def;
}

int hg_render_param_find(const char *flag)
{
	for (int i = 0; i < RP_COUNT; i++)
		if (params[i].flag && strcmp(params[i].flag, flag) == 0)
			return i;
	return -1;
}

int hg_render_param_marker_find(const char *name)
{
	int i = hg_render_param_find(name);
	if (i >= 0)
		return i;
	for (i = 0; i < RP_COUNT; i++)
		if (derived_marker[i] && strcmp(derived_marker[i], name) == 0)
			return i;
	return -1;
}

/* The default a marker's parameter stands for in the files. */
const char *hg_render_param_default(enum render_param p)
{
	return p < RP_COUNT ? params[p].def : NULL;
}

int hg_render_params_set(struct render_params *rp, const char *flag, const char *value, char *err, size_t errlen)
{
	int i = hg_render_param_find(flag);
	if (i < 0) {
		snprintf(err, errlen, "unknown parameter --%s", flag);
		return -1;
	}
	if (!params[i].valid(value)) {
		/* The value is the user's own input, never a secret: safe to echo. */
		snprintf(err, errlen, "--%s '%.80s': expected %s", flag, value, params[i].accepts);
		return -1;
	}
	/* Node storage names its own class: a second class could only be ignored. */
	if ((i == RP_STORAGE_NODE && rp->value[RP_STORAGE_CLASS]) || (i == RP_STORAGE_CLASS && rp->value[RP_STORAGE_NODE])) {
		snprintf(err, errlen, "--storage-node and --storage-class exclude each other (--storage-node uses its own class %s)",
			 RENDER_NODE_CLASS);
		return -1;
	}
	rp->value[i] = value;
	return 0;
}

void hg_render_params_usage(FILE *out)
{
	for (int i = 0; i < RP_COUNT; i++) {
		if (!params[i].flag)
			continue;
		char left[64];
		snprintf(left, sizeof left, "--%s %s", params[i].flag, params[i].meta);
		if (params[i].def)
			fprintf(out, "  %-30s %s (default %s)\n", left, params[i].help, params[i].def);
		else
			fprintf(out, "  %-30s %s\n", left, params[i].help);
	}
}
