#include <stdlib.h>
#include <string.h>
#include "conn_table.h"

int conn_table_init(struct conn_table *t, size_t max)
{
	dlist_init(&t->age);
	t->max = max;
	return cookie_map_init(&t->map, max);
}

void conn_table_free(struct conn_table *t)
{
	struct conn *c;

	while ((c = conn_table_oldest(t)))
		conn_table_remove(t, c);
	cookie_map_free(&t->map);
}

struct conn *conn_table_get(const struct conn_table *t, uint64_t cookie)
{
	struct cookie_node *n = cookie_map_get(&t->map, cookie);

	return n ? container_of(n, struct conn, node) : NULL;
}

bool conn_table_full(const struct conn_table *t)
{
	return t->map.count >= t->max;
}

size_t conn_table_count(const struct conn_table *t)
{
	return t->map.count;
}

struct conn *conn_table_oldest(const struct conn_table *t)
{
	struct dlink *n = dlist_first(&t->age);

	return n ? container_of(n, struct conn, age) : NULL;
}

struct conn *conn_table_next(const struct conn_table *t, const struct conn *c)
{
	struct dlink *n = dlist_next(&t->age, &c->age);

	return n ? container_of(n, struct conn, age) : NULL;
}

struct conn *conn_table_add(struct conn_table *t, const struct tv_conn *id, uint64_t ts_ns)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->node.cookie = id->cookie;
	c->id = *id;
	c->first_ts_ns = ts_ns;
	cookie_map_add(&t->map, &c->node);
	dlist_append(&t->age, &c->age);
	return c;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	cookie_map_remove(&t->map, &c->node);
	dlink_remove(&c->age);
	free(c->held.recs);
	free(c->tls);
	free(c);
}

bool rec_queue_push(struct rec_queue *q, const union tv_record *r)
{
	if (q->n == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 8;
		union tv_record *recs;

		if (q->n >= TV_CONN_HELD_MAX || !(recs = realloc(q->recs, cap * sizeof(*recs)))) {
			q->overflow++;
			return false;
		}
		q->recs = recs;
		q->cap = cap;
	}
	q->recs[q->n++] = *r;
	return true;
}

void rec_queue_remove(struct rec_queue *q, uint32_t i)
{
	if (i >= q->n)
		return;
	memmove(&q->recs[i], &q->recs[i + 1], (q->n - i - 1) * sizeof(*q->recs));
	q->n--;
}

void rec_queue_clear(struct rec_queue *q)
{
	q->n = 0;
}
