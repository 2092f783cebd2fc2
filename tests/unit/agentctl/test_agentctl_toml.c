/* agentctl's TOML reader: the syntax Telegraf configs use, line numbers,
 * the errors it must give, and the real Telegraf configs in fixtures. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "toml.h"

static int parse(struct toml_doc *d, const char *text, char *err, size_t errlen)
{
	return hg_toml_parse(d, "t.toml", text, strlen(text), err, errlen);
}

static const struct toml_node *at(const struct toml_node *t, const char *path)
{
	/* "a.b.0.c": tables by key, arrays by index. */
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *seg = strtok_r(buf, ".", &save); seg && t; seg = strtok_r(NULL, ".", &save)) {
		if (t->type == TOML_ARRAY) {
			size_t i = (size_t)atoi(seg);
			t = i < t->n ? t->kids[i] : NULL;
		} else {
			t = hg_toml_get(t, seg);
		}
	}
	if (!t) {
		/* A missing node fails the test without crashing it. */
		static struct toml_node none = { .type = TOML_STRING, .s = "(missing)", .line = -1 };
		fprintf(stderr, "no node at %s\n", path);
		check_failures++;
		return &none;
	}
	return t;
}

static void test_values(void)
{
	const char *text = "# comment\n"
			   "s = \"a\\tb\\u00e9\\\"q\\\\\" # trailing\n"
			   "lit = 'C:\\path'\n"
			   "ml = \"\"\"\nline1\n  line2 \\\n   joined\"\"\"\n"
			   "mll = '''\nraw \\n ''text'''''\n"
			   "i = -1_000\n"
			   "h = 0xff\n"
			   "f = 6.5e-1\n"
			   "inf = -inf\n"
			   "b = false\n"
			   "d = 1979-05-27T07:32:00Z\n"
			   "d2 = 1979-05-27 07:32:00\n"
			   "arr = [ 1, 2,\n  # comment inside\n  3, ]\n"
			   "nested = [[1], [\"x\"]]\n"
			   "inl = { a = 1, b.c = \"x\" }\n"
			   "\"quoted key\" = 1\n"
			   "dotted.key = true\n";
	struct toml_doc d;
	char err[256];
	CHECK_INT(parse(&d, text, err, sizeof err), 0);
	if (!d.root) {
		fprintf(stderr, "%s\n", err);
		check_failures++;
		return;
	}
	CHECK_STR(at(d.root, "s")->s, "a\tb\xc3\xa9\"q\\");
	CHECK_INT(at(d.root, "s")->line, 2);
	CHECK_STR(at(d.root, "lit")->s, "C:\\path");
	CHECK_STR(at(d.root, "ml")->s, "line1\n  line2 joined");
	CHECK_STR(at(d.root, "mll")->s, "raw \\n ''text''");
	CHECK_INT(at(d.root, "i")->i, -1000);
	CHECK_INT(at(d.root, "h")->i, 255);
	CHECK(fabs(at(d.root, "f")->f - 0.65) < 1e-12);
	CHECK(isinf(at(d.root, "inf")->f) && at(d.root, "inf")->f < 0);
	CHECK_INT(at(d.root, "b")->type, TOML_BOOL);
	CHECK_INT(at(d.root, "b")->b, 0);
	CHECK_STR(at(d.root, "d")->s, "1979-05-27T07:32:00Z");
	CHECK_STR(at(d.root, "d2")->s, "1979-05-27 07:32:00");
	CHECK_INT(at(d.root, "arr")->n, 3);
	CHECK_INT(at(d.root, "arr.2")->i, 3);
	CHECK_INT(at(d.root, "arr")->line, 17);
	CHECK_STR(at(d.root, "nested.1.0")->s, "x");
	CHECK_INT(at(d.root, "inl.a")->i, 1);
	CHECK_STR(at(d.root, "inl.b.c")->s, "x");
	CHECK_INT(at(d.root, "quoted key")->i, 1);
	CHECK_INT(at(d.root, "dotted.key")->b, 1);
	hg_toml_free(&d);
}

static void test_tables(void)
{
	const char *text = "[agent]\n"
			   "  interval = \"10s\"\n"
			   "[[inputs.cpu]]\n"
			   "  percpu = true\n"
			   "  [inputs.cpu.tagpass]\n"
			   "    cpu = [\"cpu0\"]\n"
			   "[[inputs.cpu]]\n"
			   "  alias = \"second\"\n"
			   "[[inputs.snmp.table.field]]\n"
			   "  name = \"x\"\n"
			   "[ outputs . \"influxdb\" ]\n"
			   "  urls = []\n";
	struct toml_doc d;
	char err[256];
	CHECK_INT(parse(&d, text, err, sizeof err), 0);
	if (!d.root)
		return;
	CHECK_STR(at(d.root, "agent.interval")->s, "10s");
	const struct toml_node *cpu = at(d.root, "inputs.cpu");
	CHECK_INT(cpu->type, TOML_ARRAY);
	CHECK_INT(cpu->n, 2);
	CHECK_INT(cpu->kids[0]->line, 3);
	CHECK_INT(cpu->kids[1]->line, 7);
	CHECK_STR(at(d.root, "inputs.cpu.0.tagpass.cpu.0")->s, "cpu0");
	CHECK_INT(at(d.root, "inputs.cpu.0.tagpass")->line, 5);
	CHECK_STR(at(d.root, "inputs.cpu.1.alias")->s, "second");
	CHECK_STR(at(d.root, "inputs.snmp.table.field.0.name")->s, "x");
	CHECK_INT(at(d.root, "outputs.influxdb.urls")->n, 0);
	hg_toml_free(&d);
}

