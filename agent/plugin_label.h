/* How logs and self-metrics name a plugin instance. */
#ifndef HG_PLUGIN_LABEL_H
#define HG_PLUGIN_LABEL_H
#include <stddef.h>

/* "inputs.cpu", or "inputs.cpu::alias" when the instance has an alias. */
void hg_plugin_label(char *buf, size_t len, const char *kind, const char *name, const char *alias);

#endif
