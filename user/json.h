/* A JSON object writer for JSON Lines. A line is built in memory and handed
 * to stdio once, at jw_end; the small writers are inline so that literal
 * keys cost no strlen at run time. */
#ifndef TV_JSON_H
#define TV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct jw {
	FILE *f;
	int depth;
	bool need_comma;
	size_t len;
	char buf[8192]; /* the line being built; a longer one goes out in pieces */
};

/* Writes s (n bytes) as a JSON string: quotes, backslashes and control bytes
 * escaped, invalid UTF-8 replaced by U+FFFD. */
void json_write_string(FILE *f, const char *s, size_t n);

void jw_flush(struct jw *w);
void jw_put_slow(struct jw *w, const void *data, size_t n);
void jw_string(struct jw *w, const char *s, size_t n); /* escaped, with its quotes */

static inline void jw_put(struct jw *w, const void *data, size_t n)
{
	if (w->len + n > sizeof(w->buf)) {
		jw_put_slow(w, data, n);
		return;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

static inline void jw_putc(struct jw *w, char c)
{
	if (w->len == sizeof(w->buf))
		jw_flush(w);
	w->buf[w->len++] = c;
}

static inline void jw_sep(struct jw *w)
{
	if (w->need_comma)
		jw_putc(w, ',');
	w->need_comma = true;
}

/* Keys are this program's own constants: plain ASCII, nothing to escape. */
static inline void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	jw_putc(w, '"');
	jw_put(w, key, strlen(key));
	jw_put(w, "\":", 2);
}

static inline void jw_put_u64(struct jw *w, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	jw_put(w, p, (size_t)(buf + sizeof(buf) - p));
}

static inline void jw_u64(struct jw *w, const char *key, uint64_t value)
{
	jw_key(w, key);
	jw_put_u64(w, value);
}

/* A value this program made itself (a state name, an address, a
 * timestamp): plain ASCII, written without the escaping scan. */
static inline void jw_lit(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_putc(w, '"');
	jw_put(w, value, strlen(value));
	jw_putc(w, '"');
}

void jw_begin(struct jw *w, FILE *f);      /* { */
void jw_end(struct jw *w);                 /* }\n, and the line goes out */
void jw_str(struct jw *w, const char *key, const char *value); /* escaped; NULL: null */
void jw_strn(struct jw *w, const char *key, const char *value, size_t n);
void jw_i64(struct jw *w, const char *key, int64_t value);
void jw_bool(struct jw *w, const char *key, bool value);
void jw_null(struct jw *w, const char *key);
void jw_open(struct jw *w, const char *key, char bracket);  /* nested { or [ */
void jw_close(struct jw *w, char bracket);
void jw_elem_str(struct jw *w, const char *value);          /* inside [ ] */

#endif
