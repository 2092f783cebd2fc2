/* Waiting on an event in a test that drives a libuv loop itself: run the
 * loop until a condition holds, with an upper bound that ends a test whose
 * event never comes (it is not a sleep: a passing run returns as soon as
 * the condition holds). */
#ifndef HG_TEST_LOOP_WAIT_H
#define HG_TEST_LOOP_WAIT_H
#include <stdbool.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static inline double loop_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs loop until cond(arg) holds (true) or secs pass (false). */
static inline bool loop_run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, double secs)
{
	double end = loop_now_s() + secs;
	while (!cond(arg)) {
		if (loop_now_s() > end)
			return false;
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(2000); /* the loop has nothing ready: let the server answer */
	}
	return true;
}

#endif
