/* libFuzzer target for the kubeconfig loader. It reads files only, so the
 * input is written to files in a private directory (on /dev/shm when there
 * is one, to stay fast). The first byte picks: one file, or two merged as
 * KUBECONFIG merges them (the input split at its first form feed); and the
 * current context or an explicit one. -data fields are decoded into the
 * loader's private directory, removed by hg_kube_config_free. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kube/kubeconfig.h"

static char dir[64];

/* libFuzzer ends with exit(): leave no files behind. */
static void cleanup(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/a", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/b", dir);
	unlink(p);
	rmdir(dir);
}

static int put(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(d, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/hg-fuzz-kcfg-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir))
			abort();
		/* -data copies go there too. */
		setenv("TMPDIR", dir, 1);
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	char a[128], b[128], both[260];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	snprintf(both, sizeof both, "%s:%s", a, b);
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	struct kube_config_opts o = { 0 };
	if (data[0] & 1) {
		const uint8_t *ff = memchr(d, '\f', n);
		size_t first = ff ? (size_t)(ff - d) : n;
		if (put(a, d, first) != 0 || put(b, ff ? ff + 1 : d + n, ff ? n - first - 1 : 0) != 0)
			abort();
		o.env_kubeconfig = both;
	} else {
		if (put(a, d, n) != 0)
			abort();
		o.kubeconfig = a;
	}
	if (data[0] & 2)
		o.context = "ctx";
	struct kube_config kc;
	char err[512];
	int rc = hg_kube_config_load(&kc, &o, err, sizeof err);
	if (rc == 0 && !kc.server)
		abort(); /* a loaded config says where to connect */
	if (rc != 0 && !memchr(err, 0, sizeof err))
		abort();
	hg_kube_config_free(&kc);
	return 0;
}
