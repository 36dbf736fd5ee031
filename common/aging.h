/* A table of entries keyed by string, kept in the order they were added
 * and forgotten when their time is up or, the table being full, oldest
 * first: bounded memory whatever peers send (nonce counts, failure counts,
 * answers kept for retransmissions). */
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

#endif
