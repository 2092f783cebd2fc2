/* agentctl's reading of the influxdb-setup container's log (setup_log.c):
 * the report lines setup.sh prints, lines that only look like them, and
 * what a failed run's error shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "setup_log.h"

static char got[1024];

static void collect(void *ud, const char *what, const char *state)
{
	(void)ud;
	size_t n = strlen(got);
	snprintf(got + n, sizeof got - n, "%s=%s;", what, state);
}

/* influxd's own lines around the report; a CRLF; lines that are not one. */
static void test_report(void)
{
	char log[] = "ts=2026-12-07T15:00:00Z lvl=info msg=\"Starting\"\n"
		     "report\tinfluxdb user admin (admin)\tcreated\n"
		     "report\tinfluxdb database heliograph\tunchanged\r\n"
		     "report\tinfluxdb user grafana (read-only on heliograph)\tconfigured (password set from the Secret)\n"
		     "report\tno state\n"
		     "report\t\tempty what\n"
		     "report\tempty state\t\n"
		     "report\tescape \x1b[2J\tcreated\n"
		     " report\tindented\tcreated\n"
		     "report\tlast line without newline\tcreated";
	CHECK_INT((int)hg_setup_log_report(log, collect, NULL), 4);
	CHECK_STR(got, "influxdb user admin (admin)=created;influxdb database heliograph=unchanged;"
		       "influxdb user grafana (read-only on heliograph)=configured (password set from the Secret);"
		       "last line without newline=created;");
	got[0] = '\0';
	char empty[] = "";
	CHECK_INT((int)hg_setup_log_report(empty, collect, NULL), 0);
}

/* A failed run: the script's message, not influxd's chatter. */
static void test_tail(void)
{
	char out[256];
	hg_setup_log_tail("ts=1 lvl=info msg=a\ninfluxdb-setup: InfluxDB does not accept the admin password of Secret "
		       "influxdb-admin: x\nts=2 lvl=info msg=\"Signal received\"\n",
		       out, sizeof out);
	CHECK_STR(out, "InfluxDB does not accept the admin password of Secret influxdb-admin: x");
	/* Without one: the last five lines, control characters masked. */
	hg_setup_log_tail("1\n2\n3\n4\n5\n6\n7\x07\n\n", out, sizeof out);
	CHECK_STR(out, "3\n4\n5\n6\n7?");
	hg_setup_log_tail("only\n", out, sizeof out);
	CHECK_STR(out, "only");
	hg_setup_log_tail("", out, sizeof out);
	CHECK_STR(out, "");
	/* A small buffer: cut, terminated. */
	char small[5];
	hg_setup_log_tail("influxdb-setup: long message", small, sizeof small);
	CHECK_STR(small, "long");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_report),
		CHECK_CASE(test_tail),
	};
	return CHECK_RUN(argc, argv, cases);
}
