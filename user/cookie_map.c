#include <stdlib.h>
#include "cookie_map.h"

/* Kernel cookies are sequential: mix the bits so that they spread. */
static size_t bucket_of(const struct cookie_map *m, uint64_t cookie)
{
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdULL;
	cookie ^= cookie >> 33;
	return (size_t)cookie & m->mask;
}

int cookie_map_init(struct cookie_map *m, size_t expected)
{
	size_t n = 1;

	while (n < expected)
		n <<= 1;
	m->buckets = calloc(n, sizeof(*m->buckets));
	m->mask = n - 1;
	m->count = 0;
	return m->buckets ? 0 : -1;
}

void cookie_map_free(struct cookie_map *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->count = 0;
}

struct cookie_node *cookie_map_get(const struct cookie_map *m, uint64_t cookie)
{
	struct cookie_node *n;

	for (n = m->buckets[bucket_of(m, cookie)]; n; n = n->next)
		if (n->cookie == cookie)
			return n;
	return NULL;
}

static void link_node(struct cookie_map *m, struct cookie_node *n)
{
	struct cookie_node **b = &m->buckets[bucket_of(m, n->cookie)];

	n->next = *b;
	if (*b)
		(*b)->pprev = &n->next;
	n->pprev = b;
	*b = n;
}

/* Doubles the buckets once there are more entries than buckets; if memory is
 * short the chains just get longer. */
static void grow(struct cookie_map *m)
{
	struct cookie_node **old = m->buckets, *n, *next;
	size_t nold = m->mask + 1;

	m->buckets = calloc(nold * 2, sizeof(*m->buckets));
	if (!m->buckets) {
		m->buckets = old;
		return;
	}
	m->mask = nold * 2 - 1;
	for (size_t i = 0; i < nold; i++)
		for (n = old[i]; n; n = next) {
			next = n->next;
			link_node(m, n);
		}
	free(old);
}

void cookie_map_add(struct cookie_map *m, struct cookie_node *n)
{
	if (m->count > m->mask)
		grow(m);
	link_node(m, n);
	m->count++;
}

void cookie_map_remove(struct cookie_map *m, struct cookie_node *n)
{
	if (!n->pprev)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	m->count--;
}
