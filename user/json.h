/* A minimal JSON object writer for JSON Lines output. */
#ifndef TV_JSON_H
#define TV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth;
	bool need_comma;
};

/* Writes s (n bytes) as a JSON string: quotes, backslashes and control bytes
 * escaped, invalid UTF-8 replaced by U+FFFD. */
void json_write_string(FILE *f, const char *s, size_t n);

void jw_begin(struct jw *w, FILE *f);      /* { */
void jw_end(struct jw *w);                 /* }\n */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *key, const char *value); /* NULL: null */
void jw_strn(struct jw *w, const char *key, const char *value, size_t n);
void jw_u64(struct jw *w, const char *key, uint64_t value);
void jw_i64(struct jw *w, const char *key, int64_t value);
void jw_bool(struct jw *w, const char *key, bool value);
void jw_null(struct jw *w, const char *key);
void jw_open(struct jw *w, const char *key, char bracket);  /* nested { or [ */
void jw_close(struct jw *w, char bracket);
void jw_elem_str(struct jw *w, const char *value);          /* inside [ ] */

#endif
