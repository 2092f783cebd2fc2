/* URLs as they may be shown: in log lines, error messages, agentctl's output. */
#ifndef HG_URL_REDACT_H
#define HG_URL_REDACT_H
#include <stdbool.h>
#include <stddef.h>

/* The host part of url's authority: after "scheme://" when url starts with
 * one (else from its start), up to the first / ? or #, without the userinfo
 * ("user:pass@", which ends at the last '@' there: a password may hold
 * one). Sets *len; returns the host's start. */
const char *hg_url_host(const char *url, size_t *len);

/* url without its userinfo ("user:pass@") and with the value of each query
 * parameter whose name looks secret (hg_url_param_secret) replaced by
 * "redacted"; the rest as given. Cut to fit out (always NUL-terminated);
 * returns out. */
const char *hg_url_redact(const char *url, char *out, size_t outlen);

/* A query parameter name that may carry a credential: token, access_token,
 * password, key, api_key, apikey, secret, auth, signature ... (any case;
 * names that contain token, passw, secret, key, auth, sig or credential, and
 * pass, pwd). Errs on the side of hiding. */
bool hg_url_param_secret(const char *name, size_t len);

#endif
