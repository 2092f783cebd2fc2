/* Reading API responses: small accessors over yajl trees, so the commands
 * say which field they want in one line. Paths are key lists ended by JQ_END. */
#ifndef AGENTCTL_JSONQ_H
#define AGENTCTL_JSONQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Parses body; NULL with err set when it is not JSON. */
yajl_val hg_jq_parse(const char *body, char *err, size_t errlen);
/* Ends a path. A bare NULL passed through "..." reads back as the const
 * char * jq_* expect only where NULL is a pointer (POSIX, not ISO C; and
 * cppcheck's portability check says so); this is one on every platform.
 * The sentinel attribute makes the compiler check that every path ends. */
#define JQ_END ((const char *)NULL)
/* The node at the path (any type), or NULL. */
yajl_val hg_jq_at(yajl_val v, ...) __attribute__((sentinel));
/* The string at the path, or NULL. */
const char *hg_jq_str(yajl_val v, ...) __attribute__((sentinel));
/* The integer at the path, def when absent or not an integer. */
int64_t hg_jq_int(yajl_val v, int64_t def, ...) __attribute__((sentinel));
/* Array length and element (0 / NULL when v is not an array). */
size_t hg_jq_len(yajl_val v);
yajl_val hg_jq_item(yajl_val v, size_t i);
/* Deep equality (object keys in any order, numbers by their text). */
bool hg_jq_equal(yajl_val a, yajl_val b);
/* Equality of two objects, ignoring the keys listed in skip (NULL-terminated). */
bool hg_jq_equal_except(yajl_val a, yajl_val b, const char *const *skip);

#endif
