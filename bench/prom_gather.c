/* Cost of one prometheus gather: the body of a large exposition fed in
 * 16 KiB chunks (as curl hands it over) through the streaming parser and
 * the v1/v2 mapping into an accumulator. Prints CPU time per gather and
 * the peak RSS growth over the run (body preloaded, so not counted; the
 * capture accumulator's line protocol text, cleared per gather, is).
 *   bench_prom [iterations] FILE[:text|:proto] ...  (paths as given) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugins/inputs/prometheus/prom.h"
#include "acc.h"

static struct prom_map *map;

static void on_sample(void *arg, const struct prom_sample *s)
{
	(void)arg;
	hg_prom_map_sample(map, s);
}

static long rss_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, kl) == 0)
			v = atol(line + kl);
	if (f)
		fclose(f);
	return v;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20;
	for (int a = 2; a < argc; a++) {
		char path[1024];
		snprintf(path, sizeof path, "%s", argv[a]);
		bool proto = false;
		char *colon = strrchr(path, ':');
		if (colon) {
			proto = !strcmp(colon + 1, "proto");
			*colon = '\0';
		}
		int repeat = 1;
		char *star = strrchr(path, '*');
		if (star) { /* FILE*N: the stream repeated N times (a bigger protobuf body) */
			repeat = atoi(star + 1);
			*star = '\0';
		}
		FILE *f = fopen(path, "rb");
		if (!f) {
			perror(path);
			return 2;
		}
		fseek(f, 0, SEEK_END);
		size_t one = (size_t)ftell(f);
		fseek(f, 0, SEEK_SET);
		size_t len = one * (size_t)repeat;
		char *body = malloc(len);
		if (!body || fread(body, 1, one, f) != one)
			return 2;
		fclose(f);
		for (int r = 1; r < repeat; r++)
			memcpy(body + one * (size_t)r, body, one);
		for (int version = 1; version <= 2; version++) {
			/* "5" resets the peak RSS (VmHWM) to the current RSS. */
			FILE *cr = fopen("/proc/self/clear_refs", "w");
			if (cr) {
				fputs("5", cr);
				fclose(cr);
			}
			long rss0 = rss_kb("VmRSS:");
			struct acc *acc = hg_acc_capture_new();
			map = hg_prom_map_new();
			struct prom_text *t = hg_prom_text_new(128 * 1024, on_sample, NULL, NULL);
			struct prom_proto *p = hg_prom_proto_new(16u << 20, on_sample, NULL, NULL);
			unsigned long samples = 0, errors = 0;
			size_t out = 0;
			double c0 = cpu_s();
			for (int i = 0; i < iters; i++) {
				hg_acc_capture_clear(acc);
				hg_prom_map_begin(map, acc, version, "http://10.0.0.1:10250/metrics/cadvisor", false);
				if (proto)
					hg_prom_proto_reset(p);
				else
					hg_prom_text_reset(t, false);
				for (size_t off = 0; off < len; off += 16384) {
					size_t n = len - off < 16384 ? len - off : 16384;
					if (proto)
						hg_prom_proto_feed(p, body + off, n);
					else
						hg_prom_text_feed(t, body + off, n);
				}
				if (proto)
					hg_prom_proto_finish(p);
				else
					hg_prom_text_finish(t);
				hg_prom_map_end(map);
				samples = proto ? hg_prom_proto_samples(p) : hg_prom_text_samples(t);
				errors = proto ? hg_prom_proto_errors(p) : hg_prom_text_errors(t);
				out = strlen(hg_acc_capture_text(acc));
			}
			double per = (cpu_s() - c0) / iters;
			long hwm = rss_kb("VmHWM:");
			printf("%s%s%.0d %s v%d: %zu bytes, %lu samples, %lu errors, %zu bytes of line protocol; "
			       "%.2f ms CPU/gather (%.0f samples/s); peak RSS +%ld KiB\n",
			       strrchr(path, '/') ? strrchr(path, '/') + 1 : path, repeat > 1 ? "*" : "", repeat > 1 ? repeat : 0,
			       proto ? "protobuf" : "text", version, len, samples, errors, out, per * 1e3, samples / per,
			       hwm - rss0);
			hg_prom_text_free(t);
			hg_prom_proto_free(p);
			hg_prom_map_free(map);
			hg_acc_capture_free(acc);
		}
		free(body);
	}
	return 0;
}
