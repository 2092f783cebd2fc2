/* Warnings about TLS verification turned off. */
#ifndef HG_TLS_WARN_H
#define HG_TLS_WARN_H
#include "config.h"

/* Logs one warning for each input and output of cfg whose
 * insecure_skip_verify option is true, naming it. Called once per loaded
 * config (start, reload). Returns how many were logged. */
int hg_tls_warn_insecure(const struct agent_config *cfg);

#endif
