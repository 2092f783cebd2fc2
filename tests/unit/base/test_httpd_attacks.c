/* The HTTP server's availability under attack (issue 16), each attack a
 * client thread against a server bounded for it: slowloris (heads a byte at
 * a time) against header_timeout and shedding, and shedding at max_conns
 * (the longest-waiting connection first, never one reading a body; refused
 * when only bodies are in progress) with a stalled body's body_timeout. The
 * client synchronises on the server's counters (await_stats), not on sleeps.
 * The harness: httpd_harness.h. */
#include "check.h"
#include "httpd_harness.h"

#define SLOW_N 8 /* the server's max_conns */

static bool all_slow_in(const struct httpd_stats *st) { return st->accepted == SLOW_N && st->conns_waiting == SLOW_N; }

/* Slowloris: SLOW_N connections each send one byte of a head every 100 ms
 * (the idle timeout, 5 s, never fires), with header_timeout 1 s. A probe
 * during the attack must be answered at once, and the slow connections
 * must be closed with 408 about 1 s after they connected, while still
 * sending. The attack stops itself after 6 s at most. */
static void *slowloris(void *arg)
{
	(void)arg;
	static const char head[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: "
				   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	int fd[SLOW_N];
	double t_conn[SLOW_N], t_closed[SLOW_N];
	size_t sent[SLOW_N];
	char got[SLOW_N][256];
	size_t got_n[SLOW_N];
	for (int i = 0; i < SLOW_N; i++) {
		fd[i] = dial();
		CHECK(fd[i] >= 0);
		t_conn[i] = mono();
		t_closed[i] = 0;
		sent[i] = got_n[i] = 0;
		got[i][0] = 0;
	}
	struct httpd_stats st;
	CHECK(await_stats(&st, all_slow_in));

	double t0 = mono(), next_tick = t0, probe_secs = -1;
	bool probed = false;
	int open_n = SLOW_N;
	char out[4096];
	while (open_n > 0 && mono() - t0 < 6) {
		double now = mono();
		if (now >= next_tick) {
			for (int i = 0; i < SLOW_N; i++)
				if (!t_closed[i] && sent[i] < sizeof head - 1 &&
				    send(fd[i], head + sent[i], 1, MSG_NOSIGNAL) == 1)
					sent[i]++;
			next_tick += 0.1;
		}
		if (!probed && now - t0 >= 0.3) {
			/* The kubelet's probe, with the server full of slow heads. */
			probed = true;
			double p0 = mono();
			int p = dial();
			CHECK(p >= 0);
			put(p, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
			CHECK(closed_by_server(p, out, sizeof out) == 1);
			probe_secs = mono() - p0;
			CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
			CHECK(strstr(out, "\r\n\r\nok\n") != NULL);
			close(p);
		}
		struct pollfd pf[SLOW_N];
		for (int i = 0; i < SLOW_N; i++)
			pf[i] = (struct pollfd){ .fd = t_closed[i] ? -1 : fd[i], .events = POLLIN };
		int wait_ms = (int)((next_tick - mono()) * 1000);
		poll(pf, SLOW_N, wait_ms > 0 ? wait_ms : 0);
		for (int i = 0; i < SLOW_N; i++) {
			if (t_closed[i] || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = recv(fd[i], got[i] + got_n[i], sizeof got[i] - 1 - got_n[i], MSG_DONTWAIT);
			if (r > 0) {
				got_n[i] += (size_t)r;
				got[i][got_n[i]] = 0;
			} else if (r == 0 || errno == ECONNRESET) {
				t_closed[i] = mono();
				open_n--;
			}
		}
	}
	CHECK_INT(open_n, 0);
	CHECK(probe_secs >= 0 && probe_secs < 1.0);
	fprintf(stderr, "slowloris: probe answered in %.3f s\n", probe_secs);
	/* The oldest, slow[0], was shed for the probe: closed before any
	 * other, with nothing sent (a deadline would have sent 408). */
	CHECK_INT(got_n[0], 0);
	for (int i = 1; i < SLOW_N; i++)
		CHECK(t_closed[0] > 0 && t_closed[0] < t_closed[i]);
	for (int i = 1; i < SLOW_N; i++) {
		double held = t_closed[i] - t_conn[i];
		fprintf(stderr, "slowloris: conn %d sent %zu bytes, closed after %.3f s: %.12s\n", i, sent[i], held,
			got[i]);
		/* Closed by the 1 s head deadline, though a byte came every 100 ms. */
		CHECK(held >= 0.9 && held < 3.0);
		CHECK(sent[i] >= 5 && sent[i] < sizeof head - 1);
		CHECK(strncmp(got[i], "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
	}
	for (int i = 0; i < SLOW_N; i++)
		close(fd[i]);
	query(&st);
	CHECK_INT(st.accepted, SLOW_N + 1);
	CHECK_INT(st.shed, 1);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.header_timeouts, SLOW_N - 1);
	CHECK_INT(st.body_timeouts, 0);
	uv_async_send(&done);
	return NULL;
}

static bool one_writing_done(const struct httpd_stats *st) { return st->accepted == 2 && st->conns_writing == 0 && st->conns_waiting == 2; }
static bool c_in_body(const struct httpd_stats *st) { return st->shed == 1 && st->conns_body == 1; }
static bool b_shed(const struct httpd_stats *st) { return st->shed == 2; }
static bool two_in_body(const struct httpd_stats *st) { return st->conns_body == 2 && st->conns_waiting == 0; }
static bool f_rejected(const struct httpd_stats *st) { return st->rejected == 1; }
static bool body_timed_out(const struct httpd_stats *st) { return st->body_timeouts == 1; }

/* Shedding at max_conns 2: the longest-waiting connection goes first (an
 * idle kept-alive one before a newer half head), never one reading a body;
 * with only bodies in progress the new connection is refused. */
static void *shedding(void *arg)
{
	(void)arg;
	char out[4096];
	struct httpd_stats st;
	/* A: answered, then idle on keep-alive. */
	int a = dial();
	put(a, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(read_until(a, out, sizeof out, "\r\n\r\nok\n"));
	/* B: half a head, after A went idle. */
	int b = dial();
	put(b, "GET /hea");
	CHECK(await_stats(&st, one_writing_done));
	/* C: a body in progress; its connection sheds A, the oldest waiting. */
	int c = dial();
	put(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
	CHECK(await_stats(&st, c_in_body));
	CHECK_INT(closed_by_server(a, out, sizeof out), 1);
	CHECK_INT(strlen(out), 0);
	CHECK(still_open(b));
	CHECK_INT(st.conns_waiting, 1);
	/* D sheds B (C is reading a body) and is answered. */
	int d = dial();
	put(d, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CHECK_INT(closed_by_server(d, out, sizeof out), 1);
	CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(await_stats(&st, b_shed));
	CHECK_INT(closed_by_server(b, out, sizeof out), 1);
	/* E: a second body; with C's that fills the server. */
	int e = dial();
	put(e, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nxy");
	CHECK(await_stats(&st, two_in_body));
	/* F finds nothing to shed: refused at once. */
	int f = dial();
	CHECK_INT(closed_by_server(f, out, sizeof out), 1);
	CHECK_INT(strlen(out), 0);
	CHECK(await_stats(&st, f_rejected));
	/* C and E were kept and are answered. */
	put(c, "defghij");
	CHECK(read_until(c, out, sizeof out, "\r\n\r\nabcdefghij"));
	put(e, "zw");
	CHECK(read_until(e, out, sizeof out, "\r\n\r\nxyzw"));
	CHECK_INT(st.shed, 2);
	/* A body that stalls is answered 408 at body_timeout (1 s), though
	 * the idle timeout (5 s) has not passed. */
	double t = mono();
	put(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
	CHECK_INT(closed_by_server(c, out, sizeof out), 1);
	double held = mono() - t;
	fprintf(stderr, "shedding: stalled body closed after %.3f s\n", held);
	CHECK(held >= 0.9 && held < 3.0);
	CHECK(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
	CHECK(await_stats(&st, body_timed_out));
	CHECK_INT(st.header_timeouts, 0);
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
	close(f);
	uv_async_send(&done);
	return NULL;
}

/* The attacks, each against a server bounded for it. */
static void test_slowloris(void)
{
	struct httpd_opts slow = { .max_conns = SLOW_N, .header_timeout_ms = 1000, .idle_timeout_ms = 5000 };
	run_attack(&main_loop, &slow, slowloris);
}

static void test_shedding(void)
{
	struct httpd_opts shed = { .max_conns = 2, .header_timeout_ms = 5000, .body_timeout_ms = 1000,
				   .idle_timeout_ms = 5000 };
	run_attack(&main_loop, &shed, shedding);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_slowloris),
		CHECK_CASE(test_shedding),
	};
	return CHECK_RUN_WITH(argc, argv, cases, httpd_setup, httpd_teardown);
}
