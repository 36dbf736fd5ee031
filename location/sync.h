/* Following the database live: what psql or another node changes reaches
 * this node's memory within moments (LISTEN locus_change, sql/schema.sql),
 * and after losing the database for a while, everything is reloaded. */
#ifndef LOCUS_SYNC_H
#define LOCUS_SYNC_H

#include <stddef.h>

struct db;
struct location;
struct sync;

/* Connects (blocking: start-up only) and LISTENs.  Reloads go through DB,
 * the writer, so that they are ordered with this node's own commits. */
int sync_alloc(struct sync **syncp, struct location *loc, struct db *db,
	       const char *conninfo, char *errbuf, size_t errsz);

/* Reloads AOR from the database soon: after a commit whose outcome is
 * unknown (connection lost), memory must follow whatever happened. */
void sync_reload(struct sync *sync, const char *aor);

#endif
