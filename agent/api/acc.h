/* The accumulator an input gathers into. hg_acc_emit() applies the instance's
 * name/tags/filters, the global tags and host tag, serializes the metric to
 * line protocol once (per serializer flavour) and pushes it to every output
 * whose filters accept it. Nothing is allocated per metric. */
#ifndef HG_ACC_H
#define HG_ACC_H
#include <stdarg.h>
#include <stdint.h>
#include "metric.h"

struct acc;

/* Resets and returns the scratch metric with the given measurement name. */
struct metric *hg_acc_metric(struct acc *a, const char *measurement);
/* Emits m; time_ns 0 stamps the gather's start time. */
void hg_acc_emit(struct acc *a, struct metric *m, int64_t time_ns);
/* For service inputs that receive line protocol (the listener): m is the
 * parsed form of line[0..len) (one record, no '\n' inside; NULL when the
 * input changed the metric), with its final timestamp. When nothing would
 * change the line (no instance filters, name changes or tags to add, no
 * global or host tag missing, tags sorted, no uint field for an output
 * without uint support, no output filters), the bytes go to the outputs as
 * they are; otherwise m is emitted like hg_acc_emit() does. As in Telegraf,
 * the agent's precision does not round a service input's timestamps. */
void hg_acc_emit_line(struct acc *a, struct metric *m, const char *line, size_t len);
/* Ends one delivery of a service input outside a gather (a request): a
 * disk buffer stages what it got while writes fail, as after a gather. */
void hg_acc_service_done(struct acc *a);
/* Records an error of this gather (logged with the instance name, counted in
 * internal_gather.errors). */
void hg_acc_error(struct acc *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends an asynchronous gather (after gather returned GATHER_PENDING). */
void hg_acc_gather_done(struct acc *a);
/* The time of the gather in progress (ns since epoch). */
int64_t hg_acc_gather_time(const struct acc *a);

/* A stand-alone accumulator that serializes every emitted metric (ns
 * timestamps, uint support on, no host tag) into an in-memory text, for
 * unit tests of inputs. Errors are appended to a separate text. */
struct acc *hg_acc_capture_new(void);
const char *hg_acc_capture_text(const struct acc *a);   /* line protocol, one line per metric */
const char *hg_acc_capture_errors(const struct acc *a); /* one line per hg_acc_error() */
void hg_acc_capture_clear(struct acc *a);
void hg_acc_capture_free(struct acc *a);

#endif
