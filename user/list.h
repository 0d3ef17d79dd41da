/* Intrusive doubly-linked lists: a node lives inside the object it links, so
 * linking never allocates and an object can sit on several lists at once. */
#ifndef TV_LIST_H
#define TV_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct dlink {
	struct dlink *prev, *next; /* both NULL while unlinked */
};

/* A list is a sentinel: head.next is the first node, head.prev the last. */
struct dlist {
	struct dlink head;
};

static inline void dlist_init(struct dlist *l)
{
	l->head.prev = l->head.next = &l->head;
}

static inline bool dlist_empty(const struct dlist *l)
{
	return l->head.next == &l->head;
}

static inline bool dlink_linked(const struct dlink *n)
{
	return n->next != NULL;
}

static inline struct dlink *dlist_first(const struct dlist *l)
{
	return dlist_empty(l) ? NULL : l->head.next;
}

static inline struct dlink *dlist_next(const struct dlist *l, const struct dlink *n)
{
	return n->next == &l->head ? NULL : n->next;
}

static inline void dlink_insert_after(struct dlink *at, struct dlink *n)
{
	n->prev = at;
	n->next = at->next;
	at->next->prev = n;
	at->next = n;
}

static inline void dlist_append(struct dlist *l, struct dlink *n)
{
	dlink_insert_after(l->head.prev, n);
}

static inline void dlink_remove(struct dlink *n)
{
	if (!n->next)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

#endif
