/* Where an output's metrics wait to be written: the memory store (an lpbuf
 * bounded by metric_buffer_limit, hg_output_store_memory.c) or the disk store
 * (a spool fed from a small staging lpbuf, hg_output_store_disk.c). The runner
 * (output_runner.c) decides when to write and what a write's outcome means;
 * it reaches the buffered lines only through these operations. Both stores
 * stage incoming lines in o->buf (running_output.h). */
#ifndef HG_OUTPUT_STORE_H
#define HG_OUTPUT_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct output_slot;
struct running_output;

struct output_store {
	const char *type; /* buffer.type: "memory" or "disk" */
	/* What failed stays for the next start: at shutdown nothing waits for a retry. */
	bool durable;
	/* Opens the store once the output's writers exist (optional). */
	int (*open)(struct running_output *o, char *err, size_t errlen);
	/* Starts the store's own timers (optional). */
	void (*start_timers)(struct running_output *o);
	/* Metrics waiting to be written. */
	uint64_t (*pending)(const struct running_output *o);
	/* Whether pending() still counts the batches in flight (a disk record
	 * until it is acknowledged). */
	bool (*counts_inflight)(const struct running_output *o);
	/* Dropped beyond what o->buf itself dropped. */
	uint64_t (*dropped)(const struct running_output *o);
	/* A line went into o->buf (optional). */
	void (*pushed)(struct running_output *o);
	/* Moves what o->buf holds to lasting storage (optional): at the end of
	 * a gather while writes fail, at a flush, at shutdown. */
	void (*stage)(struct running_output *o);
	/* Whole batches wait that need no flush to be written (optional). */
	bool (*backlog)(const struct running_output *o);
	/* Fills s->batch for one write; a batch smaller than the batch size
	 * only when partial. Returns its metrics, 0 for none. */
	size_t (*take)(struct running_output *o, struct output_slot *s, bool partial);
	/* The slot's batch could not be written: back to the front. */
	void (*unget)(struct running_output *o, struct output_slot *s);
	/* The slot's batch is done with, written or dropped for good. */
	void (*done)(struct running_output *o);
	/* The metrics in flight changed (optional). */
	void (*inflight_changed)(struct running_output *o);
	/* o->buffer_limit was raised (optional). */
	void (*limit_raised)(struct running_output *o);
	/* After hg_output_close: batches still in flight go back (optional). */
	void (*return_inflight)(struct running_output *o);
	/* Closes what the store opened (optional); handles close on the loop. */
	void (*close)(struct running_output *o);
	/* Frees what is left once the loop has ended (optional). */
	void (*release)(struct running_output *o);
};

extern const struct output_store hg_output_store_memory, hg_output_store_disk;

#endif
