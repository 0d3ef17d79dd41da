#include <stdbool.h>
#include <string.h>
#include "json.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void json_write_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = p[i];
		size_t run, len;

		for (run = 0; i + run < n && plain(p[i + run]); run++)
			;
		if (run) { /* the common case: printable ASCII, written at once */
			fwrite(p + i, 1, run, f);
			i += run;
			continue;
		}
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c == '\r') {
			fputs("\\r", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((len = utf8_seq_len(p + i, n - i)) == 0) {
			fputs("\\ufffd", f);
			i++;
		} else {
			fwrite(p + i, 1, len, f);
			i += len;
		}
	}
	fputc('"', f);
}

static void sep(struct jw *w)
{
	if (w->need_comma)
		fputc(',', w->f);
	w->need_comma = true;
}

void jw_begin(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 1;
	w->need_comma = false;
	fputc('{', f);
}

void jw_end(struct jw *w)
{
	fputs("}\n", w->f);
	w->depth = 0;
}

/* Keys are this program's own constants: plain ASCII, nothing to escape. */
void jw_key(struct jw *w, const char *key)
{
	sep(w);
	fputc('"', w->f);
	fputs(key, w->f);
	fputs("\":", w->f);
}

void jw_str(struct jw *w, const char *key, const char *value)
{
	if (!value) {
		jw_null(w, key);
		return;
	}
	jw_strn(w, key, value, strlen(value));
}

void jw_strn(struct jw *w, const char *key, const char *value, size_t n)
{
	jw_key(w, key);
	json_write_string(w->f, value, n);
}

static void put_u64(FILE *f, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

void jw_u64(struct jw *w, const char *key, uint64_t value)
{
	jw_key(w, key);
	put_u64(w->f, value);
}

void jw_i64(struct jw *w, const char *key, int64_t value)
{
	jw_key(w, key);
	if (value < 0) {
		fputc('-', w->f);
		put_u64(w->f, (uint64_t)0 - (uint64_t)value);
	} else {
		put_u64(w->f, (uint64_t)value);
	}
}

void jw_bool(struct jw *w, const char *key, bool value)
{
	jw_key(w, key);
	fputs(value ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

void jw_open(struct jw *w, const char *key, char bracket)
{
	if (key)
		jw_key(w, key);
	else
		sep(w);
	fputc(bracket, w->f);
	w->need_comma = false;
	w->depth++;
}

void jw_close(struct jw *w, char bracket)
{
	fputc(bracket, w->f);
	w->need_comma = true;
	w->depth--;
}

void jw_elem_str(struct jw *w, const char *value)
{
	sep(w);
	json_write_string(w->f, value, strlen(value));
}
