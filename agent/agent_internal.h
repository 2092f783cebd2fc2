/* The agent's running state, shared by the scheduler (agent.c), the
 * accumulator (acc.c) and the output runner (output_runner.c). Plugins see
 * none of this: they get plugin.h, acc.h and agent.h. */
#ifndef HG_AGENT_INTERNAL_H
#define HG_AGENT_INTERNAL_H
#include <stdbool.h>
#include <uv.h>
#include "clock.h"
#include "agent.h"
#include "lpbuf.h"
#include "config.h"
#include "plugin.h"
#include "plugin_label.h"

struct agent;
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
	bool timers_ready;       /* flush/retry timers initialised (agent_start) */
	bool stop_after_inflight; /* config reload: finish the write in flight, start no other */
	bool fail_fast;          /* --once: a failed write ends the flush instead of retrying */
	bool failed;             /* a write failed (for --once's exit code) */
	uint64_t server_dropped; /* lines the server rejected or were unwritable */
	/* buffer: {type: disk} (output_spool.c): buf is then only the staging
	 * area of the current gather; writes replay records from the spool. */
	struct spool *spool;
	struct lpbuf *replay;    /* lines of the record being written */
	bool record_loaded;      /* replay holds a record not yet acknowledged */
	size_t replay_batch;     /* the record's share per writer */
	char *record;            /* read buffer for one record */
	size_t record_cap;
	struct batch stage;      /* staging -> spool scratch */
	uv_timer_t fsync_timer;
	bool fsync_timer_ready;
	void (*on_drained)(struct running_output *o);
};

struct running_input {
	struct agent *agent;
	const struct input_cfg *cfg;
	char label[160];         /* "inputs.cpu", or "inputs.cpu::alias" */
	void *state;
	struct acc *acc;
	bool gathering;
	bool baseline;           /* --test/--once: this gather only sets needs_baseline's baseline; its metrics are dropped */
	int64_t interval_ns, jitter_ns;
	int64_t precision_ns;    /* timestamps are rounded to this */
	int64_t tick_ns;         /* wall clock of the current nominal tick */
	uint64_t gather_started_ns; /* monotonic */
	uint64_t gather_metrics; /* metrics of the gather in progress (or the last one) */
	uv_timer_t timer;
	struct input_stats stats;
};

struct agent {
	uv_loop_t *loop;
	struct agent_config *cfg;
	struct httpc *http;
	struct acc_scratch *acc_scratch; /* shared by every input's accumulator */
	char hostname[256];
	size_t ninputs, noutputs;
	struct running_input *inputs;
	struct running_output *outputs;
	struct agent_stats totals;
	uv_signal_t sigterm, sigint, sighup;
	bool stopping;
	bool test_mode;          /* --test: lines go to stdout, outputs are not used */
	int exit_code;
	int64_t start_ns;
	bool started;            /* agent_start ran: uv handles exist */
	bool reloading;          /* stopping for a config reload: buffers are carried over */
	bool once;               /* --once: gather once, flush, stop */
	size_t gathers_pending;  /* --test/--once: inputs still gathering */
	size_t outputs_pending;  /* outputs still draining while stopping */
	size_t closes_pending;   /* uv handles not yet closed */
	uv_timer_t stop_timer;   /* bounds the final flush */
	void *health;            /* struct httpd *, when agent.health_listen is set */
	void (*on_stopped)(struct agent *a, void *arg);
	void *on_stopped_arg;
};

/* acc.c */
struct acc_scratch;
struct acc_scratch *acc_scratch_new(void);
void acc_scratch_free(struct acc_scratch *sc);
/* Uses ri->agent->acc_scratch, which must outlive the accumulator. */
struct acc *acc_new_for_input(struct running_input *ri);
void acc_free(struct acc *a);
void acc_begin_gather(struct acc *a, int64_t time_ns);

/* output_runner.c */
int output_start(struct running_output *o, struct agent *a, const struct output_cfg *cfg, char *err, size_t errlen);
void output_push(struct running_output *o, const char *line, size_t len);
/* Raises the output's buffer limit to hold two gathers of n metrics, n
 * being the size so far of the gather that emits (see output_runner.c). */
void output_fit_gather(struct running_output *o, uint64_t n);
/* Logs a raise of the buffer limit since the last one logged, naming the input. */
void output_tell_fit(struct running_output *o, const struct running_input *ri);
/* Metrics waiting: buffered, in flight, or in the disk buffer. */
uint64_t output_pending(const struct running_output *o);
/* Whether the output was configured with buffer: {type: disk}. */
bool output_is_disk(const struct running_output *o);
/* An input's gather ended: a disk buffer moves what it staged to the spool. */
void output_gather_ended(struct running_output *o);
/* Writes what is buffered now, batch after batch; on_drained runs when the
 * buffer is empty or the output gave up (a write failed). */
void output_flush_all(struct running_output *o, void (*on_drained)(struct running_output *o));
void output_start_timers(struct running_output *o, bool periodic);
/* Reload: lets the writes in flight finish, starts no other. */
void output_finish_inflight(struct running_output *o, void (*on_drained)(struct running_output *o));
/* After output_close: batches still in flight go back to the buffer. */
void output_unget_inflight(struct running_output *o);
/* Closes timers and the plugin (handles close on the loop's next turn). */
void output_close(struct running_output *o);
/* Frees the buffer once the loop has ended. */
void output_release(struct running_output *o);
/* The batch size and backoff arithmetic, exposed for unit tests. */
int64_t output_backoff_ms(unsigned failures, int64_t retry_after_ms);

/* uv_close that the agent counts, so it knows when it has fully stopped. */
void agent_close_handle(struct agent *a, uv_handle_t *h);

/* output_spool.c: the disk buffer, when the output has one (o->spool). */
int output_spool_open(struct running_output *o, char *err, size_t errlen);
void output_spool_start_timer(struct running_output *o);
void output_spool_stage(struct running_output *o);
size_t output_spool_take(struct running_output *o, struct batch *out);
void output_spool_unget(struct running_output *o, const struct batch *b);
void output_spool_written(struct running_output *o);
uint64_t output_spool_pending(const struct running_output *o);
bool output_spool_backlog(const struct running_output *o);
uint64_t output_spool_dropped(const struct running_output *o);
void output_spool_close(struct running_output *o);

/* Called by the input scheduler when an input's gather finished. */
void agent_gather_finished(struct running_input *ri);

#endif
