/* libFuzzer target: the YAML config loader on arbitrary bytes, then the
 * outputs' checks on what loaded. Both must answer with a message when they
 * refuse, never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config cfg;
	char err[512];
	err[0] = '\0';
	if (hg_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, err, sizeof(err)) == 0) {
		/* The outputs' checks (what --test runs) take whatever loaded. */
		for (size_t i = 0; i < cfg.noutputs; i++) {
			const struct output_plugin *p = cfg.outputs[i].plugin;
			err[0] = '\0';
			if (p->check && p->check(cfg.outputs[i].config, err, sizeof(err)) != 0 && !err[0])
				__builtin_trap(); /* a refusal explains itself */
		}
		hg_config_free(&cfg);
	}
	else if (!err[0])
		__builtin_trap(); /* every failure explains itself */
	return 0;
}
