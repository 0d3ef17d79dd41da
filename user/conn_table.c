#include <stdlib.h>
#include <string.h>
#include "conn_table.h"

static size_t bucket_of(const struct conn_table *t, uint64_t cookie)
{
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdULL;
	cookie ^= cookie >> 33;
	return (size_t)(cookie & (t->nbuckets - 1));
}

int conn_table_init(struct conn_table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1;
	while (t->nbuckets < max)
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->max = max;
	return t->buckets ? 0 : -1;
}

void conn_table_free(struct conn_table *t)
{
	while (t->oldest)
		conn_table_remove(t, t->oldest);
	free(t->buckets);
	t->buckets = NULL;
}

struct conn *conn_table_get(const struct conn_table *t, uint64_t cookie)
{
	struct conn *c;

	for (c = t->buckets[bucket_of(t, cookie)]; c; c = c->hnext)
		if (c->cookie == cookie)
			return c;
	return NULL;
}

bool conn_table_full(const struct conn_table *t)
{
	return t->count >= t->max;
}

struct conn *conn_table_add(struct conn_table *t, const struct tv_conn *id, uint64_t ts_ns)
{
	struct conn *c = calloc(1, sizeof(*c));
	size_t b;

	if (!c)
		return NULL;
	c->cookie = id->cookie;
	c->id = *id;
	c->first_ts_ns = ts_ns;
	b = bucket_of(t, c->cookie);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	c->prev = t->newest;
	if (t->newest)
		t->newest->next = c;
	else
		t->oldest = c;
	t->newest = c;
	t->count++;
	return c;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	struct conn **pp = &t->buckets[bucket_of(t, c->cookie)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->newest = c->prev;
	t->count--;
	free(c->tls_line);
	free(c->held_close);
	free(c->events);
	free(c);
}

bool conn_append(struct conn *c, const union tv_record *r)
{
	if (c->nevents >= TV_CONN_MAX_EVENTS) {
		c->elided++;
		return false;
	}
	if (c->nevents == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 8;
		union tv_record *ev = realloc(c->events, cap * sizeof(*ev));

		if (!ev) {
			c->elided++;
			return false;
		}
		c->events = ev;
		c->cap = cap;
	}
	c->events[c->nevents++] = *r;
	return true;
}

void conn_clear_events(struct conn *c)
{
	c->nevents = 0;
}
