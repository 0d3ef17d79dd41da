#include <stdlib.h>
#include <string.h>
#include "conn_table.h"

#define CONN_SPARE_MAX 16384     /* 16 MiB at most */
#define CONN_TRIM_NS 1000000000ULL /* the period over which unused spares are freed */

int conn_table_init(struct conn_table *t, size_t max)
{
	dlist_init(&t->age);
	dlist_init(&t->spare);
	t->nspare = t->spare_low = 0;
	t->trim_ns = 0;
	t->max = max;
	/* the buckets grow with the entries: sized for max from the start, a churn's
	 * few thousand connections were spread over 512 kB of buckets (replay: 3%) */
	return cookie_map_init(&t->map, 1024);
}

void conn_table_free(struct conn_table *t)
{
	struct conn *c;

	struct dlink *n;

	while ((c = conn_table_oldest(t)))
		conn_table_remove(t, c);
	while ((n = dlist_first(&t->spare))) {
		c = container_of(n, struct conn, age);
		dlink_remove(n);
		free(c);
	}
	t->nspare = 0;
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
	struct dlink *n = dlist_first(&t->spare);
	struct conn *c;

	if (n) {
		c = container_of(n, struct conn, age);
		dlink_remove(n);
		if (--t->nspare < t->spare_low)
			t->spare_low = t->nspare;
		memset(c, 0, sizeof(*c));
	} else if (!(c = calloc(1, sizeof(*c)))) {
		return NULL;
	}
	c->node.cookie = id->cookie;
	c->id = *id;
	c->first_ts_ns = ts_ns;
	cookie_map_add(&t->map, &c->node);
	dlist_append(&t->age, &c->age);
	return c;
}

void conn_table_trim(struct conn_table *t, uint64_t now_ns)
{
	struct dlink *n;

	if (now_ns - t->trim_ns < CONN_TRIM_NS)
		return;
	for (; t->spare_low > 0 && (n = dlist_first(&t->spare)); t->spare_low--) {
		dlink_remove(n);
		t->nspare--;
		free(container_of(n, struct conn, age));
	}
	t->spare_low = t->nspare;
	t->trim_ns = now_ns;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	cookie_map_remove(&t->map, &c->node);
	dlink_remove(&c->age);
	free(c->held.recs);
	free(c->tls);
	if (t->nspare < CONN_SPARE_MAX) {
		dlist_append(&t->spare, &c->age);
		t->nspare++;
		return;
	}
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
