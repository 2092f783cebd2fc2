/* The prometheus input's Kubernetes pod discovery (monitor_kubernetes_pods):
 * this node's pods annotated prometheus.io/scrape, from the shared pod
 * watch, become scrape targets with Telegraf's pod tags. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "prom_scrape.h"

/* Equality-based label selectors (the set-based forms are refused, not
 * silently ignored). */
int hg_prom_parse_selector(struct prom *p, const char *sel, char *err, size_t errlen)
{
	if (!sel || !sel[0])
		return 0;
	if (strpbrk(sel, "()")) {
		snprintf(err, errlen, "kubernetes_label_selector: set-based selectors (in, notin) are not supported");
		return -1;
	}
	char *copy = strdup(sel), *save = NULL;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		struct selector_term term = { 0 };
		char *op = strpbrk(t, "!=");
		if (t[0] == '!') {
			term.negate = true;
			term.key = strdup(t + 1);
		} else if (op && op[0] == '!' && op[1] == '=') {
			term.negate = true;
			term.key = strndup(t, (size_t)(op - t));
			term.value = strdup(op + 2);
		} else if (op && op[0] == '=') {
			term.key = strndup(t, (size_t)(op - t));
			term.value = strdup(op + (op[1] == '=' ? 2 : 1));
		} else {
			term.key = strdup(t);
		}
		struct selector_term *nv = realloc(p->sel, (p->nsel + 1) * sizeof *nv);
		bool bad = !term.key || (op && !term.value && t[0] != '!') || (term.key && !term.key[0]) ||
			   (term.key && strpbrk(term.key, " !="));
		if (!nv || bad) {
			free(term.key);
			free(term.value);
			free(copy);
			if (nv)
				p->sel = nv;
			snprintf(err, errlen, "kubernetes_label_selector: cannot read \"%s\"", sel);
			return -1;
		}
		for (char *e = term.key + strlen(term.key); e > term.key && e[-1] == ' ';)
			*--e = '\0';
		p->sel = nv;
		p->sel[p->nsel++] = term;
	}
	free(copy);
	return 0;
}

static const char *pod_label(const struct kube_pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->nlabels; i++)
		if (!strcmp(pod->labels[i].key, key))
			return pod->labels[i].value;
	return NULL;
}

static bool selector_match(const struct prom *p, const struct kube_pod *pod)
{
	for (size_t i = 0; i < p->nsel; i++) {
		const struct selector_term *t = &p->sel[i];
		const char *v = pod_label(pod, t->key);
		bool hit = t->value ? v && !strcmp(v, t->value) : v != NULL;
		if (hit == t->negate)
			return false;
	}
	return true;
}

/* pod_credentials: the token or basic credentials go to a pod only when the
 * user said its namespace (or every pod) may have them. */
static bool pod_gets_credentials(const struct prom *p, const struct kube_pod *pod)
{
	if (p->pod_creds_all)
		return true;
	for (size_t i = 0; i < p->pod_creds_ns->n; i++)
		if (!strcmp(p->pod_creds_ns->v[i], pod->ns))
			return true;
	return false;
}

static bool label_wanted(const struct prom *p, const char *key)
{
	bool in = p->label_include->n == 0;
	for (size_t i = 0; !in && i < p->label_include->n; i++)
		in = fnmatch(p->label_include->v[i], key, 0) == 0;
	for (size_t i = 0; in && i < p->label_exclude->n; i++)
		in = fnmatch(p->label_exclude->v[i], key, 0) != 0;
	return in;
}

/* The scrape URL of an annotated, ready pod with an IP (Telegraf's
 * defaults: http, port 9102, /metrics); false when it is no target. */
static bool pod_url(const struct prom *p, const struct kube_pod *pod, char *out, size_t len)
{
	if (!pod->scrape || strcmp(pod->scrape, "true") != 0 || !pod->pod_ip || !pod->pod_ip[0] || !pod->ready ||
	    !selector_match(p, pod))
		return false;
	const char *scheme = pod->scheme && pod->scheme[0] ? pod->scheme : "http";
	const char *port = pod->port && pod->port[0] ? pod->port : "9102";
	const char *path = pod->path && pod->path[0] ? pod->path : "/metrics";
	if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) || strspn(port, "0123456789") != strlen(port))
		return false;
	bool v6 = strchr(pod->pod_ip, ':') != NULL;
	int n = snprintf(out, len, "%s://%s%s%s:%s%s%s", scheme, v6 ? "[" : "", pod->pod_ip, v6 ? "]" : "", port,
			 path[0] == '/' ? "" : "/", path);
	return n > 0 && (size_t)n < len;
}

