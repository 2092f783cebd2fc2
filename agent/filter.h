/* Telegraf's metric filters (globs, fnmatch semantics):
 * namepass/namedrop on the measurement, fieldpass/fielddrop on field keys,
 * tagpass/tagdrop on tag values per key, taginclude/tagexclude on tag keys. */
#ifndef HG_FILTER_H
#define HG_FILTER_H
#include <stdbool.h>
#include "metric.h"
#include "options.h"

struct metric_filter {
	struct strlist namepass, namedrop, fieldpass, fielddrop, taginclude, tagexclude;
	struct tagfilter tagpass, tagdrop;
};

bool hg_filter_is_empty(const struct metric_filter *f);
/* Applies the filter to m in place (removes fields and tags). Returns false
 * when the metric is to be dropped (also when no field is left). */
bool hg_filter_apply(const struct metric_filter *f, struct metric *m);
bool hg_filter_name_matches(const struct strlist *globs, struct sv name);
void hg_filter_free(struct metric_filter *f);

#endif
