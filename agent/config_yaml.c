/* Loading one YAML document with libyaml's document API and naming its
 * nodes' positions in messages. */
#include "config_yaml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mark_of_offset(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 0;
	*col = 0;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 0;
		} else {
			(*col)++;
		}
	}
}

static int syntax_error(const yaml_parser_t *p, const char *name, const char *buf, size_t len, char *err,
			size_t errlen)
{
	size_t line = p->problem_mark.line, col = p->problem_mark.column;
	/* The reader (encoding errors) fills an offset, not a mark. */
	if (p->error == YAML_READER_ERROR)
		mark_of_offset(buf, len, p->problem_offset, &line, &col);
	const char *problem = p->problem ? p->problem : (p->error == YAML_MEMORY_ERROR ? "out of memory" : "error");
	if (p->context)
		snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s %s", name, line + 1, col + 1, problem,
			 p->context);
	else
		snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s", name, line + 1, col + 1, problem);
	return -1;
}

/* With the document API an alias is the same node reached twice; count the
 * references to every node to find one. */
static int check_aliases(struct ydoc *d, char *err, size_t errlen)
{
	yaml_node_t *start = d->doc.nodes.start, *top = d->doc.nodes.top;
	size_t n = (size_t)(top - start);
	if (n == 0)
		return 0;
	unsigned char *refs = calloc(n + 1, 1);
	if (!refs) {
		snprintf(err, errlen, "%s: out of memory", d->name);
		return -1;
	}
	int bad = 0;
	refs[1] = 1; /* the root */
	for (size_t i = 0; i < n && !bad; i++) {
		yaml_node_t *node = start + i;
		int *kids[2] = { NULL, NULL };
		if (node->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = node->data.sequence.items.start;
			     it < node->data.sequence.items.top && !bad; it++)
				if (*it >= 1 && (size_t)*it <= n && refs[*it]++)
					bad = *it;
		} else if (node->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
			     pr < node->data.mapping.pairs.top && !bad; pr++) {
				kids[0] = &pr->key;
				kids[1] = &pr->value;
				for (int k = 0; k < 2 && !bad; k++)
					if (*kids[k] >= 1 && (size_t)*kids[k] <= n && refs[*kids[k]]++)
						bad = *kids[k];
			}
		}
	}
	free(refs);
	if (bad)
		return hg_ydoc_error(err, errlen, d, yaml_document_get_node(&d->doc, bad),
				  "YAML anchors and aliases are not supported");
	return 0;
}

int hg_ydoc_load(struct ydoc *d, const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	if (len > YDOC_MAX_BYTES) {
		snprintf(err, errlen, "%s: file larger than %u bytes", name, YDOC_MAX_BYTES);
		return -1;
	}
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &d->doc)) {
		syntax_error(&p, name, buf, len, err, errlen);
		yaml_parser_delete(&p);
		return -1;
	}
	d->loaded = true;
	if (yaml_document_get_root_node(&d->doc)) {
		yaml_document_t next;
		if (!yaml_parser_load(&p, &next)) {
			syntax_error(&p, name, buf, len, err, errlen);
			yaml_parser_delete(&p);
			hg_ydoc_free(d);
			return -1;
		}
		yaml_node_t *r = yaml_document_get_root_node(&next);
		if (r) {
			snprintf(err, errlen, "%s:%zu:%zu: more than one YAML document in a file", name,
				 r->start_mark.line + 1, r->start_mark.column + 1);
			yaml_document_delete(&next);
			yaml_parser_delete(&p);
			hg_ydoc_free(d);
			return -1;
		}
		yaml_document_delete(&next);
	}
	yaml_parser_delete(&p);
	if (check_aliases(d, err, errlen) < 0) {
		hg_ydoc_free(d);
		return -1;
	}
	return 0;
}

void hg_ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
}

yaml_node_t *hg_ydoc_root(struct ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *hg_ydoc_node(struct ydoc *d, int index)
{
	return yaml_document_get_node(&d->doc, index);
}

int hg_ydoc_error(char *err, size_t errlen, const struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	int k = snprintf(err, errlen, "%s:%zu:%zu: ", d->name, n ? n->start_mark.line + 1 : 1,
			 n ? n->start_mark.column + 1 : 1);
	if (k >= 0 && (size_t)k < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

char *hg_ydoc_origin(const struct ydoc *d, const yaml_node_t *n)
{
	int k = snprintf(NULL, 0, "%s:%zu:%zu", d->name, n->start_mark.line + 1, n->start_mark.column + 1);
	char *s = k >= 0 ? malloc((size_t)k + 1) : NULL;
	if (s)
		snprintf(s, (size_t)k + 1, "%s:%zu:%zu", d->name, n->start_mark.line + 1, n->start_mark.column + 1);
	return s;
}

bool hg_ynode_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = ynode_text(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}
