#include "deploy_strategy.h"
#include <string.h>

static const char *const names[DEPLOY_STRATEGY_COUNT] = { "bigbang", "rolling", "canary", "bluegreen" };

/* Other names, after folding. */
static const struct {
	const char *alias;
	enum deploy_strategy s;
} aliases[] = {
	{ "recreate", DEPLOY_BIGBANG },
	{ "rollingupdate", DEPLOY_ROLLING },
};

const char *hg_deploy_strategy_name(enum deploy_strategy s)
{
	return (unsigned)s < DEPLOY_STRATEGY_COUNT ? names[s] : "unknown";
}

int hg_deploy_strategy_parse(const char *s)
{
	/* Longer than any name: a longer input cannot match, whatever it folds to. */
	char folded[16];
	size_t n = 0;
	for (; s && *s; s++) {
		if (*s == '-' || *s == '_' || *s == ' ')
			continue;
		if (n + 1 >= sizeof folded)
			return -1;
		folded[n++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
	}
	folded[n] = '\0';
	for (int i = 0; i < DEPLOY_STRATEGY_COUNT; i++)
		if (strcmp(folded, names[i]) == 0)
			return i;
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (strcmp(folded, aliases[i].alias) == 0)
			return (int)aliases[i].s;
	return -1;
}
