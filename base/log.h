/* Logging: "2026-11-25T12:00:00Z E! [outputs.influxdb] message" on stderr or
 * agent.logfile, like Telegraf. Never pass secrets to these. */
#ifndef HG_LOG_H
#define HG_LOG_H
#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

int hg_log_open(const char *path, bool debug, bool quiet); /* path NULL = stderr */
void hg_log_close(void);
void hg_log_msg(enum log_level lvl, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_error(who, ...) hg_log_msg(LOG_ERROR, who, __VA_ARGS__)
#define log_warn(who, ...) hg_log_msg(LOG_WARN, who, __VA_ARGS__)
#define log_info(who, ...) hg_log_msg(LOG_INFO, who, __VA_ARGS__)
#define log_debug(who, ...) hg_log_msg(LOG_DEBUG, who, __VA_ARGS__)

#endif
