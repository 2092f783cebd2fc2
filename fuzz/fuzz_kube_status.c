/* libFuzzer target for the Kubernetes client's reading of error answers
 * (a Status object, or anything else a proxy may send). The first byte
 * picks the HTTP status; the message must always be a terminated string
 * inside the caller's buffer, whatever the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/kube_client.h"
#include "../kube/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 0, 401, 403, 404, 409, 422, 500, 410 };
	if (size < 1)
		return 0;
	long status = statuses[data[0] % 8];
	char *body = malloc(size);
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	struct kube_config kc = { .context = "ctx", .user_name = "user", .server = "https://127.0.0.1:6443" };
	/* Small output buffers too: the causes are appended to what is there. */
	size_t outlen = data[0] & 8 ? 48 : 1024;
	char *out = malloc(outlen + 1);
	if (!out)
		abort();
	out[outlen] = 'Z'; /* canary past the end */
	hg_kube_status_message(status, body, size - 1, data[0] & 16 ? NULL : "fuzz", data[0] & 32 ? NULL : &kc, out,
			    outlen);
	if (!memchr(out, 0, outlen) || out[outlen] != 'Z')
		abort();
	(void)hg_kube_status_code(status);
	free(out);
	free(body);
	return 0;
}
