#include <string.h>
#include <re.h>
#include "auth/nonce_count.h"

enum {
	BUCKETS = 1u << 14,
	WINDOW = 64,
};

struct nc_entry {
	struct nonce_counts *t;
	struct le he;
	struct le le;            /* in t->order, oldest first */
	char *nonce;
	uint64_t expires;
	uint32_t max;
	uint64_t seen;           /* bit d: count max - d was used */
};

struct nonce_counts {
	struct hash *ht;
	struct list order;
	uint32_t n;              /* entries in order */
	uint32_t max_entries;
};


static void entry_destructor(void *arg)
{
	struct nc_entry *e = arg;

	hash_unlink(&e->he);
	list_unlink(&e->le);
	if (e->t)
		--e->t->n;
	mem_deref(e->nonce);
}


static void table_destructor(void *arg)
{
	struct nonce_counts *t = arg;

	list_flush(&t->order);
	mem_deref(t->ht);
}


int nonce_counts_alloc(struct nonce_counts **ncp, uint32_t max_entries)
{
	struct nonce_counts *t = mem_zalloc(sizeof(*t), table_destructor);
	int err;

	if (!t)
		return ENOMEM;
	t->max_entries = max_entries;
	err = hash_alloc(&t->ht, BUCKETS);
	if (err)
		mem_deref(t);
	else
		*ncp = t;
	return err;
}


static bool entry_cmp(struct le *le, void *arg)
{
	const struct nc_entry *e = le->data;

	return 0 == pl_strcmp(arg, e->nonce);
}


/* Entries join in order of first use, which is nearly expiry order:
 * whatever has expired at the head goes, and the oldest goes when the
 * table is full. */
static void table_trim(struct nonce_counts *t, uint64_t now)
{
	struct le *le;

	while ((le = list_head(&t->order))) {
		struct nc_entry *e = le->data;

		if (e->expires > now && t->n < t->max_entries)
			break;
		mem_deref(e);
	}
}


static struct nc_entry *entry_add(struct nonce_counts *t,
				  const struct pl *nonce, uint64_t expires)
{
	struct nc_entry *e = mem_zalloc(sizeof(*e), entry_destructor);

	if (!e)
		return NULL;
	if (pl_strdup(&e->nonce, nonce)) {
		mem_deref(e);   /* not linked yet: n untouched */
		return NULL;
	}
	e->t = t;
	++t->n;
	e->expires = expires;
	hash_append(t->ht, hash_joaat_pl(nonce), &e->he, e);
	list_append(&t->order, &e->le, e);
	return e;
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
	struct nc_entry *e;

	table_trim(t, now);
	e = list_ledata(hash_lookup(t->ht, hash_joaat_pl(nonce),
				    entry_cmp, (void *)nonce));
	if (!e) {
		e = entry_add(t, nonce, expires);
		if (!e)
			return false;   /* no memory: refuse, never accept blind */
	}
	return window_use(e, nc);
}


uint32_t nonce_counts_size(const struct nonce_counts *t)
{
	return t->n;
}
