/* Strict framing of a request head and a chunked body (see httpd_frame.h). */
#include "httpd_frame.h"
#include "hex.h"

int hg_httpd_scan_head(struct head_scan *sc, const char *d, size_t n, size_t *end)
{
	for (size_t i = 0; i < n && !sc->done; i++) {
		char c = d[i];
		*end = i + 1;
		if (c == '\n') {
			if (!sc->cr)
				return -1; /* bare LF */
			sc->cr = false;
			if (sc->line_len == 0 && sc->past_start)
				sc->done = true;
			else if (sc->line_len > 0)
				sc->past_start = true; /* empty lines before the request line are allowed */
			sc->line_len = 0;
			sc->in_name = sc->past_start;
			continue;
		}
		if (sc->cr)
			return -1; /* CR not followed by LF */
		if (c == '\r') {
			sc->cr = true;
			continue;
		}
		bool blank = c == ' ' || c == '\t';
		if (sc->line_len == 0 && sc->past_start && blank)
			return -1; /* obs-fold: a header continued on the next line */
		if (sc->in_name) {
			if (c == ':')
				sc->in_name = false;
			else if (blank)
				return -1; /* "Name :" or "Na me:" */
		}
		sc->line_len++;
	}
	return 0;
}

/* 0, or -1 at the first framing byte of a chunked body that a strict
 * server refuses. d holds body bytes only, as http-parser consumed them. */
int hg_httpd_scan_chunks(struct chunk_scan *cs, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		int h;
		switch (cs->st) {
		case CS_SIZE0:
			if ((h = hex_digit(c)) < 0)
				return -1;
			cs->left = (uint64_t)h;
			cs->st = CS_SIZE;
			break;
		case CS_SIZE:
			if ((h = hex_digit(c)) >= 0) {
				if (cs->left > UINT64_MAX >> 4)
					return -1;
				cs->left = cs->left << 4 | (uint64_t)h;
			} else if (c == '\r') {
				cs->st = CS_SIZE_LF;
			} else if (c == ';' || c == ' ' || c == '\t') {
				cs->st = CS_EXT; /* chunk-ext, with BWS before its ';' */
			} else {
				return -1; /* a bare LF among them */
			}
			break;
		case CS_EXT:
			if (c == '\r')
				cs->st = CS_SIZE_LF;
			else if (c == '\n')
				return -1;
			break;
		case CS_SIZE_LF:
			if (c != '\n')
				return -1;
			cs->st = cs->left ? CS_DATA : CS_TRAILER0;
			break;
		case CS_DATA: {
			size_t take = n - i < cs->left ? n - i : (size_t)cs->left;
			cs->left -= take;
			i += take - 1;
			if (!cs->left)
				cs->st = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
			if (c != '\r')
				return -1;
			cs->st = CS_DATA_LF;
			break;
		case CS_DATA_LF:
			if (c != '\n')
				return -1;
			cs->st = CS_SIZE0;
			break;
		case CS_TRAILER0:
			if (c == '\r')
				cs->st = CS_END_LF;
			else if (c == '\n' || c == ' ' || c == '\t')
				return -1; /* bare LF, or an obs-folded trailer */
			else
				cs->st = CS_TRAILER;
			break;
		case CS_TRAILER:
			if (c == '\r')
				cs->st = CS_TRAILER_LF;
			else if (c == '\n')
				return -1;
			break;
		case CS_TRAILER_LF:
			if (c != '\n')
				return -1;
			cs->st = CS_TRAILER0;
			break;
		case CS_END_LF:
			if (c != '\n')
				return -1;
			cs->st = CS_DONE;
			break;
		case CS_DONE:
			return -1; /* http-parser ends the message here; cannot happen */
		}
	}
	return 0;
}
