#include <string.h>
#include <re.h>
#include "auth/limiter.h"

enum {
	BUCKETS = 1u << 12,
};

struct lim_entry {
	struct le he;
	struct le le;            /* in l->order: window start order */
	struct limiter *l;
	char *key;
	uint64_t window_start;
	uint32_t failures;
	bool refused;            /* refusal logged in this window */
};

struct limiter {
	struct hash *ht;
	struct list order;
	uint32_t n;
	uint32_t limit;
	uint32_t window;
	uint32_t max_keys;
};


static void entry_destructor(void *arg)
{
	struct lim_entry *e = arg;

	hash_unlink(&e->he);
	list_unlink(&e->le);
	if (e->l)
		--e->l->n;
	mem_deref(e->key);
}


static void limiter_destructor(void *arg)
{
	struct limiter *l = arg;

	list_flush(&l->order);
	mem_deref(l->ht);
}


int limiter_alloc(struct limiter **lp, uint32_t limit, uint32_t window,
		  uint32_t max_keys)
{
	struct limiter *l = mem_zalloc(sizeof(*l), limiter_destructor);
	int err;

	if (!l)
		return ENOMEM;
	l->limit = limit;
	l->window = window;
	l->max_keys = max_keys;
	err = hash_alloc(&l->ht, BUCKETS);
	if (err)
		mem_deref(l);
	else
		*lp = l;
	return err;
}


/* Windows that have ended leave from the head; when full, the oldest. */
static void trim(struct limiter *l, uint64_t now)
{
	struct le *le;

	while ((le = list_head(&l->order))) {
		struct lim_entry *e = le->data;

		if (e->window_start + l->window > now && l->n < l->max_keys)
			break;
		mem_deref(e);
	}
}


static bool entry_cmp(struct le *le, void *arg)
{
	const struct lim_entry *e = le->data;

	return 0 == strcmp(e->key, arg);
}


static struct lim_entry *find(struct limiter *l, const char *key,
			      uint64_t now)
{
	trim(l, now);
	return list_ledata(hash_lookup(l->ht, hash_joaat_str(key), entry_cmp,
				       (void *)key));
}


bool limiter_blocked(struct limiter *l, const char *key, uint64_t now,
		     bool *first)
{
	struct lim_entry *e = find(l, key, now);

	*first = false;
	if (!e || e->failures < l->limit)
		return false;
	*first = !e->refused;
	e->refused = true;
	return true;
}


void limiter_fail(struct limiter *l, const char *key, uint64_t now)
{
	struct lim_entry *e = find(l, key, now);

	if (e) {
		++e->failures;
		return;
	}
	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return;
	if (str_dup(&e->key, key)) {
		mem_deref(e);
		return;
	}
	e->l = l;
	++l->n;
	e->window_start = now;
	e->failures = 1;
	hash_append(l->ht, hash_joaat_str(key), &e->he, e);
	list_append(&l->order, &e->le, e);
}
