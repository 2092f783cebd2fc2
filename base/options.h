/* Typed option tables. A plugin describes its config struct with an array of
 * opt_desc; the config loader validates keys and types against it (errors
 * name file:line:column), fills defaults, and --sample-config prints it. */
#ifndef HG_OPTIONS_H
#define HG_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_type {
	OPT_BOOL,      /* bool */
	OPT_INT,       /* int64_t */
	OPT_DOUBLE,    /* double */
	OPT_STRING,    /* char * (NULL when unset and no default) */
	OPT_DURATION,  /* int64_t nanoseconds; "10s", "1m30s", "500ms"; a bare integer is seconds */
	OPT_SIZE,      /* uint64_t bytes; "64MiB", "10MB", "512" */
	OPT_STRLIST,   /* struct strlist; YAML sequence of scalars */
	OPT_STRMAP,    /* struct strmap; YAML mapping of scalar to scalar */
	OPT_TAGFILTER, /* struct tagfilter; YAML mapping of scalar to sequence of globs */
	OPT_SECRET,    /* char *, like OPT_STRING but never printed or logged */
	OPT_SECTION,   /* an embedded struct described by opt_desc.sub; YAML mapping */
};

struct opt_desc {
	const char *name;
	enum opt_type type;
	size_t offset;    /* offsetof() into the plugin's config struct */
	const char *def;  /* default as YAML scalar text ("10s", "true", "[a, b]"), or NULL */
	const char *help; /* one line for --sample-config */
	/* OPT_SECTION: the embedded struct's options. Tables list the first five
	 * members positionally and leave this one out (hence
	 * -Wno-missing-field-initializers in CMakeLists.txt). */
	const struct opt_desc *sub;
	unsigned flags; /* OPT_F_* */
	/* OPT_STRING, OPT_STRLIST (each item): the values it may take,
	 * NULL-terminated (NULL: any). Any
	 * other value is a config error at its file:line:column that lists
	 * these, so a mistyped value stops the agent (exit 2) instead of
	 * reaching the plugin; agentctl convert-telegraf leaves such a value
	 * out. Set it by name (.choices = ...); the help text names them too
	 * (test_config checks). */
	const char *const *choices;
};
#define OPT_END { NULL, 0, 0, NULL, NULL, NULL, 0, NULL }

/* OPT_STRING/OPT_SECRET: a value of "" (also a ${VAR} that expands to "") means
 * unset, as in Telegraf, whose plugins give the zero value their default: the
 * option gets its default, or NULL. This flag keeps "" for the few options
 * where Telegraf gives "" a meaning of its own (prometheus url_tag "" = no
 * tag, kube_inventory namespace "" = all namespaces). */
#define OPT_F_EMPTY_IS_VALUE 1u
/* OPT_STRING/OPT_STRLIST: each value must be an absolute URL, scheme "://"
 * something ("udp://h:8089", "unix:///run/x.sock"); anything else is a config
 * error at the value's position. Whether the plugin speaks the scheme is its
 * own check (output_plugin.check). */
#define OPT_F_URL 2u

struct strlist {
	size_t n;
	char **v;
};

struct strmap {
	size_t n;
	char **k, **v;
};

struct tagfilter {
	size_t n;
	char **key;
	struct strlist *globs;
};

/* Whether v is one of o's choices (true when o has none). */
bool hg_opt_choice_ok(const struct opt_desc *o, const char *v);
/* o's choices as messages name them, "watch or list", "a, b or c", in buf. */
void hg_opt_choices_text(const struct opt_desc *o, char *buf, size_t len);

void hg_strlist_free(struct strlist *l);
/* Deep copy into an empty dst. 0, or -ENOMEM (dst then holds what was
 * copied, for hg_strlist_free). */
int hg_strlist_copy(struct strlist *dst, const struct strlist *src);
void hg_strmap_free(struct strmap *m);
void hg_tagfilter_free(struct tagfilter *t);
/* Frees every owned member of a struct described by opts. */
void hg_opts_free(const struct opt_desc *opts, void *base);

#endif
