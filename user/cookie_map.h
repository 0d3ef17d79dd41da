/* A hash map from socket cookie to the object that embeds the node: the
 * collector's connections, the text format's timelines. Never allocates per
 * entry; the bucket array doubles as entries are added. */
#ifndef TV_COOKIE_MAP_H
#define TV_COOKIE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct cookie_node {
	uint64_t cookie;
	struct cookie_node *next;   /* bucket chain */
	struct cookie_node **pprev; /* what points here: removal needs no walk */
};

struct cookie_map {
	struct cookie_node **buckets;
	size_t mask;
	size_t count;
};

/* expected: how many entries to size the buckets for. -1 if out of memory. */
int cookie_map_init(struct cookie_map *m, size_t expected);
void cookie_map_free(struct cookie_map *m); /* the entries are the caller's */
struct cookie_node *cookie_map_get(const struct cookie_map *m, uint64_t cookie);
void cookie_map_add(struct cookie_map *m, struct cookie_node *n); /* n->cookie set, not present */
void cookie_map_remove(struct cookie_map *m, struct cookie_node *n);

#endif
