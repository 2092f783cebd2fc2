/* An output as the agent runs it: its plugin states (one per parallel
 * writer), its buffer (memory, or a disk spool with a staging buffer), the
 * batch size and backoff arithmetic, its timers and statistics. The runner
 * is output_runner.c; the stores hg_output_store_memory.c and
 * hg_output_store_disk.c. */
#ifndef HG_RUNNING_OUTPUT_H
#define HG_RUNNING_OUTPUT_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "agent_stats.h"
#include "batch.h"
#include "lpbuf.h"
#include "output_store.h"

struct agent;
struct output_cfg;
struct output_disk;
struct running_input;
struct running_output;

/* One of an output's parallel writers: a plugin state (a lane) and the
 * batch it is writing. */
struct output_slot {
	struct running_output *o;
	void *lane;              /* plugin state; slot 0's is running_output.state */
	struct batch batch;      /* the batch being written, when busy */
	bool busy;
	uint64_t started_ns;     /* monotonic */
};

struct running_output {
	struct agent *agent;
	const struct output_cfg *cfg;
	char label[160];         /* "outputs.influxdb", or "outputs.influxdb::alias" */
	void *state;
	struct lpbuf *buf;
	struct output_slot *slots; /* max_in_flight writers */
	unsigned nslots;
	unsigned inflight;       /* slots busy */
	uint64_t inflight_metrics; /* metrics in their batches */
	bool uint_support;
	bool closing;            /* shutdown flush in progress */
	bool giving_up;          /* stopping after a failure: start nothing, wait for what is in flight */
	int64_t batch_size;      /* metric_batch_size, halved on 413, doubled back on success */
	int64_t batch_good;      /* largest batch written since the last 413 that met a batch no larger */
	int64_t batch_ceiling;   /* a batch this large met 413 right after batch_good worked: 0 = none */
	unsigned ceiling_hold;   /* writes at batch_good before a batch of batch_ceiling is tried again */
	size_t longest_ok_len;   /* the longest batch body (bytes) ever accepted */
	unsigned single_413;     /* 413s in a row for a batch of one line */
	int64_t batch_size_cfg;  /* as configured (bounded by the buffer limit) */
	int64_t buffer_limit;    /* metric_buffer_limit, raised to hold two gathers of the largest input */
	int64_t buffer_limit_cfg; /* metric_buffer_limit as configured */
	int64_t buffer_limit_told; /* the raised limit last logged */
	uint64_t last_failure_ns; /* monotonic; when consecutive_failures last grew */
	int64_t flush_interval_ns, flush_jitter_ns;
	int64_t backoff_ms;      /* 0 = not backing off */
	uint64_t write_started_ns;
	unsigned consecutive_failures;
	uv_timer_t flush_timer, retry_timer;
	struct output_stats stats;
	bool timers_ready;       /* flush/retry timers initialised (hg_agent_start) */
	bool stop_after_inflight; /* config reload: finish the write in flight, start no other */
	bool fail_fast;          /* --once: a failed write ends the flush instead of retrying */
	bool failed;             /* a write failed (for --once's exit code) */
	uint64_t server_dropped; /* lines the server rejected or were unwritable */
	/* where the metrics wait (output_store.h): o->buf, and for a disk
	 * store the spool behind it (disk: its state, hg_output_store_disk.c) */
	const struct output_store *store;
	struct output_disk *disk;
	void (*on_drained)(struct running_output *o);
};

/* output_runner.c */
int hg_output_start(struct running_output *o, struct agent *a, const struct output_cfg *cfg, char *err, size_t errlen);
void hg_output_push(struct running_output *o, const char *line, size_t len);
/* Raises the output's buffer limit to hold two gathers of n metrics, n
 * being the size so far of the gather that emits (see output_runner.c). */
void hg_output_fit_gather(struct running_output *o, uint64_t n);
/* Logs a raise of the buffer limit since the last one logged, naming the input. */
void hg_output_tell_fit(struct running_output *o, const struct running_input *ri);
/* Metrics waiting: buffered, in flight, or in the disk buffer. */
uint64_t hg_output_pending(const struct running_output *o);
/* An input's gather ended: a disk buffer moves what it staged to the spool. */
void hg_output_gather_ended(struct running_output *o);
/* Writes what is buffered now, batch after batch; on_drained runs when the
 * buffer is empty or the output gave up (a write failed). */
void hg_output_flush_all(struct running_output *o, void (*on_drained)(struct running_output *o));
void hg_output_start_timers(struct running_output *o, bool periodic);
/* Reload: lets the writes in flight finish, starts no other. */
void hg_output_finish_inflight(struct running_output *o, void (*on_drained)(struct running_output *o));
/* After hg_output_close: batches still in flight go back to the buffer. */
void hg_output_unget_inflight(struct running_output *o);
/* Closes timers and the plugin (handles close on the loop's next turn). */
void hg_output_close(struct running_output *o);
/* Frees the buffer once the loop has ended. */
void hg_output_release(struct running_output *o);
/* The batch size and backoff arithmetic, exposed for unit tests. */
int64_t hg_output_backoff_ms(unsigned failures, int64_t retry_after_ms);

/* hg_output_store_disk.c: whether the output was configured with buffer: {type: disk}. */
bool hg_output_is_disk(const struct running_output *o);
/* The lines in a disk store's spool (the record being written among them
 * until it is acknowledged), 0 without one; for unit tests. */
uint64_t hg_output_disk_spooled(const struct running_output *o);

#endif
