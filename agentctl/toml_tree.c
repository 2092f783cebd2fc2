/* The TOML document tree: nodes, lookup, freeing. */
#include <stdlib.h>
#include <string.h>
#include "toml.h"

static void node_free(struct toml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->s);
	free(n);
}

void toml_free(struct toml_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	memset(doc, 0, sizeof(*doc));
}

struct toml_node *toml_get(const struct toml_node *t, const char *key)
{
	if (!t || t->type != TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->kids[i]->key && strcmp(t->kids[i]->key, key) == 0)
			return t->kids[i];
	return NULL;
}

const char *toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_TABLE: return "table";
	case TOML_ARRAY: return "array";
	case TOML_STRING: return "string";
	case TOML_INT: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	case TOML_DATETIME: return "date-time";
	}
	return "?";
}
