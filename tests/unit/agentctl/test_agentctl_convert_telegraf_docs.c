/* convert-telegraf's documentation: docs/convert-telegraf.md's tables of
 * renamed and warned settings are the converter's own tables, row for row,
 * and its URL rule names every output it applies to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "convert_telegraf.h"

static int table_rows(const char *md, const char *heading, char rows[][512], int max)
{
	const char *p = strstr(md, heading);
	int n = 0;
	if (!p)
		return -1;
	p = strchr(p, '\n');
	while (p && *++p && strncmp(p, "## ", 3)) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (*p == '|' && strncmp(p, "|---", 4) && n < max) {
			size_t o = 0;
			for (size_t i = 1; i < len && o + 1 < 512; i++) {
				if (p[i] == '`')
					continue;
				if (p[i] == ' ' && (p[i - 1] == '|' || p[i + 1] == '|'))
					continue;
				rows[n][o++] = p[i];
			}
			if (o && rows[n][o - 1] == '|') /* the closing pipe */
				o--;
			rows[n][o] = '\0';
			n++;
		}
		p = nl;
	}
	return n;
}

/* docs/convert-telegraf.md lists the converter's own tables: every rename
 * and every warned setting, no more and no less. */
static void test_docs(void)
{
	FILE *f = fopen(HG_SOURCE_DIR "/docs/convert-telegraf.md", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char *md = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&md, &n);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	static char rows[64][512];
	int nr = table_rows(md, "## Renamed options", rows, 64), code = 0;
	CHECK(nr > 1); /* the header row and at least one */
	for (const struct telegraf_rename *r = hg_telegraf_renames; r->from; r++, code++) {
		char want[512];
		snprintf(want, sizeof want, "%s|%s|%s%s%s|%s", r->from, r->to, r->kind ? r->kind : "any", r->kind ? "." : "",
			 r->plugin ? r->plugin : "", r->note);
		int found = 0;
		for (int i = 1; i < nr; i++)
			found |= !strcmp(rows[i], want);
		if (!found) {
			fprintf(stderr, "docs/convert-telegraf.md's renamed options lack the row %s\n", want);
			check_failures++;
		}
	}
	CHECK_INT(nr - 1, code);
	nr = table_rows(md, "## Warned and left out", rows, 64);
	code = 0;
	for (const struct telegraf_warned *w = hg_telegraf_warned; w->option; w++, code++) {
		char want[512];
		snprintf(want, sizeof want, "%s%s%s|%s.%s|", w->option, w->value ? " = " : "", w->value ? w->value : "",
			 w->kind, w->plugin);
		int found = 0;
		for (int i = 1; i < nr; i++)
			found |= !strncmp(rows[i], want, strlen(want));
		if (!found) {
			fprintf(stderr, "docs/convert-telegraf.md's warned settings lack %s\n", want);
			check_failures++;
		}
	}
	CHECK_INT(nr - 1, code);
	/* The URL rule names every output it applies to. */
	nr = table_rows(md, "## Values", rows, 64);
	int url_rows = 0;
	for (int i = 1; i < nr; i++) {
		if (!strstr(rows[i], "urls with"))
			continue;
		url_rows++;
		for (const char *const *o = hg_telegraf_http_only_outputs; *o; o++)
			if (!strstr(rows[i], *o)) {
				fprintf(stderr, "docs/convert-telegraf.md's urls row lacks %s\n", *o);
				check_failures++;
			}
	}
	CHECK_INT(url_rows, 1);
	free(md);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_docs),
	};
	return CHECK_RUN(argc, argv, cases);
}
