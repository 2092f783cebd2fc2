/* Runs an exec credential plugin on the loop: uv_spawn with a pipe for
 * stdout, a deadline, and a kill. Nothing here waits: a plugin that hangs,
 * or hands its stdout to a child that lives on, costs a process and two
 * handles until the deadline, never the loop.
 *
 * The plugin leads a process group of its own (UV_PROCESS_DETACHED: setsid
 * in the child), so that stopping it stops whatever it started too: SIGTERM
 * to the group, then SIGKILL to the group once the grace has passed and the
 * group is not empty yet. The group is stopped at the deadline, when the
 * output is too long, when the caller abandons the run, and when the plugin
 * exits but left a process holding its stdout (an answer is complete at the
 * plugin's exit; client-go would wait for that process, so no working plugin
 * leaves one there on purpose, and nothing reads the pipe after us). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_exec.h"
#include "kube_util.h"

/* The groups of the plugins running now, for hg_kube_exec_signal_groups
 * from a signal handler: a slot holds a group's id from the spawn until the
 * plugin is reaped (then the number may name another group), 0 when free. */
#define RUNNING_GROUPS 16
static volatile sig_atomic_t running_groups[RUNNING_GROUPS];

void hg_kube_exec_signal_groups(int sig)
{
	for (int i = 0; i < RUNNING_GROUPS; i++) {
		pid_t g = (pid_t)running_groups[i];
		if (g > 0)
			kill(-g, sig);
	}
}

struct kube_exec_run {
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	int open;           /* handles not yet closed */
	bool exited, eof;
	bool answered;      /* done was called, or the caller abandoned the run */
	bool held;          /* at the plugin's exit, someone else still held its stdout */
	bool stopping;      /* SIGTERM sent to the group; waiting for it to empty */
	bool stopped;       /* the group is empty, or has had its SIGKILL */
	pid_t pgid;         /* the plugin's pid, which is its group's id */
	int slot;           /* in running_groups, -1 when they were all taken */
	uint64_t term_at;   /* when SIGTERM was sent (loop time, ms) */
	int64_t exit_status;
	int term_signal;
	int64_t timeout_ms;
	char *buf;
	size_t len, cap;
	char *command, *hint, *api_version;
	kube_exec_done_fn done;
	void *arg;
};

static void on_closed(uv_handle_t *h)
{
	struct kube_exec_run *x = h->data;
	if (--x->open > 0)
		return;
	if (x->buf)
		hg_kube_free_secret(x->buf, x->len);
	free(x->command);
	free(x->hint);
	free(x->api_version);
	free(x);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_closed);
}

/* Everything is over once the process has exited and the caller has had
 * its answer (or gone). */
static void maybe_close(struct kube_exec_run *x)
{
	if (x->exited && x->eof && x->answered && (!x->stopping || x->stopped))
		close_handle((uv_handle_t *)&x->timer);
}

static void answer(struct kube_exec_run *x, int rc, struct kube_exec_result *r, const char *err)
{
	if (x->answered)
		return;
	x->answered = true;
	x->done(x->arg, rc, r, err);
}

static void fail(struct kube_exec_run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct kube_exec_run *x, const char *fmt, ...)
{
	char err[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, sizeof err, fmt, ap);
	va_end(ap);
	answer(x, -1, NULL, err);
}

/* Polls the group (kill with signal 0 never blocks) until it is empty,
 * and SIGKILLs it once the grace has passed. Its pgid cannot name another
 * group while a member lives; once the plugin has been reaped and the group
 * has emptied, the number could only come back after the kernel's pids
 * have wrapped around, which takes far longer than the grace. */
static void on_stop_tick(uv_timer_t *t)
{
	struct kube_exec_run *x = t->data;
	if (kill(-x->pgid, 0) != 0 && errno == ESRCH) {
		x->stopped = true;
	} else if (uv_now(t->loop) - x->term_at >= KUBE_EXEC_KILL_GRACE_MS) {
		kill(-x->pgid, SIGKILL);
		x->stopped = true;
	}
	if (x->stopped) {
		uv_timer_stop(t);
		maybe_close(x);
	}
}

