/* Reading the log of the stack pod's init container influxdb-setup (setup.sh
 * of k8s-manifests/20-stack-config.yaml), which comes from the cluster:
 * pure functions, fuzzed by fuzz/fuzz_setup_log.c. */
#ifndef AGENTCTL_SETUP_LOG_H
#define AGENTCTL_SETUP_LOG_H
#include <stddef.h>

/* Calls fn for each "report<TAB>what<TAB>state" line of log (NUL-terminated,
 * split in place), what and state non-empty and free of control characters
 * (they are printed to a terminal). Returns how many. */
typedef void (*setup_report_fn)(void *ud, const char *what, const char *state);
size_t hg_setup_log_report(char *log, setup_report_fn fn, void *ud);

/* What to show of a failed run's log in out (always terminated): the
 * script's own "influxdb-setup: MESSAGE", else its last 5 lines; control
 * characters but newlines become '?'. log is left as it was. */
void hg_setup_log_tail(const char *log, char *out, size_t len);

#endif
