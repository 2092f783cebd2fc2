/* Private to kube/: the client's state, shared by its files. */
#ifndef HG_KUBE_CLIENT_INTERNAL_H
#define HG_KUBE_CLIENT_INTERNAL_H
#include "kube_auth.h"
#include "kube_client.h"

struct kube_kind; /* discovery cache entry (kube_resource.c) */
struct kreq;      /* a request (kube_client.c) */

struct kube_client {
	uv_loop_t *loop;
	struct httpc *hc;
	bool own_hc;
	const struct kube_config *kc;
	struct kube_auth auth;
	char *ua;
	struct kube_kind *kinds;
	/* Requests waiting for the exec plugin's credentials, oldest first, and
	 * the timer that ends those whose own timeout passes first. */
	struct kreq *waiting;
	uv_timer_t *wait_timer;
	unsigned auth_gen; /* counts the plugin's answers */
	bool closing;
	bool *freed; /* set when the client is freed inside one of its callbacks */
};

void hg_kube_kinds_free(struct kube_client *c);
/* Plural resource name and scope of a kind (built-in table, else discovery). */
int hg_kube_kind_lookup(struct kube_client *c, const char *api_version, const char *kind, const char **plural,
		     bool *namespaced, char *err, size_t errlen);

#endif