/* SIGTERM to the plugin's group now, SIGKILL after the grace to whatever of
 * it is still there. */
static void stop_group(struct kube_exec_run *x)
{
	if (x->stopping)
		return;
	x->stopping = true;
	x->term_at = uv_now(x->timer.loop);
	if (kill(-x->pgid, SIGTERM) != 0 && errno == ESRCH) {
		x->stopped = true;
		return;
	}
	uv_timer_start(&x->timer, on_stop_tick, 50, 50);
}

static void on_timeout(uv_timer_t *t)
{
	struct kube_exec_run *x = t->data;
	fail(x, "exec plugin \"%s\" did not answer within %g s; stopped it", x->command, (double)x->timeout_ms / 1000);
	stop_group(x);
	/* Stop reading: whatever it prints now is of no use. */
	if (!x->eof) {
		x->eof = true;
		close_handle((uv_handle_t *)&x->out);
	}
	maybe_close(x);
}

static void finish(struct kube_exec_run *x)
{
	if (!x->exited || !x->eof || x->answered)
		return;
	const char *hint_sep = x->hint ? ". " : "", *hint = x->hint ? x->hint : "";
	if (x->term_signal == 0 && x->exit_status == 127) {
		/* Shells use 127 for a command they could not find. */
		fail(x, "exec plugin: cannot run \"%s\" (exit status 127: command not found?)%s%s", x->command,
		     hint_sep, hint);
	} else if (x->term_signal != 0 || x->exit_status != 0) {
		fail(x, "exec plugin \"%s\" failed (%s %lld); its messages are above", x->command,
		     x->term_signal ? "signal" : "exit status",
		     (long long)(x->term_signal ? x->term_signal : x->exit_status));
	} else {
		char err[512];
		struct kube_exec_result r;
		x->buf[x->len] = '\0';
		if (hg_kube_exec_parse(x->buf, x->api_version, &r, err, sizeof err) != 0)
			fail(x, "exec plugin \"%s\": %s", x->command, err);
		else
			answer(x, 0, &r, NULL);
	}
	uv_timer_stop(&x->timer);
	maybe_close(x);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)suggested;
	struct kube_exec_run *x = h->data;
	if (x->cap - x->len < 4096 && x->cap <= KUBE_EXEC_MAX_OUTPUT) {
		size_t cap = x->cap ? x->cap * 2 : 8192;
		char *nb = malloc(cap + 1);
		if (nb && x->buf) {
			memcpy(nb, x->buf, x->len);
			hg_kube_free_secret(x->buf, x->cap);
		}
		if (nb) {
			x->buf = nb;
			x->cap = cap;
		}
	}
	*b = uv_buf_init(x->buf ? x->buf + x->len : NULL, x->buf ? (unsigned)(x->cap - x->len) : 0);
}

/* No more output: EOF, an error, or too much of it. */
static void output_ended(struct kube_exec_run *x)
{
	x->eof = true;
	uv_read_stop((uv_stream_t *)&x->out);
	close_handle((uv_handle_t *)&x->out);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	struct kube_exec_run *x = s->data;
	if (n > 0)
		x->len += (size_t)n;
	if (x->len > KUBE_EXEC_MAX_OUTPUT || n == UV_ENOBUFS) {
		fail(x, "exec plugin \"%s\" printed more than %u bytes; stopped it", x->command, KUBE_EXEC_MAX_OUTPUT);
		output_ended(x);
		stop_group(x);
		maybe_close(x);
		return;
	}
	if (n < 0) {
		output_ended(x);
		finish(x);
	}
}

/* What the plugin wrote before it exited is in the pipe now; read it
 * without waiting for EOF, which never comes while a child it left behind
 * holds the pipe open. */
