/* A table of entries keyed by string, kept in the order they were added
 * and forgotten when their time is up or, the table being full (entries,
 * or bytes charged to them), oldest first: bounded memory whatever peers
 * send (nonce counts, failure counts, answers kept for retransmissions). */
#ifndef LOCUS_AGING_H
#define LOCUS_AGING_H

#include <stdint.h>
#include <re.h>

struct aging;

/* Embedded in an entry, whose destructor calls aging_entry_unlink().  The
 * table holds one reference to each entry; others may hold more: an entry
 * the table forgets is unlinked at once, and freed with its last
 * reference. */
struct aging_entry {
	struct le he;
	struct le le;            /* in arrival order */
	struct aging *table;
	char *key;
	uint64_t until;          /* forgotten from then on (seconds) */
	size_t bytes;            /* charged to it, see aging_charge()      */
};

/* BUCKETS: hash buckets, a power of two near the entries expected. */
int  aging_alloc(struct aging **ap, uint32_t buckets, uint32_t max_entries);

/* The data of the live entry with KEY, or NULL.  Forgets what is due at
 * NOW first. */
void *aging_find(struct aging *a, const struct pl *key, uint64_t now);

/* Adds E (its containing mem object DATA, whose reference the table
 * takes), live until UNTIL. */
int  aging_add(struct aging *a, struct aging_entry *e, void *data,
	       const struct pl *key, uint64_t until);

void aging_entry_unlink(struct aging_entry *e);
uint32_t aging_count(const struct aging *a);

/* Bounds the bytes charged to the entries as well (0: no bound). */
void aging_set_max_bytes(struct aging *a, size_t max_bytes);

/* Counts BYTES more against E's table; past the table's bound, the
 * oldest entries are forgotten (E too, if it is the oldest), at once. */
void aging_charge(struct aging_entry *e, size_t bytes);

/* The table forgets E now (its reference dropped); no-op when it did
 * already. */
void aging_forget(struct aging_entry *e);

#endif
