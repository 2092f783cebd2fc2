/* Loading the agent's YAML configuration: sections, plugin instances,
 * defaults, merging of several files and validation. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "config_values.h"

#define AO(n, t, f, d, h) { n, t, offsetof(struct agent_config, f), d, h }
const struct opt_desc hg_agent_options[] = {
	AO("interval", OPT_DURATION, interval_ns, "10s", "default data collection interval for all inputs"),
	AO("round_interval", OPT_BOOL, round_interval, "true",
	   "align collection to multiples of interval (10s: at :00, :10, :20 ...)"),
	AO("collection_jitter", OPT_DURATION, collection_jitter_ns, "0s",
	   "each input sleeps a random time up to this before collecting"),
	AO("flush_interval", OPT_DURATION, flush_interval_ns, "10s", "default interval of writes to the outputs"),
	AO("flush_jitter", OPT_DURATION, flush_jitter_ns, "0s", "random delay added to every flush, up to this"),
	AO("metric_batch_size", OPT_INT, metric_batch_size, "1000", "outputs write at most this many metrics at once"),
	AO("metric_buffer_limit", OPT_INT, metric_buffer_limit, "10000",
	   "metrics each output buffers while writes fail, the oldest dropped first; raised to hold two gathers of the largest input"),
	AO("precision", OPT_DURATION, precision_ns, "0s",
	   "timestamps are rounded to this unit; 0s: from the interval as Telegraf (1s for intervals of 1s or more)"),
	AO("hostname", OPT_STRING, hostname, "", "host tag value; empty uses the OS hostname"),
	AO("omit_hostname", OPT_BOOL, omit_hostname, "false", "do not add the host tag"),
	AO("debug", OPT_BOOL, debug, "false", "log debug messages"),
	AO("quiet", OPT_BOOL, quiet, "false", "log only errors"),
	AO("logfile", OPT_STRING, logfile, "", "log to this file (created 0640); empty logs to stderr"),
	AO("health_listen", OPT_STRING, health_listen, NULL, "address of the /healthz endpoint, e.g. 127.0.0.1:8080; unset is off"),
	AO("health_max_flush_intervals", OPT_INT, health_max_flush_intervals, "3",
	   "/healthz fails after this many flush intervals without a successful write"),
	AO("health_header_timeout", OPT_DURATION, health_header_timeout_ns, "10s",
	   "health endpoint: a request must arrive whole within this of its connection, however slowly it trickles; else 408"),
	AO("health_idle_timeout", OPT_DURATION, health_idle_timeout_ns, "30s",
	   "health endpoint: a connection with no bytes in or out for this long is closed"),
	AO("health_write_timeout", OPT_DURATION, health_write_timeout_ns, "10s",
	   "health endpoint: an answer not taken by its client within this is dropped with the connection"),
	AO("health_max_connections", OPT_INT, health_max_connections, "64",
	   "health endpoint: connections held at once; a new one beyond closes the one waiting longest for a request, "
	   "else the one whose answer has waited longest to be read"),
	AO("shutdown_timeout", OPT_DURATION, shutdown_timeout_ns, "20s",
	   "bound on the final flush at SIGTERM (below the 30 s Kubernetes grace period)"),
	OPT_END,
};

#define CO(n, t, f, h) { n, t, offsetof(struct plugin_common, f), NULL, h }
#define FILTER_OPTIONS                                                                                       \
	CO("namepass", OPT_STRLIST, filter.namepass, "keep only metrics whose name matches one of these globs"), \
	CO("namedrop", OPT_STRLIST, filter.namedrop, "drop metrics whose name matches one of these globs"),      \
	CO("fieldpass", OPT_STRLIST, filter.fieldpass, "keep only fields matching these globs"),                 \
	CO("fielddrop", OPT_STRLIST, filter.fielddrop, "drop fields matching these globs"),                      \
	CO("tagpass", OPT_TAGFILTER, filter.tagpass, "keep only metrics with a tag value matching (key: [globs])"), \
	CO("tagdrop", OPT_TAGFILTER, filter.tagdrop, "drop metrics with a tag value matching (key: [globs])"),      \
	CO("taginclude", OPT_STRLIST, filter.taginclude, "keep only tags whose key matches these globs"),          \
	CO("tagexclude", OPT_STRLIST, filter.tagexclude, "remove tags whose key matches these globs")

const struct opt_desc hg_input_common_options[] = {
	CO("interval", OPT_DURATION, interval_ns, "collection interval of this input; default the agent's"),
	CO("collection_jitter", OPT_DURATION, collection_jitter_ns, "collection jitter of this input; default the agent's"),
	CO("alias", OPT_STRING, alias, "name of this instance in logs and self metrics"),
	CO("name_override", OPT_STRING, name_override, "replaces the measurement name"),
	CO("name_prefix", OPT_STRING, name_prefix, "prepended to the measurement name"),
	CO("name_suffix", OPT_STRING, name_suffix, "appended to the measurement name"),
	CO("tags", OPT_STRMAP, tags, "tags added to every metric of this input"),
	FILTER_OPTIONS,
	OPT_END,
};

#define BO(n, t, f, def, help) { n, t, offsetof(struct output_buffer_cfg, f), def, help, NULL }
static const char *const buffer_types[] = { "memory", "disk", NULL };
static const struct opt_desc output_buffer_options[] = {
	{ .name = "type", .type = OPT_STRING, .offset = offsetof(struct output_buffer_cfg, type), .def = "memory",
	  .help = "memory, or disk: spooled to files, nothing lost on restart", .choices = buffer_types },
	BO("path", OPT_STRING, path, "/var/lib/heliograph/spool", "disk: directory; each output spools in path/<name or alias>"),
	BO("max_size", OPT_SIZE, max_size, "256MiB", "disk: bound on the spool; the oldest metrics go first"),
	BO("fsync_interval", OPT_DURATION, fsync_interval_ns, "0s", "disk: 0s = fsync every append; else this often"),
	OPT_END,
};

const struct opt_desc hg_output_common_options[] = {
	CO("alias", OPT_STRING, alias, "name of this instance in logs and self metrics"),
	CO("flush_interval", OPT_DURATION, flush_interval_ns, "flush interval of this output; default the agent's"),
	CO("metric_batch_size", OPT_INT, metric_batch_size, "batch size of this output; default the agent's"),
	CO("metric_buffer_limit", OPT_INT, metric_buffer_limit, "buffer limit of this output; default the agent's"),
	{ "buffer", OPT_SECTION, offsetof(struct plugin_common, buffer), NULL,
	  "where unwritten metrics wait: {type: memory} or {type: disk, path, max_size, fsync_interval}",
	  output_buffer_options },
	FILTER_OPTIONS,
	OPT_END,
};

static void common_free(struct plugin_common *c)
{
	free(c->alias);
	free(c->name_override);
	free(c->name_prefix);
	free(c->name_suffix);
	hg_strmap_free(&c->tags);
	hg_opts_free(output_buffer_options, &c->buffer);
	struct metric_filter *f = &c->filter;
	hg_strlist_free(&f->namepass);
	hg_strlist_free(&f->namedrop);
	hg_strlist_free(&f->fieldpass);
	hg_strlist_free(&f->fielddrop);
	hg_strlist_free(&f->taginclude);
	hg_strlist_free(&f->tagexclude);
	hg_tagfilter_free(&f->tagpass);
	hg_tagfilter_free(&f->tagdrop);
	memset(c, 0, sizeof(*c));
}

void hg_config_free(struct agent_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ninputs; i++) {
		struct input_cfg *in = &cfg->inputs[i];
		hg_opts_free(in->plugin->options, in->config);
		free(in->config);
		common_free(&in->common);
		free(in->origin);
	}
	for (size_t i = 0; i < cfg->noutputs; i++) {
		struct output_cfg *out = &cfg->outputs[i];
		hg_opts_free(out->plugin->options, out->config);
		free(out->config);
		common_free(&out->common);
		free(out->origin);
	}
	free(cfg->inputs);
	free(cfg->outputs);
	hg_opts_free(hg_agent_options, cfg);
	hg_strmap_free(&cfg->global_tags);
	memset(cfg, 0, sizeof(*cfg));
}

static int apply_defaults(const struct opt_desc *opts, void *base, const char *what, char *err, size_t errlen)
{
	for (const struct opt_desc *o = opts; o && o->name; o++)
		if (hg_opt_apply_default(o, base, what, err, errlen) < 0)
			return -1;
	return 0;
}

static int config_init(struct agent_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	return apply_defaults(hg_agent_options, cfg, "agent", err, errlen);
}

/* A plugin entry: "- name: {options}", "- name:" or "- name". Sets *name
 * and *opts (NULL when the entry has none). */
