/* The log of influxdb-setup, read (setup_log.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "setup_log.h"

#define MINE "influxdb-setup: "

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

size_t hg_setup_log_report(char *log, setup_report_fn fn, void *ud)
{
	size_t n = 0;
	for (char *line = log, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strncmp(line, "report\t", 7) != 0)
			continue;
		char *what = line + 7, *state = strchr(what, '\t');
		if (!state || state == what || !state[1])
			continue;
		*state++ = '\0';
		size_t sl = strlen(state);
		if (sl && state[sl - 1] == '\r')
			state[--sl] = '\0';
		if (!sl || !printable(what) || !printable(state))
			continue;
		fn(ud, what, state);
		n++;
	}
	return n;
}

void hg_setup_log_tail(const char *log, char *out, size_t len)
{
	if (!len)
		return;
	out[0] = '\0';
	const char *from = strstr(log, MINE), *end;
	if (from) {
		from += strlen(MINE);
		end = from + strcspn(from, "\n");
	} else {
		end = log + strlen(log);
		while (end > log && end[-1] == '\n')
			end--;
		from = end;
		for (int lines = 0; from > log && lines < 5;)
			if (*--from == '\n' && ++lines == 5)
				from++;
	}
	size_t o = 0;
	for (; from < end && o + 1 < len; from++)
		out[o++] = (*from == '\n' || ((unsigned char)*from >= 0x20 && *from != 0x7f)) ? *from : '?';
	out[o] = '\0';
}
