/* The accumulator an input gathers into. acc_emit() applies the instance's
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
struct metric *acc_metric(struct acc *a, const char *measurement);
/* Emits m; time_ns 0 stamps the gather's start time. */
void acc_emit(struct acc *a, struct metric *m, int64_t time_ns);
/* Records an error of this gather (logged with the instance name, counted in
 * internal_gather.errors). */
void acc_error(struct acc *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends an asynchronous gather (after gather returned GATHER_PENDING). */
void acc_gather_done(struct acc *a);
/* The time of the gather in progress (ns since epoch). */
int64_t acc_gather_time(const struct acc *a);

#endif
