/* Deploy strategies: the canonical `strategy` tag values the Deploys
 * dashboard groups by, and the spellings people type for them. Shared by the
 * deploy_events input (the heliograph.io/strategy annotation) and agentctl
 * deploy-event (--strategy), so both write the same four values. */
#ifndef HG_DEPLOY_STRATEGY_H
#define HG_DEPLOY_STRATEGY_H

enum deploy_strategy { DEPLOY_BIGBANG, DEPLOY_ROLLING, DEPLOY_CANARY, DEPLOY_BLUEGREEN, DEPLOY_STRATEGY_COUNT };

/* "bigbang", "rolling", "canary" or "bluegreen". */
const char *hg_deploy_strategy_name(enum deploy_strategy s);
/* Case, '-', '_' and ' ' do not matter ("Blue-Green", "BLUE_GREEN",
 * "big bang"); Kubernetes' strategy types "Recreate" and "RollingUpdate"
 * are bigbang and rolling. -1 when s names none of them. */
int hg_deploy_strategy_parse(const char *s);

#endif
