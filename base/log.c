/* Log lines in Telegraf's shape: "2026-11-25T12:00:00Z E! [who] message". */
#include "log.h"
#include "open_append.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static FILE *log_out;
static enum log_level log_max = LOG_INFO;

int hg_log_open(const char *path, bool debug, bool quiet)
{
	log_max = debug ? LOG_DEBUG : quiet ? LOG_ERROR : LOG_INFO;
	if (log_out && log_out != stderr)
		fclose(log_out);
	log_out = stderr;
	if (path && *path) {
		int fd = hg_open_append_0640(path);
		FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		log_out = f;
	}
	return 0;
}

void hg_log_close(void)
{
	if (log_out && log_out != stderr)
		fclose(log_out);
	log_out = NULL;
}

void hg_log_msg(enum log_level lvl, const char *who, const char *fmt, ...)
{
	static const char letters[] = { 'E', 'W', 'I', 'D' };
	if (lvl > log_max)
		return;
	FILE *out = log_out ? log_out : stderr;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (who)
		fprintf(out, "%s %c! [%s] %s\n", ts, letters[lvl], who, msg);
	else
		fprintf(out, "%s %c! %s\n", ts, letters[lvl], msg);
}