static int plugin_entry(struct ydoc *d, yaml_node_t *item, const char *kind, yaml_node_t **name, yaml_node_t **opts,
			char *err, size_t errlen)
{
	*opts = NULL;
	if (item->type == YAML_SCALAR_NODE) {
		*name = item;
	} else if (item->type == YAML_MAPPING_NODE &&
		   item->data.mapping.pairs.top - item->data.mapping.pairs.start == 1) {
		*name = hg_ydoc_node(d, item->data.mapping.pairs.start->key);
		*opts = hg_ydoc_node(d, item->data.mapping.pairs.start->value);
	} else {
		return hg_ydoc_error(err, errlen, d, item, "%ss: each entry must be a mapping of one plugin name to its options",
				  kind);
	}
	if ((*name)->type != YAML_SCALAR_NODE || hg_ynode_is_null(*name))
		return hg_ydoc_error(err, errlen, d, *name, "%ss: plugin name must be a string", kind);
	return 0;
}

static int load_inputs(struct agent_config *cfg, struct ydoc *d, yaml_node_t *seq, char *err, size_t errlen)
{
	if (hg_ynode_is_null(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return hg_ydoc_error(err, errlen, d, seq, "inputs: expected a list (- cpu: {...})");
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *name, *opts;
		if (plugin_entry(d, hg_ydoc_node(d, *it), "input", &name, &opts, err, errlen) < 0)
			return -1;
		const struct input_plugin *p = hg_input_find(ynode_text(name));
		if (!p)
			return hg_ydoc_error(err, errlen, d, name, "unknown input plugin \"%s\"", ynode_text(name));
		if (cfg->ninputs >= YDOC_MAX_ITEMS)
			return hg_ydoc_error(err, errlen, d, name, "more than %d inputs", YDOC_MAX_ITEMS);
		struct input_cfg *v = realloc(cfg->inputs, (cfg->ninputs + 1) * sizeof(*v));
		if (!v)
			return hg_ydoc_error(err, errlen, d, name, "out of memory");
		cfg->inputs = v;
		struct input_cfg *in = &v[cfg->ninputs];
		memset(in, 0, sizeof(*in));
		in->plugin = p;
		in->common.collection_jitter_ns = -1;
		in->config = calloc(1, p->config_size ? p->config_size : 1);
		in->origin = hg_ydoc_origin(d, name);
		if (!in->config || !in->origin) {
			free(in->config);
			free(in->origin);
			return hg_ydoc_error(err, errlen, d, name, "out of memory");
		}
		cfg->ninputs++;
		char what[128];
		snprintf(what, sizeof(what), "input %s", p->name);
		if (apply_defaults(p->options, in->config, what, err, errlen) < 0 ||
		    apply_defaults(hg_input_common_options, &in->common, what, err, errlen) < 0 ||
		    (opts && hg_opts_apply_map(d, opts, what, p->options, in->config, hg_input_common_options, &in->common, err,
				       errlen) < 0))
			return -1;
	}
	return 0;
}

static int load_outputs(struct agent_config *cfg, struct ydoc *d, yaml_node_t *seq, char *err, size_t errlen)
{
	if (hg_ynode_is_null(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return hg_ydoc_error(err, errlen, d, seq, "outputs: expected a list (- influxdb: {...})");
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *name, *opts;
		if (plugin_entry(d, hg_ydoc_node(d, *it), "output", &name, &opts, err, errlen) < 0)
			return -1;
		const struct output_plugin *p = hg_output_find(ynode_text(name));
		if (!p)
			return hg_ydoc_error(err, errlen, d, name, "unknown output plugin \"%s\"", ynode_text(name));
		if (cfg->noutputs >= YDOC_MAX_ITEMS)
			return hg_ydoc_error(err, errlen, d, name, "more than %d outputs", YDOC_MAX_ITEMS);
		struct output_cfg *v = realloc(cfg->outputs, (cfg->noutputs + 1) * sizeof(*v));
		if (!v)
			return hg_ydoc_error(err, errlen, d, name, "out of memory");
		cfg->outputs = v;
		struct output_cfg *out = &v[cfg->noutputs];
		memset(out, 0, sizeof(*out));
		out->plugin = p;
		out->config = calloc(1, p->config_size ? p->config_size : 1);
		out->origin = hg_ydoc_origin(d, name);
		if (!out->config || !out->origin) {
			free(out->config);
			free(out->origin);
			return hg_ydoc_error(err, errlen, d, name, "out of memory");
		}
		cfg->noutputs++;
		char what[128];
		snprintf(what, sizeof(what), "output %s", p->name);
		if (apply_defaults(p->options, out->config, what, err, errlen) < 0 ||
		    apply_defaults(hg_output_common_options, &out->common, what, err, errlen) < 0 ||
		    (opts && hg_opts_apply_map(d, opts, what, p->options, out->config, hg_output_common_options, &out->common, err,
				       errlen) < 0))
			return -1;
	}
	return 0;
}

static const struct opt_desc global_tags_opt = { "global_tags", OPT_STRMAP, offsetof(struct agent_config, global_tags),
						  NULL, NULL };

/* Merges one document into cfg: agent options override key by key,
 * global_tags merge, inputs and outputs append. */
static int load_doc(struct agent_config *cfg, struct ydoc *d, char *err, size_t errlen)
{
	yaml_node_t *root = hg_ydoc_root(d);
	if (!root || hg_ynode_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return hg_ydoc_error(err, errlen, d, root,
				  "expected a mapping with agent:, global_tags:, inputs: and outputs: sections");
	bool seen[4] = { false };
	static const char *const sections[] = { "agent", "global_tags", "inputs", "outputs" };
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = hg_ydoc_node(d, p->key), *v = hg_ydoc_node(d, p->value);
		int s = 0;
		while (s < 4 && !(k->type == YAML_SCALAR_NODE && !strcmp(ynode_text(k), sections[s])))
			s++;
		if (s == 4) {
			if (k->type == YAML_SCALAR_NODE)
				return hg_ydoc_error(err, errlen, d, k,
						  "unknown section \"%s\" (expected agent, global_tags, inputs, outputs)",
						  ynode_text(k));
			return hg_ydoc_error(err, errlen, d, k, "section names must be strings");
		}
		if (seen[s])
			return hg_ydoc_error(err, errlen, d, k, "section \"%s\" given twice", sections[s]);
		seen[s] = true;
		int rc = 0;
		switch (s) {
		case 0: rc = hg_opts_apply_map(d, v, "agent", hg_agent_options, cfg, NULL, NULL, err, errlen); break;
		case 1: rc = hg_opt_apply(&global_tags_opt, cfg, d, v, err, errlen); break;
		case 2: rc = load_inputs(cfg, d, v, err, errlen); break;
		case 3: rc = load_outputs(cfg, d, v, err, errlen); break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int load_into(struct agent_config *cfg, const char *name, const char *buf, size_t len, char *err,
		     size_t errlen)
{
	struct ydoc d;
	if (hg_ydoc_load(&d, name, buf, len, err, errlen) < 0)
		return -1;
	int rc = load_doc(cfg, &d, err, errlen);
	hg_ydoc_free(&d);
	return rc;
}

/* After all files: values that mean "off" get one representation. */
static void finish(struct agent_config *cfg)
{
	if (cfg->health_listen && !*cfg->health_listen) {
		free(cfg->health_listen);
		cfg->health_listen = NULL;
	}
}

int hg_config_load_buffer(struct agent_config *cfg, const char *name, const char *buf, size_t len, char *err,
		       size_t errlen)
{
	if (config_init(cfg, err, errlen) < 0 || load_into(cfg, name, buf, len, err, errlen) < 0) {
		hg_config_free(cfg);
		return -1;
	}
	finish(cfg);
	return 0;
}

static int load_file(struct agent_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Grown as read, up to one byte past the limit to tell a too-large file
	 * apart; works for pipes (--config /dev/stdin) as well. */
	size_t cap = 0, len = 0, k = 1;
	char *buf = NULL;
	while (k > 0 && len <= YDOC_MAX_BYTES) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > YDOC_MAX_BYTES + 1)
				ncap = YDOC_MAX_BYTES + 1;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		k = fread(buf + len, 1, cap - len, f);
		len += k;
	}
	int bad = ferror(f) ? errno : 0;
	fclose(f);
	int rc;
	if (bad) {
		snprintf(err, errlen, "%s: %s", path, strerror(bad));
		rc = -1;
	} else {
		rc = load_into(cfg, path, buf, len, err, errlen);
	}
	free(buf);
	return rc;
}

static int has_config_suffix(const char *n)
{
	static const char *const sfx[] = { ".yaml", ".yml" };
	size_t l = strlen(n);
	for (size_t i = 0; i < 2; i++) {
		size_t s = strlen(sfx[i]);
		if (l > s && !strcmp(n + l - s, sfx[i]))
			return 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct agent_config *cfg, const char *dir, char *err, size_t errlen)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dh))) {
		/* Dot entries include Kubernetes' ConfigMap "..data" machinery;
		 * *.conf is left out: in a telegraf.d it is Telegraf's TOML. */
		if (de->d_name[0] == '.' || !has_config_suffix(de->d_name))
			continue;
		size_t pl = strlen(dir) + strlen(de->d_name) + 2;
		char *path = malloc(pl);
		if (!path) {
			rc = -1;
			break;
		}
		snprintf(path, pl, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				free(path);
				rc = -1;
				break;
			}
			names = nn;
		}
		names[n++] = path;
	}
	closedir(dh);
	if (rc < 0)
		snprintf(err, errlen, "%s: out of memory", dir);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = load_file(cfg, names[i], err, errlen);
		free(names[i]);
	}
	free(names);
	return rc;
}

int hg_config_load(struct agent_config *cfg, const char *const *files, size_t nfiles, const char *dir, char *err,
		size_t errlen)
{
	int rc = config_init(cfg, err, errlen);
	for (size_t i = 0; i < nfiles && !rc; i++)
		rc = load_file(cfg, files[i], err, errlen);
	if (!rc && dir)
		rc = load_dir(cfg, dir, err, errlen);
	if (rc < 0)
		hg_config_free(cfg);
	else
		finish(cfg);
	return rc;
}