/* Telegraf's tags of a pod target: address, namespace, pod_name, then the
 * pod's labels that pass pod_label_include/exclude. Built into one block
 * so that a change is one memcmp. */
static bool pod_tags(const struct prom *p, const struct kube_pod *pod, char **block, size_t *blen, size_t *ntags)
{
	size_t cap = 0, n = 0;
	const char *fixed[] = { "address", pod->pod_ip, "namespace", pod->ns, "pod_name", pod->name };
	for (size_t i = 0; i < 6; i++)
		cap += strlen(fixed[i]) + 1;
	for (size_t i = 0; i < pod->nlabels; i++)
		cap += strlen(pod->labels[i].key) + strlen(pod->labels[i].value) + 2;
	char *b = malloc(cap + 1), *w = b;
	if (!b)
		return false;
	for (size_t i = 0; i < 6; i++)
		w = stpcpy(w, fixed[i]) + 1;
	n = 3;
	for (size_t i = 0; i < pod->nlabels; i++) {
		if (!label_wanted(p, pod->labels[i].key) || !pod->labels[i].value[0])
			continue;
		w = stpcpy(w, pod->labels[i].key) + 1;
		w = stpcpy(w, pod->labels[i].value) + 1;
		n++;
	}
	*block = b;
	*blen = (size_t)(w - b);
	*ntags = n;
	return true;
}

void hg_prom_pods_sync(struct prom *p, struct acc *acc)
{
	if (!hg_kube_podwatch_synced(p->podwatch)) {
		const char *e = hg_kube_podwatch_error(p->podwatch);
		hg_acc_error(acc, "monitor_kubernetes_pods: the pod watch has not listed this node's pods yet%s%s",
			  e[0] ? ": " : "", e);
		return;
	}
	uint64_t gen = hg_kube_podwatch_generation(p->podwatch);
	if (gen == p->pod_gen)
		return;
	for (size_t i = 0; i < p->nscrapes; i++)
		p->scrapes[i]->seen = false;
	char url[1024], id[600], err[128];
	for (size_t k = 0; k < hg_kube_podwatch_count(p->podwatch); k++) {
		const struct kube_pod *pod = hg_kube_podwatch_pod(p->podwatch, k);
		if (!pod_url(p, pod, url, sizeof url))
			continue;
		snprintf(id, sizeof id, "%s/%s", pod->ns, pod->name);
		char *block;
		size_t blen, ntags;
		if (!pod_tags(p, pod, &block, &blen, &ntags)) {
			hg_acc_error(acc, "monitor_kubernetes_pods: out of memory");
			return;
		}
		struct scrape *keep = NULL;
		for (size_t i = 0; i < p->nscrapes && !keep; i++) {
			struct scrape *s = p->scrapes[i];
			if (s->pod && !s->gone && !s->seen && !strcmp(s->pod_id, id) && !strcmp(s->url, url) &&
			    s->tagblock_len == blen && !memcmp(s->tagblock, block, blen))
				keep = s;
		}
		if (keep) {
			keep->seen = true;
			free(block);
			continue;
		}
		struct scrape *s = hg_prom_scrape_add(p, url, err, sizeof err);
		const char **tags = s ? malloc(2 * ntags * sizeof *tags) : NULL;
		if (!s || !tags || !(s->pod_id = strdup(id))) {
			free(block);
			free(tags);
			if (s)
				hg_prom_scrape_retire(p, p->nscrapes - 1);
			hg_acc_error(acc, "monitor_kubernetes_pods: %s: %s", id, s ? "out of memory" : err);
			continue;
		}
		const char *r = block;
		for (size_t i = 0; i < 2 * ntags; i++, r += strlen(r) + 1)
			tags[i] = r;
		s->pod = s->seen = true;
		s->creds = pod_gets_credentials(p, pod);
		s->tagblock = block;
		s->tagblock_len = blen;
		s->tags = tags;
		s->ntags = ntags;
	}
	/* Pods gone, changed or no longer annotated: their old targets go. */
	for (size_t i = p->nscrapes; i-- > 0;)
		if (p->scrapes[i]->pod && !p->scrapes[i]->gone && !p->scrapes[i]->seen)
			hg_prom_scrape_retire(p, i);
	p->pod_gen = gen;
}