static void drain(struct kube_exec_run *x)
{
	uv_os_fd_t fd;
	if (x->eof || uv_fileno((uv_handle_t *)&x->out, &fd) != 0)
		return;
	for (;;) {
		uv_buf_t b;
		on_alloc((uv_handle_t *)&x->out, 0, &b);
		if (b.len == 0) {
			on_read((uv_stream_t *)&x->out, UV_ENOBUFS, &b);
			return;
		}
		ssize_t n = read(fd, b.base, b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			on_read((uv_stream_t *)&x->out, n, &b);
			if (x->eof)
				return;
			continue;
		}
		/* 0 (EOF) or EAGAIN (someone else still holds the pipe): done reading. */
		x->held = n != 0;
		output_ended(x);
		return;
	}
}

static void plugin_exited(uv_process_t *p, int64_t status, int sig)
{
	struct kube_exec_run *x = p->data;
	x->exited = true;
	if (x->slot >= 0)
		running_groups[x->slot] = 0;
	x->exit_status = status;
	x->term_signal = sig;
	close_handle((uv_handle_t *)p);
	drain(x);
	finish(x);
	if (x->held)
		stop_group(x);
	maybe_close(x);
}

struct kube_exec_run *hg_kube_exec_start(uv_loop_t *loop, const struct kube_config *kc, int64_t timeout_ms,
				      kube_exec_done_fn done, void *arg, char *err, size_t errlen)
{
	const struct kube_exec_conf *e = kc->exec;
	struct kube_exec_run *x = calloc(1, sizeof *x);
	if (!x) {
		snprintf(err, errlen, "exec plugin: out of memory");
		return NULL;
	}
	x->timeout_ms = timeout_ms > 0 ? timeout_ms : KUBE_EXEC_TIMEOUT_MS;
	x->command = strdup(e->command);
	x->hint = hg_kube_strdup(e->install_hint);
	x->api_version = hg_kube_strdup(e->api_version);
	x->done = done;
	x->arg = arg;
	x->proc.data = x->out.data = x->timer.data = x;
	uv_pipe_init(loop, &x->out, 0);
	uv_timer_init(loop, &x->timer);
	x->open = 2;
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->out },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	};
	char **env = hg_kube_exec_env(kc);
	uv_process_options_t o = {
		.exit_cb = plugin_exited,
		.file = e->command,
		.args = e->argv,
		.env = env,
		.stdio_count = 3,
		.stdio = stdio,
		/* A group of its own to stop as one (setsid in the child). The
		 * handle stays referenced and its exit_cb comes as without it. */
		.flags = UV_PROCESS_DETACHED,
	};
	int rc = uv_spawn(loop, &x->proc, &o);
	hg_kube_free_strv(env);
	if (rc != 0) {
		snprintf(err, errlen, "exec plugin: cannot run \"%s\": %s%s%s", e->command, uv_strerror(rc),
			 e->install_hint ? ". " : "", e->install_hint ? e->install_hint : "");
		/* A failed spawn still has a handle to close (libuv's uv_spawn). */
		x->open = 3;
		x->answered = x->exited = x->eof = true;
		close_handle((uv_handle_t *)&x->proc);
		close_handle((uv_handle_t *)&x->out);
		close_handle((uv_handle_t *)&x->timer);
		return NULL;
	}
	x->open = 3;
	x->pgid = x->proc.pid;
	x->slot = -1;
	for (int i = 0; i < RUNNING_GROUPS && x->slot < 0; i++)
		if (running_groups[i] == 0) {
			running_groups[i] = x->pgid;
			x->slot = i;
		}
	uv_timer_start(&x->timer, on_timeout, (uint64_t)x->timeout_ms, 0);
	uv_read_start((uv_stream_t *)&x->out, on_alloc, on_read);
	return x;
}

void hg_kube_exec_abandon(struct kube_exec_run *x)
{
	if (!x)
		return;
	x->answered = true;
	if (!x->eof)
		output_ended(x);
	if (!x->exited)
		stop_group(x);
	maybe_close(x);
}
