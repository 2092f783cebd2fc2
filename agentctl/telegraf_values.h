/* Telegraf's readings of values, for the converter: environment references
 * (as the agent must read them back), durations, URLs and secret-store
 * references; and a file name made safe to print. */
#ifndef HG_TELEGRAF_VALUES_H
#define HG_TELEGRAF_VALUES_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s[0..len), a Telegraf string, as the agent text that expands to
 * what Telegraf reads (before YAML quoting): $VAR and ${VAR} become
 * ${VAR-$VAR} and ${VAR-$${VAR}} (an undeclared variable stays literal, a
 * declared empty one is "", as in Telegraf), ${VAR:-default} and
 * ${VAR-default} stay, $$ is a '$', an invalid ${1} stays literal. Returns 0;
 * 1 when carried with a difference described in *why (${VAR:?x}); -1 when it
 * cannot be carried (*why says why). */
int hg_telegraf_env_to_agent(FILE *out, const char *s, size_t len, const char **why);

/* Telegraf's config.Duration: an integer or float number of seconds (a TOML
 * number or a string "1.5"), or a Go duration with Telegraf's "d" for days
 * ("1d12h", "500ms"). 0 and *ns; -1 not a duration; -2 negative (Go has
 * them, the agent has not); -3 out of range. */
int hg_telegraf_duration(const char *s, int64_t *ns);
/* A duration the agent reads: "90s", "1500ms", "0s". */
void hg_telegraf_put_duration(FILE *out, int64_t ns);

/* Whether url (a Telegraf influxdb URL) is one the agent writes to: http://
 * or https:// (any case), or a ${...} only known when the agent starts. */
int hg_telegraf_url_usable(const char *url);
/* url's scheme and host, without user information (no secrets in
 * messages): "udp://localhost:8089". */
void hg_telegraf_url_shown(const char *url, char *buf, size_t len);

/* The first Telegraf secret-store reference @{store:key} in s, as its
 * offset and length; -1 if none. */
long hg_telegraf_secret_ref(const char *s, size_t len, size_t *reflen);

/* name with control characters and malformed UTF-8 written as \xNN, so it
 * can stand in a YAML comment or a one-line message. malloc'd; NULL when
 * out of memory. */
char *hg_telegraf_shown_name(const char *name);

#endif
