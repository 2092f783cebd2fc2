/* libFuzzer target for agentctl's reading of the influxdb-setup container's
 * log (agentctl/setup_log.c), which comes from the cluster: every report
 * line handed on is non-empty and printable, and the tail is a terminated
 * string inside its buffer, whatever the log. The first byte picks the
 * tail buffer's size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../agentctl/setup_log.h"

static void check(void *ud, const char *what, const char *state)
{
	(void)ud;
	if (!*what || !*state || strchr(what, '\t') || strchr(state, '\n'))
		abort();
	for (const char *p = what; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = (size_t)data[0] + 1;
	char *log = malloc(size), *out = malloc(len + 1);
	if (!log || !out)
		abort();
	memcpy(log, data + 1, size - 1);
	log[size - 1] = '\0';
	out[len] = 'Z'; /* canary past the end */
	hg_setup_log_tail(log, out, len);
	if (out[len] != 'Z' || strlen(out) >= len)
		abort();
	hg_setup_log_report(log, check, NULL);
	free(log);
	free(out);
	return 0;
}
