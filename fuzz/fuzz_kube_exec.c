/* libFuzzer target for the ExecCredential parser (the output of an exec
 * credential plugin such as `aws eks get-token`). The first byte picks the
 * apiVersion the kubeconfig asks for (none, v1beta1, v1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/kube_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const want[] = { NULL, "client.authentication.k8s.io/v1beta1",
					    "client.authentication.k8s.io/v1" };
	if (size < 1)
		return 0;
	char *json = malloc(size);
	if (!json)
		return 0;
	memcpy(json, data + 1, size - 1);
	json[size - 1] = '\0';
	struct kube_exec_result r;
	char err[512];
	int rc = hg_kube_exec_parse(json, want[data[0] % 3], &r, err, sizeof err);
	if (rc == 0 && !r.token && !(r.cert_pem && r.key_pem))
		abort(); /* success means usable credentials */
	if (rc != 0 && (r.token || r.cert_pem || r.key_pem))
		abort(); /* a failure hands back nothing to free */
	hg_kube_exec_result_free(&r);
	free(json);
	return 0;
}
