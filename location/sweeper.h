/* Expiry: bindings leave memory when they expire (checked every second)
 * and PostgreSQL a few seconds later, in one DELETE for all of them, by
 * their keys; a scan of the table finds the rest now and then. */
#ifndef LOCUS_SWEEPER_H
#define LOCUS_SWEEPER_H

struct db;
struct location;
struct sweeper;

int sweeper_alloc(struct sweeper **swp, struct location *loc, struct db *db);

#endif
