/* libFuzzer target: the YAML config loader on arbitrary bytes. The loader
 * must return 0 or -1 with a message, never crash or leak. */
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
	if (config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, err, sizeof(err)) == 0)
		config_free(&cfg);
	else if (!err[0])
		__builtin_trap(); /* every failure explains itself */
	return 0;
}
