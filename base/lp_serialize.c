/* Line protocol serializer. The output follows the reference encoder of the
 * InfluxData line-protocol corpus (escaping), except where the agent's
 * line-oriented buffers need otherwise: no raw '\n' is ever written, since
 * buffers and batches split records on '\n'. Floats are written as Telegraf's
 * influx serializer writes them, Go's FormatFloat(v, 'f', -1, 64): shortest
 * round-trip digits, never an exponent (float_fmt.h); the reference encoder
 * writes 'g' (6.632243e+06 where Telegraf writes 6632243). */
#include "lp.h"
#include "float_fmt.h"
#include <errno.h>
#include <math.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void putc1(struct out *o, char c)
{
	if (o->full || o->len == o->cap) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

/* Escape tables: 0 = copy as is, otherwise the character written after a
 * backslash. '\n' always becomes "\n" (a raw one would end the record).
 * In names and keys \r \t \f also get their C escape, as Telegraf writes
 * them, since the reference decoder rejects control bytes there; in tag
 * values it takes them raw, so they stay raw and survive a round trip.
 * Backslash is escaped only in strings: elsewhere the reference decoder
 * treats "\<byte>" as an escape only when the byte is special. */
enum esc_kind { ESC_NAME, ESC_KEY, ESC_TAGVAL, ESC_STRING };

static const unsigned char esc_tab[4][256] = {
	[ESC_NAME] = { [','] = ',', [' '] = ' ', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\f'] = 'f' },
	[ESC_KEY] = { [','] = ',', [' '] = ' ', ['='] = '=', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\f'] = 'f' },
	/* The reference decoder takes other control bytes raw in tag values. */
	[ESC_TAGVAL] = { [','] = ',', [' '] = ' ', ['='] = '=', ['\n'] = 'n' },
	[ESC_STRING] = { ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n' },
};

/* Trailing backslashes cannot be written in names, keys or tag values:
 * followed by the next separator they would escape it. They are dropped. */
static struct sv trim_backslash(struct sv s)
{
	while (s.len && s.p[s.len - 1] == '\\')
		s.len--;
	return s;
}

static void put_escaped(struct out *o, struct sv s, enum esc_kind k)
{
	const unsigned char *t = esc_tab[k];
	size_t run = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char e = t[(unsigned char)s.p[i]];
		if (!e)
			continue;
		put(o, s.p + run, i - run);
		char pair[2] = { '\\', (char)e };
		put(o, pair, 2);
		run = i + 1;
	}
	put(o, s.p + run, s.len - run);
}

static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static size_t fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(buf, (uint64_t)v);
}

/* Floor division, as Go's time.Truncate does for times before 1970 too. */
static int64_t div_floor(int64_t t, int64_t d)
{
	int64_t q = t / d;
	if ((t % d != 0) && ((t < 0) != (d < 0)))
		q--;
	return q;
}

static bool field_writable(const struct metric_field *f)
{
	if (trim_backslash(f->key).len == 0)
		return false;
	return f->type != FIELD_FLOAT || isfinite(f->v.f);
}

static void put_field_value(struct out *o, const struct metric_field *f, const struct lp_opts *opt)
{
	char num[FLOAT_TEXT_F_MAX];
	size_t n;
	switch (f->type) {
	case FIELD_FLOAT:
		n = hg_float_text_f(num, f->v.f); /* the text first, then put: in that order */
		put(o, num, n);
		return;
	case FIELD_INT:
		n = fmt_i64(num, f->v.i);
		num[n++] = 'i';
		put(o, num, n);
		return;
	case FIELD_UINT:
		if (opt->uint_support) {
			n = fmt_u64(num, f->v.u);
			num[n++] = 'u';
		} else {
			/* InfluxDB 1.x has no unsigned type: clamp into int64. */
			n = fmt_u64(num, f->v.u > INT64_MAX ? (uint64_t)INT64_MAX : f->v.u);
			num[n++] = 'i';
		}
		put(o, num, n);
		return;
	case FIELD_BOOL:
		if (f->v.b)
			put(o, "true", 4);
		else
			put(o, "false", 5);
		return;
	case FIELD_STRING:
		putc1(o, '"');
		put_escaped(o, f->v.s, ESC_STRING);
		putc1(o, '"');
		return;
	}
}

long hg_lp_serialize(const struct metric *m, const struct lp_opts *opt, char *outbuf, size_t cap, struct lp_stats *st)
{
	struct sv name = trim_backslash(m->name);
	if (name.len == 0)
		return -EINVAL;

	size_t nwritable = 0;
	for (size_t i = 0; i < m->nfields; i++)
		nwritable += field_writable(&m->fields[i]);
	if (nwritable == 0) {
		if (st)
			st->dropped_fields += (unsigned)m->nfields;
		return -EINVAL;
	}

	/* Tags go out sorted by key. Sorted already is the common case (the
	 * agent sorts before serializing); otherwise sort an index, not the
	 * metric (the caller's metric is const), on the stack: no allocation,
	 * hence the bound, beyond which the caller sorts (hg_metric_sort_tags). */
	size_t nt = m->ntags;
	bool sorted = true;
	for (size_t i = 1; i < nt && sorted; i++)
		sorted = hg_sv_cmp(m->tags[i - 1].key, m->tags[i].key) <= 0;
	uint16_t idx[LP_SORT_INDEX_MAX];
	if (!sorted) {
		if (nt > LP_SORT_INDEX_MAX)
			return -EINVAL;
		for (size_t i = 0; i < nt; i++) {
			size_t j = i;
			while (j > 0 && hg_sv_cmp(m->tags[idx[j - 1]].key, m->tags[i].key) > 0) {
				idx[j] = idx[j - 1];
				j--;
			}
			idx[j] = (uint16_t)i;
		}
	}

	struct out o = { outbuf, 0, cap, false };
	put_escaped(&o, name, ESC_NAME);
	for (size_t i = 0; i < nt; i++) {
		const struct metric_tag *t = &m->tags[sorted ? i : idx[i]];
		struct sv k = trim_backslash(t->key), v = trim_backslash(t->value);
		if (!k.len || !v.len)
			continue;
		putc1(&o, ',');
		put_escaped(&o, k, ESC_KEY);
		putc1(&o, '=');
		put_escaped(&o, v, ESC_TAGVAL);
	}
	char sep = ' ';
	for (size_t i = 0; i < m->nfields; i++) {
		const struct metric_field *f = &m->fields[i];
		if (!field_writable(f))
			continue;
		putc1(&o, sep);
		sep = ',';
		put_escaped(&o, trim_backslash(f->key), ESC_KEY);
		putc1(&o, '=');
		put_field_value(&o, f, opt);
	}
	if (m->time_ns != 0 || opt->zero_time_explicit) {
		char num[24];
		int64_t prec = opt->precision_ns > 0 ? opt->precision_ns : 1;
		putc1(&o, ' ');
		size_t n = fmt_i64(num, div_floor(m->time_ns, prec));
		put(&o, num, n);
	}
	putc1(&o, '\n');
	if (o.full)
		return -ENOSPC;
	/* Counted only on success so that a retry with a bigger buffer does
	 * not count the same drops twice. */
	if (st)
		st->dropped_fields += (unsigned)(m->nfields - nwritable);
	return (long)o.len;
}
