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

/* A line is built in w->buf and handed to stdio once, at jw_end: one locked
 * stdio call per record instead of one per fragment. A line longer than the
 * buffer (a TLS record with two long chains) goes out in pieces. */
void jw_flush(struct jw *w)
{
	if (w->len)
		fwrite_unlocked(w->buf, 1, w->len, w->f);
	w->len = 0;
}

void jw_put_slow(struct jw *w, const void *data, size_t n)
{
	jw_flush(w);
	if (n > sizeof(w->buf)) {
		fwrite_unlocked(data, 1, n, w->f);
		return;
	}
	memcpy(w->buf, data, n);
	w->len = n;
}

void jw_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	jw_putc(w, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t run, len;

		for (run = 0; i + run < n && plain(p[i + run]); run++)
			;
		if (run) { /* the common case: printable ASCII, copied at once */
			jw_put(w, p + i, run);
			i += run;
			continue;
		}
		if (c == '"' || c == '\\') {
			jw_putc(w, '\\');
			jw_putc(w, (char)c);
			i++;
		} else if (c == '\n') {
			jw_put(w, "\\n", 2);
			i++;
		} else if (c == '\t') {
			jw_put(w, "\\t", 2);
			i++;
		} else if (c == '\r') {
			jw_put(w, "\\r", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			jw_put(w, u, sizeof(u));
			i++;
		} else if ((len = utf8_seq_len(p + i, n - i)) == 0) {
			jw_put(w, "\\ufffd", 6);
			i++;
		} else {
			jw_put(w, p + i, len);
			i += len;
		}
	}
	jw_putc(w, '"');
}

void json_write_string(FILE *f, const char *s, size_t n)
{
	struct jw w;

	w.f = f;
	w.len = 0;
	jw_string(&w, s, n);
	jw_flush(&w);
}

void jw_begin(struct jw *w, FILE *f)
{
	w->f = f;
	w->len = 0;
	w->depth = 1;
	w->need_comma = false;
	jw_putc(w, '{');
}

void jw_end(struct jw *w)
{
	jw_put(w, "}\n", 2);
	jw_flush(w);
	w->depth = 0;
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
	jw_string(w, value, n);
}

void jw_i64(struct jw *w, const char *key, int64_t value)
{
	jw_key(w, key);
	if (value < 0) {
		jw_putc(w, '-');
		jw_put_u64(w, (uint64_t)0 - (uint64_t)value);
	} else {
		jw_put_u64(w, (uint64_t)value);
	}
}

void jw_bool(struct jw *w, const char *key, bool value)
{
	jw_key(w, key);
	if (value)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_put(w, "null", 4);
}

void jw_open(struct jw *w, const char *key, char bracket)
{
	if (key)
		jw_key(w, key);
	else
		jw_sep(w);
	jw_putc(w, bracket);
	w->need_comma = false;
	w->depth++;
}

void jw_close(struct jw *w, char bracket)
{
	jw_putc(w, bracket);
	w->need_comma = true;
	w->depth--;
}

void jw_elem_str(struct jw *w, const char *value)
{
	jw_sep(w);
	jw_string(w, value, strlen(value));
}
