/* The strategy names people type (agentctl deploy-event --strategy, the
 * heliograph.io/strategy annotation) and the canonical tag values they are
 * written as, the four the deploy_events input writes and the Deploys
 * dashboard groups by. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "deploy_strategy.h"

static const struct {
	const char *typed;
	const char *tag; /* NULL: refused */
} table[] = {
	{ "bigbang", "bigbang" },
	{ "big-bang", "bigbang" },
	{ "Big-Bang", "bigbang" },
	{ "BIG_BANG", "bigbang" },
	{ "big bang", "bigbang" },
	{ "recreate", "bigbang" },
	{ "Recreate", "bigbang" }, /* Kubernetes' Deployment strategy type */
	{ "rolling", "rolling" },
	{ "Rolling", "rolling" },
	{ "rolling-update", "rolling" },
	{ "RollingUpdate", "rolling" }, /* Kubernetes' Deployment strategy type */
	{ "canary", "canary" },
	{ "CANARY", "canary" },
	{ "bluegreen", "bluegreen" },
	{ "blue-green", "bluegreen" },
	{ "Blue-Green", "bluegreen" },
	{ "BLUE_GREEN", "bluegreen" },
	{ "blueGreen", "bluegreen" }, /* Argo Rollouts' spec.strategy key */
	{ "blue green", "bluegreen" },
	{ "", NULL },
	{ "-", NULL },
	{ "blue", NULL },
	{ "blue/green", NULL },
	{ "canary2", NULL },
	{ "rollback", NULL },
	{ "recreated", NULL },
	{ "bluegreenbluegreenbluegreen", NULL }, /* longer than the fold buffer */
	{ "c-----------------a-n-a-r-y", "canary" }, /* separators are not counted against it */
	{ "Ｃanary", NULL },                      /* non-ASCII is not folded */
};

static void test_typed(void)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		int s = hg_deploy_strategy_parse(table[i].typed);
		if (!table[i].tag) {
			if (s != -1)
				fprintf(stderr, "'%s' accepted as %s\n", table[i].typed, hg_deploy_strategy_name(s));
			CHECK_INT(s, -1);
		} else {
			if (s < 0)
				fprintf(stderr, "'%s' refused\n", table[i].typed);
			CHECK(s >= 0);
			CHECK_STR(s >= 0 ? hg_deploy_strategy_name(s) : "", table[i].tag);
		}
	}
}

static void test_canonical(void)
{
	CHECK_INT(hg_deploy_strategy_parse(NULL), -1);
	/* Every canonical name parses to itself. */
	for (int s = 0; s < DEPLOY_STRATEGY_COUNT; s++)
		CHECK_INT(hg_deploy_strategy_parse(hg_deploy_strategy_name(s)), s);
	CHECK_STR(hg_deploy_strategy_name(DEPLOY_STRATEGY_COUNT), "unknown");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_typed),
		CHECK_CASE(test_canonical),
	};
	return CHECK_RUN(argc, argv, cases);
}
