/* Kubernetes resource.Quantity text ("250m", "1.5", "128Mi", "1e3", "2G")
 * as an integer in a chosen unit, for every input that reads requests,
 * limits, capacity or allocatable. */
#ifndef HG_KUBE_QUANTITY_H
#define HG_KUBE_QUANTITY_H
#include <stddef.h>
#include <stdint.h>

enum kube_round {
	KUBE_ROUND_UP,   /* as Quantity.Value()/MilliValue() (kubelet-side views) */
	KUBE_ROUND_DOWN, /* toward zero, as Telegraf's kube_inventory converts (int64(value * scale)) */
};

/* s[0..n) times scale (1000 gives millicores), rounded as asked. 0, or -1
 * when unparsable or out of int64 range. */
int hg_kube_quantity_scaled(const char *s, size_t n, int64_t scale, enum kube_round round, int64_t *out);
/* Rounded up, as Quantity.Value()/MilliValue() do. */
int hg_kube_quantity(const char *s, size_t n, int64_t scale, int64_t *out);

#endif
