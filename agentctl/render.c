/* Substitution of the parameter markers of the manifest files (the scheme is
 * described in render.h), and the whole render in apply order. Line based on
 * purpose: a marker acts on its own line only, so a reader of the file sees
 * exactly what each parameter changes. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "embedded.h"
#include "render.h"

#define MARK "# agentctl:"
#define MARK_LEN (sizeof MARK - 1)
#define VALUE_TOKEN "@VALUE@"
#define MAX_LINE_PARAMS 4

/* The manifests' text is built in a strbuf; these keep the -errno
 * convention of the renderer's callers. */
static int buf_add(struct strbuf *b, const char *s, size_t n)
{
	return hg_strbuf_append(b, s, n) ? 0 : -ENOMEM;
}

static int buf_adds(struct strbuf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* Whether def stands at y[pos] as a whole token: not glued to letters or
 * digits on either side, so "1d" never matches inside "21d". */
static bool token_at(const char *y, size_t ylen, size_t pos, const char *def)
{
	size_t dl = strlen(def);
	if (pos + dl > ylen || memcmp(y + pos, def, dl) != 0)
		return false;
	if (pos > 0 && isalnum((unsigned char)y[pos - 1]))
		return false;
	if (pos + dl < ylen && isalnum((unsigned char)y[pos + dl]))
		return false;
	return true;
}

static bool has_token(const char *y, size_t ylen, const char *def)
{
	for (size_t i = 0; i < ylen; i++)
		if (token_at(y, ylen, i, def))
			return true;
	return false;
}

struct marker {
	bool optional;    /* "# agentctl:P? yaml" */
	int nparams;
	int param[MAX_LINE_PARAMS];
	const char *rest; /* optional form: the yaml after "P? " */
	size_t restlen;
};

/* Parses what follows "# agentctl:" up to the end of the line. */
static int parse_marker(const char *s, size_t n, struct marker *m, char *err, size_t errlen)
{
	size_t i = 0;
	m->nparams = 0;
	m->optional = false;
	for (;;) {
		size_t start = i;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			i++;
		char name[64];
		size_t l = i - start;
		if (l == 0 || l >= sizeof name) {
			snprintf(err, errlen, "marker without a parameter name");
			return -1;
		}
		memcpy(name, s + start, l);
		name[l] = '\0';
		int p = hg_render_param_marker_find(name);
		if (p < 0) {
			snprintf(err, errlen, "unknown parameter '%s' in marker", name);
			return -1;
		}
		if (m->nparams == MAX_LINE_PARAMS) {
			snprintf(err, errlen, "more than %d parameters in one marker", MAX_LINE_PARAMS);
			return -1;
		}
		m->param[m->nparams++] = p;
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		break;
	}
	if (i < n && s[i] == '?') {
		if (m->nparams != 1) {
			snprintf(err, errlen, "an optional line takes one parameter");
			return -1;
		}
		if (i + 1 >= n || s[i + 1] != ' ') {
			snprintf(err, errlen, "expected '? ' and the line's YAML after the parameter");
			return -1;
		}
		m->optional = true;
		m->rest = s + i + 2;
		m->restlen = n - i - 2;
		return 0;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	if (i != n) {
		snprintf(err, errlen, "unexpected text after the marker's parameters");
		return -1;
	}
	return 0;
}

static int render_optional(const struct render_params *rp, const struct marker *m, const char *line, size_t indent,
			   size_t linelen, bool nl, struct strbuf *out, char *err, size_t errlen)
{
	enum render_param p = m->param[0];
	if (hg_render_param_default(p)) {
		snprintf(err, errlen, "parameter '%s' has a default: mark its value instead of an optional line",
			 hg_render_param_flag(p));
		return -1;
	}
	const char *tok = memmem(m->rest, m->restlen, VALUE_TOKEN, strlen(VALUE_TOKEN));
	if (!tok) {
		snprintf(err, errlen, "optional line without %s", VALUE_TOKEN);
		return -1;
	}
	const char *v = hg_render_param_value(rp, p);
	if (!v)
		return buf_add(out, line, linelen + nl);
	size_t before = (size_t)(tok - m->rest), tl = strlen(VALUE_TOKEN);
	if (buf_add(out, line, indent) < 0 || buf_add(out, m->rest, before) < 0 || buf_adds(out, v) < 0 ||
	    buf_add(out, tok + tl, m->restlen - before - tl) < 0 || (nl && buf_adds(out, "\n") < 0))
		return -ENOMEM;
	return 0;
}

static int render_value_line(const struct render_params *rp, const struct marker *m, const char *line,
			     size_t ylen, size_t linelen, bool nl, struct strbuf *out, char *err, size_t errlen)
{
	for (int k = 0; k < m->nparams; k++) {
		const char *def = hg_render_param_default(m->param[k]);
		if (!def) {
			snprintf(err, errlen, "parameter '%s' has no default: use an optional line (\"# agentctl:%s? ...\")",
				 hg_render_param_flag(m->param[k]), hg_render_param_flag(m->param[k]));
			return -1;
		}
		/* A marker whose default is missing would silently substitute nothing. */
		if (!has_token(line, ylen, def)) {
			snprintf(err, errlen, "marked line does not hold the default '%s'", def);
			return -1;
		}
	}
	size_t pos = 0;
	while (pos < ylen) {
		bool matched = false;
		for (int k = 0; k < m->nparams && !matched; k++) {
			const char *def = hg_render_param_default(m->param[k]);
			const char *v = hg_render_param_value(rp, m->param[k]);
			if (strcmp(v, def) == 0 || !token_at(line, ylen, pos, def))
				continue;
			if (buf_adds(out, v) < 0)
				return -ENOMEM;
			pos += strlen(def);
			matched = true;
		}
		if (!matched) {
			if (buf_add(out, line + pos, 1) < 0)
				return -ENOMEM;
			pos++;
		}
	}
	return buf_add(out, line + ylen, linelen - ylen + nl);
}

int hg_render_text(const struct render_params *rp, const char *name, const char *text, size_t len,
		struct strbuf *out, char *err, size_t errlen)
{
	size_t lineno = 0, off = 0;
	while (off < len) {
		const char *line = text + off;
		const char *eol = memchr(line, '\n', len - off);
		size_t linelen = eol ? (size_t)(eol - line) : len - off;
		bool nl = eol != NULL;
		lineno++;
		off += linelen + nl;
		const char *mk = memmem(line, linelen, MARK, MARK_LEN);
		if (!mk) {
			if (buf_add(out, line, linelen + nl) < 0)
				goto nomem;
			continue;
		}
		size_t before = (size_t)(mk - line), indent = 0;
		while (indent < before && line[indent] == ' ')
			indent++;
		struct marker m;
		char why[160];
		int rc;
		if (parse_marker(mk + MARK_LEN, linelen - before - MARK_LEN, &m, why, sizeof why) < 0)
			goto bad;
		if (m.optional && indent != before) {
			snprintf(why, sizeof why, "an optional line must start with the marker");
			goto bad;
		}
		if (!m.optional && (indent == before || line[before - 1] != ' ')) {
			snprintf(why, sizeof why, "a value marker follows the YAML on its line, after a space");
			goto bad;
		}
		if (m.optional)
			rc = render_optional(rp, &m, line, indent, linelen, nl, out, why, sizeof why);
		else
			rc = render_value_line(rp, &m, line, before, linelen, nl, out, why, sizeof why);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc < 0)
			goto bad;
		continue;
bad:
		snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
	return -1;
}

/* The generated documents, in name order (they merge into the files' order). */
struct generated {
	const char *name;
	int (*gen)(const struct render_params *rp, const struct render_dashboard *d, size_t nd,
		   struct strbuf *out, char *err, size_t errlen);
};

static int gen_storage_class(const struct render_params *rp, const struct render_dashboard *d, size_t nd,
			     struct strbuf *out, char *err, size_t errlen)
{
	(void)d;
	(void)nd;
	return hg_render_storage_class(rp, out, err, errlen);
}

static int gen_node_volumes(const struct render_params *rp, const struct render_dashboard *d, size_t nd,
			    struct strbuf *out, char *err, size_t errlen)
{
	(void)d;
	(void)nd;
	return hg_render_node_volumes(rp, out, err, errlen);
}

static int gen_network_policy(const struct render_params *rp, const struct render_dashboard *d, size_t nd,
			      struct strbuf *out, char *err, size_t errlen)
{
	(void)d;
	(void)nd;
	return hg_render_network_policy(rp, out, err, errlen);
}

static const struct generated generated[] = {
	{RENDER_STORAGE_CLASS_NAME, gen_storage_class},
	{RENDER_NODE_VOLUMES_NAME, gen_node_volumes},
	{RENDER_DASHBOARDS_NAME, hg_render_dashboards},
	{RENDER_NETPOL_NAME, gen_network_policy},
};
#define NGENERATED (sizeof generated / sizeof *generated)

int hg_render_all(const struct render_params *rp, render_emit_fn emit, void *ud, char *err, size_t errlen)
{
	struct strbuf b = {0};
	size_t g = 0; /* next generated document */
	int rc = 0;
	if (rp->value[RP_STORAGE_NODE] && rp->value[RP_STORAGE_CLASS]) {
		/* hg_render_params_set refuses it; a caller filling the table itself may not. */
		snprintf(err, errlen, "--storage-node and --storage-class exclude each other");
		return -1;
	}
	struct render_dashboard *d = calloc(hg_embedded_dashboards_count + 1, sizeof *d);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < hg_embedded_dashboards_count; i++)
		d[i] = (struct render_dashboard){hg_embedded_dashboards[i].name, hg_embedded_dashboards[i].data,
						 hg_embedded_dashboards[i].len};
	for (size_t i = 0; i <= hg_embedded_manifests_count && rc == 0; i++) {
		const struct embedded_file *f = i < hg_embedded_manifests_count ? &hg_embedded_manifests[i] : NULL;
		for (size_t k = 0; f && k < NGENERATED; k++) {
			if (strcmp(f->name, generated[k].name) == 0) {
				snprintf(err, errlen, "k8s-manifests/%s: name reserved for a document agentctl generates",
					 f->name);
				rc = -1;
			}
		}
		/* Every generated document that sorts before this file (all of
		 * them after the last file). */
		for (; rc == 0 && g < NGENERATED && (!f || strcmp(generated[g].name, f->name) < 0); g++) {
			b.len = 0;
			if (buf_add(&b, "", 0) < 0 ||
			    generated[g].gen(rp, d, hg_embedded_dashboards_count, &b, err, errlen) < 0) {
				if (!b.p)
					snprintf(err, errlen, "out of memory");
				rc = -1;
				break;
			}
			if (b.len)
				rc = emit(ud, generated[g].name, b.p, b.len);
		}
		if (!f || rc != 0)
			break;
		b.len = 0;
		if (buf_add(&b, "", 0) < 0 || hg_render_text(rp, f->name, f->data, f->len, &b, err, errlen) < 0) {
			if (!b.p)
				snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		rc = emit(ud, f->name, b.p, b.len);
	}
	free(d);
	hg_strbuf_free(&b);
	return rc;
}
