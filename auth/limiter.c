#include <string.h>
#include <re.h>
#include "common/aging.h"
#include "auth/limiter.h"

enum {
	BUCKETS = 1u << 14,      /* keys failing at once: few, unless attacked */
};

struct lim_entry {
	struct aging_entry ae;   /* keyed by source or AOR; lives a window */
	uint32_t failures;
	bool refused;            /* refusal logged in this window */
};

struct limiter {
	struct aging *table;
	uint32_t limit;
	uint32_t window;
};


static void entry_destructor(void *arg)
{
	struct lim_entry *e = arg;

	aging_entry_unlink(&e->ae);
}


static void limiter_destructor(void *arg)
{
	struct limiter *l = arg;

	mem_deref(l->table);
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
	err = aging_alloc(&l->table, BUCKETS, max_keys);
	if (err)
		mem_deref(l);
	else
		*lp = l;
	return err;
}


void limiter_set(struct limiter *l, uint32_t limit, uint32_t window)
{
	l->limit = limit;
	l->window = window;
}


bool limiter_blocked(struct limiter *l, const char *key, uint64_t now,
		     bool *first)
{
	struct pl k;
	struct lim_entry *e;

	pl_set_str(&k, key);
	e = aging_find(l->table, &k, now);
	*first = false;
	if (!e || e->failures < l->limit)
		return false;
	*first = !e->refused;
	e->refused = true;
	return true;
}


/* A key's window starts with its first failure. */
void limiter_fail(struct limiter *l, const char *key, uint64_t now)
{
	struct pl k;
	struct lim_entry *e;

	pl_set_str(&k, key);
	e = aging_find(l->table, &k, now);
	if (e) {
		++e->failures;
		return;
	}
	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e || aging_add(l->table, &e->ae, e, &k, now + l->window)) {
		mem_deref(e);
		return;
	}
	e->failures = 1;
}


void limiter_forgive(struct limiter *l, const char *key, uint64_t now)
{
	struct pl k;
	struct lim_entry *e;

	pl_set_str(&k, key);
	e = aging_find(l->table, &k, now);
	if (e && e->failures && !--e->failures)
		mem_deref(e);
}
