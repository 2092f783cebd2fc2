/* insecure_skip_verify is easy to set while trying things and forget: it
 * lets anyone on the path read and alter the traffic, credentials
 * included. Said once at start, in the log, for every plugin that sets it. */
#include "tls_warn.h"

#include <stdbool.h>
#include <string.h>

#include "agent_internal.h"
#include "log.h"
#include "plugin.h"

static bool insecure(const struct opt_desc *opts, const void *config)
{
	for (const struct opt_desc *o = opts; o && o->name; o++)
		if (o->type == OPT_BOOL && strcmp(o->name, "insecure_skip_verify") == 0)
			return *(const bool *)((const char *)config + o->offset);
	return false;
}

static int warn(const char *kind, const char *name, const char *alias, const char *origin)
{
	char label[160];
	hg_plugin_label(label, sizeof label, kind, name, alias);
	log_warn(label,
		 "%s%sinsecure_skip_verify is set: TLS certificates are not verified, so anyone on the network path "
		 "can pose as the server and read or alter this plugin's traffic, credentials included",
		 origin ? origin : "", origin ? ": " : "");
	return 1;
}

int hg_tls_warn_insecure(const struct agent_config *cfg)
{
	int n = 0;
	for (size_t i = 0; i < cfg->ninputs; i++) {
		const struct input_cfg *c = &cfg->inputs[i];
		if (insecure(c->plugin->options, c->config))
			n += warn("inputs", c->plugin->name, c->common.alias, c->origin);
	}
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct output_cfg *c = &cfg->outputs[i];
		if (insecure(c->plugin->options, c->config))
			n += warn("outputs", c->plugin->name, c->common.alias, c->origin);
	}
	return n;
}