static void expect_error(const char *text, const char *want)
{
	struct toml_doc d;
	char err[256] = "";
	int rc = parse(&d, text, err, sizeof err);
	CHECK_INT(rc, -1);
	if (rc == 0) {
		hg_toml_free(&d);
		return;
	}
	if (!strstr(err, want)) {
		fprintf(stderr, "for %s: error \"%s\" lacks \"%s\"\n", text, err, want);
		check_failures++;
	}
}

static void test_errors(void)
{
	expect_error("a = 1\na = 2\n", "t.toml:2: key 'a' is already defined at line 1");
	expect_error("[a]\nx=1\n[a]\n", "t.toml:3: table [a] is already defined");
	expect_error("a = \"open\n", "t.toml:1: newline in a single-line string");
	expect_error("a = 1 2\n", "t.toml:1: unexpected '2' after the value");
	expect_error("a = bare\n", "bad value 'bare'");
	expect_error("\n\na = [1, 2\n", "unterminated array opened at line 3");
	expect_error("a = \"\\q\"\n", "unknown escape \\q");
	expect_error("a = \"\\uD800\"\n", "not a Unicode scalar value");
	expect_error("a = {x = 1}\n[a]\n", "is already defined");
	expect_error("a = 1\n[[a]]\n", "already defined at line 1 as a integer");
	expect_error("[x\n", "expected ']'");
	expect_error("= 1\n", "unexpected '='");
	expect_error("a = 012\n", "bad value '012'");
	expect_error("a = 1__0\n", "bad value");
	expect_error("a = 99999999999999999999\n", "out of range");
	/* Depth is bounded (far above Telegraf configs, which its parser does
	 * not bound: see test_limits). */
	char deep[TOML_MAX_DEPTH + 20];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "a = ", 4);
	deep[sizeof(deep) - 1] = '\0';
	expect_error(deep, "nested more than 512 deep");
	/* A duplicate sub-table is named in full, not by its last key. */
	expect_error("[[inputs.cpu]]\n  [inputs.cpu.tags]\n    a = \"1\"\n  [inputs.cpu.tags]\n",
		     "t.toml:4: table [inputs.cpu.tags] is already defined at line 2");
	expect_error("[\"a b\".c]\n[\"a b\".c]\n", "table [\"a b\".c] is already defined");
	expect_error("[[outputs.file]]\n[outputs]\nfile = 1\n[[outputs.file]]\n", "is already defined");
}

/* An error message holds only printable ASCII, tab-free. */
static int clean_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* TOML (and Telegraf) read UTF-8: anything else is an error with the file
 * and line of the first bad byte, which the message shows by value only. */
static void test_encoding(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} cases[] = {
		{ "[agent]\n  hostname = \"caf\xe9\"\n", 0, "t.toml:2: invalid UTF-8 (byte 0xE9 at column 18)" },
		{ "# ok \xc3\xa9\n# latin-1 \xe9\n", 0, "t.toml:2: invalid UTF-8 (byte 0xE9 at column 11)" },
		{ "a = \"\xed\xa0\x80\"\n", 0, "t.toml:1: invalid UTF-8 (byte 0xED" },     /* a surrogate */
		{ "a = \"\xc0\xaf\"\n", 0, "t.toml:1: invalid UTF-8 (byte 0xC0" },          /* overlong '/' */
		{ "\xff\xfe[\0a\0]\0\n\0", 10, "t.toml:1: the file is UTF-16 (byte order mark 0xFF 0xFE)" },
		{ "[\0a\0]\0\n\0", 8, "t.toml:1: NUL byte at column 2 (the file looks like UTF-16" },
		{ "\n\na = \xc3\n", 0, "t.toml:3: invalid UTF-8 (byte 0xC3 at column 5)" }, /* cut sequence */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct toml_doc d;
		char err[256] = "";
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		int rc = hg_toml_parse(&d, "t.toml", cases[i].text, len, err, sizeof err);
		CHECK_INT(rc, -1);
		if (rc == 0) {
			hg_toml_free(&d);
			continue;
		}
		if (!strstr(err, cases[i].want)) {
			fprintf(stderr, "case %zu: error \"%s\" lacks \"%s\"\n", i, err, cases[i].want);
			check_failures++;
		}
		CHECK(clean_text(err));
	}
	/* Well-formed UTF-8, and the UTF-8 byte order mark, are read. */
	struct toml_doc d;
	char err[256];
	const char *ok = "\xef\xbb\xbf" "city = \"Z\xc3\xbcrich \xf0\x9f\x8c\x8d\"\n";
	CHECK_INT(hg_toml_parse(&d, "t.toml", ok, strlen(ok), err, sizeof err), 0);
	if (d.root) {
		CHECK_STR(at(d.root, "city")->s, "Z\xc3\xbcrich \xf0\x9f\x8c\x8d");
		hg_toml_free(&d);
	}
	/* A message about a non-ASCII character names its code point. */
	expect_error("a = \xc3\xa9\n", "unexpected U+00E9 where a value was expected");
}

