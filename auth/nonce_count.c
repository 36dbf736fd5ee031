#include <string.h>
#include <re.h>
#include "common/aging.h"
#include "auth/nonce_count.h"

enum {
	WINDOW = 64,
	BUCKETS = 1u << 14,      /* nonces in use at once, in the thousands */
};

struct nc_entry {
	struct aging_entry ae;   /* keyed by the nonce */
	uint32_t max;
	uint64_t seen;           /* bit d: count max - d was used */
};

struct nonce_counts {
	struct aging *table;
};


static void entry_destructor(void *arg)
{
	struct nc_entry *e = arg;

	aging_entry_unlink(&e->ae);
}


static void counts_destructor(void *arg)
{
	struct nonce_counts *t = arg;

	mem_deref(t->table);
}


int nonce_counts_alloc(struct nonce_counts **ncp, uint32_t max_entries)
{
	struct nonce_counts *t = mem_zalloc(sizeof(*t), counts_destructor);
	int err;

	if (!t)
		return ENOMEM;
	err = aging_alloc(&t->table, BUCKETS, max_entries);
	if (err)
		mem_deref(t);
	else
		*ncp = t;
	return err;
}


static bool window_use(struct nc_entry *e, uint32_t nc)
{
	uint32_t d;

	if (nc > e->max) {
		d = nc - e->max;
		e->seen = d >= WINDOW ? 0 : e->seen << d;
		e->seen |= 1;
		e->max = nc;
		return true;
	}
	d = e->max - nc;
	if (d >= WINDOW || (e->seen & (1ull << d)))
		return false;
	e->seen |= 1ull << d;
	return true;
}


bool nonce_count_use(struct nonce_counts *t, const struct pl *nonce,
		     uint32_t nc, uint64_t expires, uint64_t now)
{
	struct nc_entry *e = aging_find(t->table, nonce, now);

	if (!e) {
		e = mem_zalloc(sizeof(*e), entry_destructor);
		if (!e || aging_add(t->table, &e->ae, e, nonce, expires)) {
			mem_deref(e);
			return false;   /* no memory: refuse, never accept blind */
		}
	}
	return window_use(e, nc);
}
