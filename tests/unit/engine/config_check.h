/* Helpers of the config loader's tests (test_config*.c): a fixture's path,
 * an option's field, a tag, loading a YAML text, expecting an error. */
#ifndef HG_TEST_CONFIG_CHECK_H
#define HG_TEST_CONFIG_CHECK_H
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "config.h"
#include "config_values.h"

#define S 1000000000LL

static char fx[1024];

static inline const char *fixture(const char *name)
{
	const char *dir = getenv("FIXTURES");
	snprintf(fx, sizeof(fx), "%s/config/%s", dir ? dir : "tests/fixtures", name);
	return fx;
}

/* The field of option name in base, found through the plugin's table so the
 * test does not depend on a plugin's private struct. */
static inline void *field(const struct opt_desc *opts, void *base, const char *name)
{
	const struct opt_desc *o = hg_opt_find(opts, name);
	if (!o) {
		fprintf(stderr, "no option %s\n", name);
		check_failures++;
		static char zero[64];
		return zero;
	}
	return (char *)base + o->offset;
}

static inline const char *tag(const struct strmap *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->k[i], k))
			return m->v[i];
	return NULL;
}

static inline int load_str(struct agent_config *c, const char *yaml, char *err, size_t errlen)
{
	return hg_config_load_buffer(c, "t.yaml", yaml, strlen(yaml), err, errlen);
}

static inline void expect_err(const char *yaml, const char *want)
{
	struct agent_config c;
	char err[512] = "";
	CHECK_INT(load_str(&c, yaml, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	CHECK_INT(c.ninputs, 0);
}

#endif
