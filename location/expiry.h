/* A binary min-heap of bindings ordered by expiry time, so that expiring
 * bindings costs O(log n) per binding instead of a scan of all of them. */
#ifndef LOCUS_EXPIRY_H
#define LOCUS_EXPIRY_H

#include <stddef.h>

struct binding;

struct expiry_heap {
	struct binding **v;
	size_t n;
	size_t cap;
};

int  expiry_heap_push(struct expiry_heap *h, struct binding *b);
void expiry_heap_remove(struct expiry_heap *h, struct binding *b);
/* Restores the order after b->expires changed. */
void expiry_heap_update(struct expiry_heap *h, struct binding *b);
struct binding *expiry_heap_top(const struct expiry_heap *h);
void expiry_heap_reset(struct expiry_heap *h);

#endif
