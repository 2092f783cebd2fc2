/* The InfluxQL text deploy-check sends: a bounded string builder with the
 * quoting of string literals, identifiers and regexes, the WHERE every query
 * shares, the --error-rate expression and the default pod regexes
 * (deploy_check.h declares the last two). */
#ifndef AGENTCTL_DEPLOY_CHECK_QUERY_H
#define AGENTCTL_DEPLOY_CHECK_QUERY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX 8192

/* A query being written; overflow when it did not fit (then nothing more is added). */
struct dcq_text {
	char buf[QUERY_MAX];
	size_t n;
	bool overflow;
};

void hg_dcq_add(struct dcq_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 'text' with ' and \ escaped. */
void hg_dcq_str(struct dcq_text *b, const char *s);
/* "name" with " and \ escaped. */
void hg_dcq_ident(struct dcq_text *b, const char *s);
/* /regex/ with / escaped (a backslash stays the regex's). */
void hg_dcq_regex(struct dcq_text *b, const char *s);
/* WHERE: the namespace, the pods (a regex over pod_name), the span [from, to) in ns. */
void hg_dcq_where(struct dcq_text *b, const char *ns, const char *pods, int64_t from, int64_t to);

#endif