/* Telegraf's TOML parser (influxdata/toml) sets no bound on size or nesting,
 * so ours stand far above the old 4 MiB and 32 levels: a 5 MiB file and
 * inline tables 100 deep are read. */
static void test_limits(void)
{
	size_t big = 5u << 20;
	char *text = malloc(big + 64);
	CHECK(text != NULL);
	if (!text)
		return;
	size_t o = 0;
	while (o + 80 < big)
		o += (size_t)sprintf(text + o, "# %076d\n", 0);
	o += (size_t)sprintf(text + o, "[[inputs.mem]]\n");
	struct toml_doc d;
	char err[256];
	CHECK_INT(hg_toml_parse(&d, "t.toml", text, o, err, sizeof err), 0);
	if (d.root) {
		CHECK_INT(at(d.root, "inputs.mem")->n, 1);
		hg_toml_free(&d);
	}
	free(text);
	char nest[2048];
	o = (size_t)sprintf(nest, "t = ");
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(nest + o, "{ a = ");
	o += (size_t)sprintf(nest + o, "1");
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(nest + o, " }");
	sprintf(nest + o, "\n");
	CHECK_INT(parse(&d, nest, err, sizeof err), 0);
	if (d.root) {
		const struct toml_node *n = at(d.root, "t");
		int depth = 0;
		while (n->type == TOML_TABLE && n->n == 1) {
			n = n->kids[0];
			depth++;
		}
		CHECK_INT(depth, 100);
		CHECK_INT(n->i, 1);
		hg_toml_free(&d);
	}
}

/* port = ${PORT}: Telegraf replaces references in the text before parsing,
 * and its docs tell users to write numbers and booleans so. */
static void test_unquoted_reference(void)
{
	struct toml_doc d;
	char err[256];
	const char *text = "port = ${PORT}\nb = $ON\nd = ${X:-${Y:-1}}\narr = [${A}, 2]\n";
	CHECK_INT(parse(&d, text, err, sizeof err), 0);
	if (!d.root) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_STR(at(d.root, "port")->s, "${PORT}");
	CHECK(at(d.root, "port")->unquoted);
	CHECK_STR(at(d.root, "b")->s, "$ON");
	CHECK_STR(at(d.root, "d")->s, "${X:-${Y:-1}}");
	CHECK_STR(at(d.root, "arr.0")->s, "${A}");
	hg_toml_free(&d);
	/* Only "${" nests, so "${X:-{y}" ends at the first '}'; the rest is
	 * not a value. */
	expect_error("d = ${X:-{y}}\n", "t.toml:1: unexpected '}' after the value");
	expect_error("p = ${PORT\n", "t.toml:1: unterminated ${...} reference");
	expect_error("p = $\n", "unexpected '$'");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void test_fixture(const char *file, const char *check_path, const char *want, int nin)
{
	const char *dir = getenv("FIXTURES");
	char path[512];
	snprintf(path, sizeof(path), "%s/telegraf/%s", dir ? dir : "fixtures", file);
	size_t len;
	char *text = slurp(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	struct toml_doc d;
	char err[256];
	int rc = hg_toml_parse(&d, file, text, len, err, sizeof err);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_STR(at(d.root, check_path)->s, want);
		CHECK_INT(at(d.root, "inputs")->n, nin);
		hg_toml_free(&d);
	} else {
		fprintf(stderr, "%s\n", err);
	}
	/* Every prefix parses or fails cleanly (no crash, no leak). */
	for (size_t cut = 0; cut < len; cut += 97) {
		if (hg_toml_parse(&d, file, text, cut, err, sizeof err) == 0)
			hg_toml_free(&d);
	}
	free(text);
}

/* Telegraf's sample config: 8 active inputs; the Helm chart's: 11. */
static const struct {
	const char *file, *check_path, *want;
	int ninputs;
} fixtures[] = {
	{ "telegraf.conf", "outputs.influxdb.0.urls.0", "http://localhost:8086", 8 },
	{ "helm-telegraf-ds.conf", "inputs.kubernetes.0.url", "https://$HOSTIP:10250", 11 },
};

static void test_fixtures(void)
{
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
		test_fixture(fixtures[i].file, fixtures[i].check_path, fixtures[i].want, fixtures[i].ninputs);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_values),
		CHECK_CASE(test_tables),
		CHECK_CASE(test_errors),
		CHECK_CASE(test_encoding),
		CHECK_CASE(test_limits),
		CHECK_CASE(test_unquoted_reference),
		CHECK_CASE(test_fixtures),
	};
	return CHECK_RUN(argc, argv, cases);
}
