#include <stdlib.h>
#include <re.h>
#include "location/location.h"
#include "location/expiry.h"


static void place(struct expiry_heap *h, size_t i, struct binding *b)
{
	h->v[i] = b;
	b->heap_idx = i;
}


static void sift_up(struct expiry_heap *h, size_t i)
{
	struct binding *b = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent]->expires <= b->expires)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, b);
}


static void sift_down(struct expiry_heap *h, size_t i)
{
	struct binding *b = h->v[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n &&
		    h->v[child + 1]->expires < h->v[child]->expires)
			++child;
		if (b->expires <= h->v[child]->expires)
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, b);
}


int expiry_heap_push(struct expiry_heap *h, struct binding *b)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct binding **v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	place(h, h->n++, b);
	sift_up(h, h->n - 1);
	return 0;
}


void expiry_heap_remove(struct expiry_heap *h, struct binding *b)
{
	size_t i = b->heap_idx;

	if (i >= h->n || h->v[i] != b)
		return;

	struct binding *last = h->v[--h->n];
	if (last == b)
		return;
	place(h, i, last);
	expiry_heap_update(h, last);
}


void expiry_heap_update(struct expiry_heap *h, struct binding *b)
{
	size_t i = b->heap_idx;

	if (i > 0 && h->v[(i - 1) / 2]->expires > b->expires)
		sift_up(h, i);
	else
		sift_down(h, i);
}


struct binding *expiry_heap_top(const struct expiry_heap *h)
{
	return h->n ? h->v[0] : NULL;
}


void expiry_heap_reset(struct expiry_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
