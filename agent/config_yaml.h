/* Private to the config loader: a loaded libyaml document with the file name
 * its errors are reported against, and applying typed options to its nodes. */
#ifndef HG_CONFIG_YAML_H
#define HG_CONFIG_YAML_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "options.h"

/* Inputs larger than this are refused before parsing: a config is a few KiB,
 * and the bound keeps a hostile file from costing unbounded memory. */
#define YDOC_MAX_BYTES (4u << 20)
/* Bound on the entries of one mapping or sequence a value may hold. */
#define YDOC_MAX_ITEMS 4096

struct ydoc {
	const char *name; /* file name for messages; not owned */
	yaml_document_t doc;
	bool loaded;
};

/* Parses buf as one YAML document. Refuses aliases (they would let a small
 * file expand into a large config) and streams of several documents. */
int hg_ydoc_load(struct ydoc *d, const char *name, const char *buf, size_t len, char *err, size_t errlen);
void hg_ydoc_free(struct ydoc *d);
/* The root node, or NULL for an empty document. */
yaml_node_t *hg_ydoc_root(struct ydoc *d);
yaml_node_t *hg_ydoc_node(struct ydoc *d, int index);

/* Formats "name:line:column: message" for node n (1-based). Returns -1. */
int hg_ydoc_error(char *err, size_t errlen, const struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* "name:line:column" of n, malloc'd. */
char *hg_ydoc_origin(const struct ydoc *d, const yaml_node_t *n);

/* A plain empty, "~" or "null" scalar: the key is present without a value. */
bool hg_ynode_is_null(const yaml_node_t *n);
/* The text of a scalar (NUL-terminated by libyaml). */
static inline const char *ynode_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

#endif
