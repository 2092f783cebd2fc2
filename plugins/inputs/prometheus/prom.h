/* What the prometheus input's parts share: one decoded sample. Both the
 * text parser and the protobuf decoder produce a stream of these, so the
 * metric_version 1/2 mapping is written once. A sample's strings are views
 * that live only during the callback (the text parser's line buffer, the
 * protobuf message being walked). */
#ifndef HG_PROM_H
#define HG_PROM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sv.h"

/* Labels a sample may carry: metric.h's tag limit minus the url tag and
 * the le/quantile tag metric_version 2 adds. */
#define PROM_MAX_LABELS 60

enum prom_type {
	PROM_UNTYPED,
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_SUMMARY,
	PROM_HISTOGRAM,
	PROM_GAUGE_HISTOGRAM, /* OpenMetrics; mapped like a histogram */
	PROM_INFO,            /* OpenMetrics; mapped like untyped */
	PROM_STATESET,        /* OpenMetrics; mapped like untyped */
};

enum prom_part {
	PROM_VALUE,    /* counter, gauge, untyped (and info/stateset) value */
	PROM_BUCKET,   /* histogram bucket; bound = le */
	PROM_QUANTILE, /* summary quantile; bound = quantile */
	PROM_SUM,
	PROM_COUNT,
};

struct prom_label {
	struct sv name, value;
};

struct prom_sample {
	struct sv family;
	enum prom_type type;
	enum prom_part part;
	double bound;
	double value;
	bool has_ts;
	int64_t ts_ms;
	size_t nlabels; /* le and quantile are not among them */
	struct prom_label labels[PROM_MAX_LABELS];
};

typedef void (*prom_sample_fn)(void *arg, const struct prom_sample *s);
/* One rejected line or message; msg starts with "line N: " (text) or
 * "message N: " (protobuf). */
typedef void (*prom_error_fn)(void *arg, const char *msg);

/* ---- text exposition 0.0.4 and OpenMetrics 1.0 (prom_text.c) ---- */
struct prom_text;
/* max_line bounds the line buffer (the only buffer; allocated here once). */
struct prom_text *hg_prom_text_new(size_t max_line, prom_sample_fn on_sample, prom_error_fn on_error, void *arg);
/* Starts a new document; openmetrics selects the OpenMetrics rules
 * (float-second timestamps, _total/_created, # EOF). */
void hg_prom_text_reset(struct prom_text *t, bool openmetrics);
void hg_prom_text_feed(struct prom_text *t, const char *p, size_t n);
/* Ends the document: a last line without '\n' is an error, as in expfmt. */
void hg_prom_text_finish(struct prom_text *t);
unsigned long hg_prom_text_errors(const struct prom_text *t);
unsigned long hg_prom_text_samples(const struct prom_text *t);
void hg_prom_text_free(struct prom_text *t);

/* ---- protobuf delimited MetricFamily stream (prom_proto.c) ---- */
struct prom_proto;
/* max_message bounds one MetricFamily message; larger ones are skipped. */
struct prom_proto *hg_prom_proto_new(size_t max_message, prom_sample_fn on_sample, prom_error_fn on_error, void *arg);
void hg_prom_proto_reset(struct prom_proto *p);
void hg_prom_proto_feed(struct prom_proto *p, const char *data, size_t n);
void hg_prom_proto_finish(struct prom_proto *p);
unsigned long hg_prom_proto_errors(const struct prom_proto *p);
unsigned long hg_prom_proto_families(const struct prom_proto *p);
unsigned long hg_prom_proto_samples(const struct prom_proto *p);
void hg_prom_proto_free(struct prom_proto *p);

/* ---- Telegraf's metric_version 1 and 2 (prom_mapping.c) ---- */
struct acc;
struct prom_map;
struct prom_map *hg_prom_map_new(void);
/* The url tag's name (the url_tag option; default "url"); key is kept. */
void hg_prom_map_url_tag(struct prom_map *m, const char *key);
/* url is the "url" tag value (NULL: no tag); kept by the caller until end. */
void hg_prom_map_begin(struct prom_map *m, struct acc *acc, int version, const char *url, bool ignore_timestamp);
/* Tags added to every metric of this document (after begin): n key, value
 * pairs in kv, kept by the caller until end. A key repeated from the
 * exposition's labels replaces the label, as in Telegraf. */
void hg_prom_map_extra_tags(struct prom_map *m, const char *const *kv, size_t n);
void hg_prom_map_sample(void *map, const struct prom_sample *s); /* a prom_sample_fn */
void hg_prom_map_end(struct prom_map *m);
void hg_prom_map_free(struct prom_map *m);

/* Go's strconv.FormatFloat(v, 'g', -1, 64) (= fmt.Sprint(v)): Telegraf's
 * spelling of le/quantile values. Returns the length. */
size_t hg_prom_go_float(double v, char *out, size_t cap);

#endif
