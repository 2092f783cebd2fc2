/* libFuzzer target: agentctl's TOML reader, and the Telegraf converter on
 * whatever it accepts. Either parses or fails with a message; never crashes
 * or leaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "convert_telegraf.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_doc doc;
	char err[512];
	err[0] = '\0';
	if (hg_toml_parse(&doc, "fuzz.toml", (const char *)data, size, err, sizeof(err)) < 0) {
		if (!err[0])
			__builtin_trap(); /* every failure explains itself */
		return 0;
	}
	FILE *out = fopen("/dev/null", "w"), *rep = fopen("/dev/null", "w");
	if (out && rep)
		hg_convert_telegraf(&doc, "fuzz.toml", out, rep, err, sizeof(err));
	if (out)
		fclose(out);
	if (rep)
		fclose(rep);
	hg_toml_free(&doc);
	return 0;
}
