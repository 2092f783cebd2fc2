/* Option values from YAML nodes (config_values.c): the typed option tables
 * of options.h applied to a parsed document, with ${VAR} expansion, defaults
 * and errors at the node's file:line:column. */
#ifndef HG_CONFIG_VALUES_H
#define HG_CONFIG_VALUES_H
#include <stddef.h>
#include "config_yaml.h"
#include "options.h"

/* The option named name in the OPT_END-terminated table, or NULL. */
const struct opt_desc *hg_opt_find(const struct opt_desc *opts, const char *name);
/* Applies mapping n to up to two option tables (a plugin's own first, then
 * the common ones; t2 may be NULL). what names the section in messages:
 * unknown or repeated keys are errors at their position. */
int hg_opts_apply_map(struct ydoc *d, yaml_node_t *n, const char *what, const struct opt_desc *t1, void *b1,
		   const struct opt_desc *t2, void *b2, char *err, size_t errlen);
/* Sets the option o of base from node n of d: ${VAR} expansion, then the
 * type's parser. A null node leaves the current value. Mappings (strmap,
 * tagfilter) merge key by key into what is there; other types replace. */
int hg_opt_apply(const struct opt_desc *o, void *base, struct ydoc *d, yaml_node_t *n, char *err, size_t errlen);
/* Sets o to its default (o->def parsed as YAML), if it has one. what names the
 * owner ("agent", "input cpu") for the message of a broken built-in default. */
int hg_opt_apply_default(const struct opt_desc *o, void *base, const char *what, char *err, size_t errlen);
/* Sets key to value in m, replacing an existing value (copies both). */
int hg_strmap_set(struct strmap *m, const char *key, const char *value);

#endif
