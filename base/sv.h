/* String views: pointer + length, never owning. Line protocol parsing and the
 * metric builder both hand out views so nothing is copied per metric. */
#ifndef HG_SV_H
#define HG_SV_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct sv {
	const char *p;
	size_t len;
};

static inline struct sv sv_c(const char *s) { return (struct sv){ s, s ? strlen(s) : 0 }; }
static inline bool sv_eq(struct sv a, struct sv b) { return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0); }
static inline bool sv_eq_c(struct sv a, const char *b) { return sv_eq(a, sv_c(b)); }
int hg_sv_cmp(struct sv a, struct sv b);

#endif
