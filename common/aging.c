#include <stddef.h>
#include <string.h>
#include <re.h>
#include "common/aging.h"

/* The aging_entry whose MEMBER (he or le) LE is. */
#define ENTRY_OF(le, member) ((struct aging_entry *) \
	((char *)(le) - offsetof(struct aging_entry, member)))

struct aging {
	struct hash *ht;
	struct list order;       /* oldest first */
	uint32_t n;
	uint32_t max_entries;
	size_t bytes;            /* charged to the entries                 */
	size_t max_bytes;        /* 0: no bound                             */
};


/* Unlinks the oldest entry and drops the table's reference to it. */
static void forget_oldest(struct aging *a)
{
	struct le *le = list_head(&a->order);
	void *data = le->data;

	aging_entry_unlink(ENTRY_OF(le, le));
	mem_deref(data);
}


static void aging_destructor(void *arg)
{
	struct aging *a = arg;

	while (list_head(&a->order))
		forget_oldest(a);
	mem_deref(a->ht);
}


int aging_alloc(struct aging **ap, uint32_t buckets, uint32_t max_entries)
{
	struct aging *a = mem_zalloc(sizeof(*a), aging_destructor);
	int err;

	if (!a)
		return ENOMEM;
	a->max_entries = max_entries;
	err = hash_alloc(&a->ht, buckets);
	if (err)
		mem_deref(a);
	else
		*ap = a;
	return err;
}


void aging_entry_unlink(struct aging_entry *e)
{
	hash_unlink(&e->he);
	list_unlink(&e->le);
	if (e->table) {
		--e->table->n;
		e->table->bytes -= e->bytes;
	}
	e->bytes = 0;
	e->table = NULL;
	e->key = mem_deref(e->key);
}


static bool full(const struct aging *a)
{
	return a->n >= a->max_entries ||
		(a->max_bytes && a->bytes > a->max_bytes);
}


/* Entries join in arrival order, which is nearly expiry order: whatever
 * is due at the head goes, and the oldest goes when the table is full. */
static void trim(struct aging *a, uint64_t now)
{
	struct le *le;

	while ((le = list_head(&a->order))) {
		if (ENTRY_OF(le, le)->until > now && !full(a))
			break;
		forget_oldest(a);
	}
}


static bool key_cmp(struct le *le, void *arg)
{
	return 0 == pl_strcmp(arg, ENTRY_OF(le, he)->key);
}


/* Trimming stops at the first live entry in arrival order; one added
 * later may be due already (a shorter life, or the clock stepped back):
 * such an entry is forgotten here rather than returned. */
void *aging_find(struct aging *a, const struct pl *key, uint64_t now)
{
	struct le *le;
	void *data;

	trim(a, now);
	le = hash_lookup(a->ht, hash_joaat_pl(key), key_cmp, (void *)key);
	if (!le)
		return NULL;
	data = le->data;
	if (ENTRY_OF(le, he)->until > now)
		return data;
	aging_entry_unlink(ENTRY_OF(le, he));
	mem_deref(data);
	return NULL;
}


int aging_add(struct aging *a, struct aging_entry *e, void *data,
	      const struct pl *key, uint64_t until)
{
	int err = pl_strdup(&e->key, key);

	if (err)
		return err;
	e->table = a;
	e->until = until;
	++a->n;
	hash_append(a->ht, hash_joaat_pl(key), &e->he, data);
	list_append(&a->order, &e->le, data);
	return 0;
}


uint32_t aging_count(const struct aging *a)
{
	return a->n;
}


void aging_set_max_bytes(struct aging *a, size_t max_bytes)
{
	a->max_bytes = max_bytes;
}


void aging_charge(struct aging_entry *e, size_t bytes)
{
	struct aging *a = e->table;

	if (!a)
		return;
	e->bytes += bytes;
	a->bytes += bytes;
	while (list_head(&a->order) && a->max_bytes && a->bytes > a->max_bytes)
		forget_oldest(a);
}


void aging_forget(struct aging_entry *e)
{
	void *data = e->le.data;

	if (!e->table)
		return;
	aging_entry_unlink(e);
	mem_deref(data);
}
