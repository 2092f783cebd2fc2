/* libFuzzer target for the strategy names people type (agentctl
 * deploy-event --strategy, the heliograph.io/strategy annotation read from
 * the API): any bytes give -1 or one of the four strategies, a strategy's
 * canonical name parses back to it, and upper-casing the input or putting
 * separators into it never changes the answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *up = malloc(2 * size + 1);
	if (!s || !up) {
		free(s);
		free(up);
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	int r = hg_deploy_strategy_parse(s);
	if (r < -1 || r >= DEPLOY_STRATEGY_COUNT)
		abort();
	if (r >= 0 && hg_deploy_strategy_parse(hg_deploy_strategy_name(r)) != r)
		abort();
	/* The same text upper-cased, with a '-' after every byte. */
	size_t n = 0;
	for (const char *c = s; *c; c++) {
		up[n++] = (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
		up[n++] = '-';
	}
	up[n] = '\0';
	if (hg_deploy_strategy_parse(up) != r)
		abort();
	free(s);
	free(up);
	return 0;
}
