/* The location service's rows in PostgreSQL (sql/schema.sql): the SQL
 * locus runs, and the conversions between rows and struct binding. */
#ifndef LOCUS_PERSIST_H
#define LOCUS_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db/db.h"
#include "location/location.h"

#define PERSIST_SCHEMA_VERSION "2"

extern const struct db_statement persist_statements[];
extern const size_t persist_statementc;

/* Start-up only (blocking): the schema is present and of our version. */
int persist_check_schema(const char *conninfo, char *errbuf, size_t errsz);

/* Start-up only (blocking): loads every unexpired binding and all GRUU
 * state into LOC.  Streams rows, so memory stays flat for large tables. */
int persist_load(struct location *loc, const char *conninfo, int64_t now,
		 char *errbuf, size_t errsz);

/* One row of any of locus's row-returning queries into LOC. */
struct pg_result;
int persist_row_load(struct location *loc, const struct pg_result *res,
		     int row);

/* The whole state of a set of AORs ($1 text[], $2 now): prepared as
 * "aor_reload". */
extern const char persist_reload_sql[];

/* Also prepared: "aor_list_after" ($1 an AOR, $2 a count): the AORs
 * the database knows after $1, at most $2, in key order; "aor_absent"
 * ($1 text[]): those of them it knows nothing about. */

int persist_binding_upsert(struct db_txn *tx, const char *aor,
			   const struct binding *b);
int persist_binding_delete(struct db_txn *tx, const char *aor,
			   const char *key);
int persist_instance_upsert(struct db_txn *tx, const char *aor,
			    const char *instance, uint64_t generation,
			    const char *callid);
/* Tells the other nodes, after the commit, that AOR changed; nothing
 * when no other node runs (persist.c, NODE_LOCK). */
int persist_notify(struct db_txn *tx, const char *aor);

/* Whether a failed transaction's SQLSTATE (db_done_h) is the schema's
 * "stale CSeq": another node stored a newer CSeq of the same Call-ID
 * first (locus.stale_cseq() in sql/schema.sql). */
bool persist_is_stale_cseq(const char *sqlstate);

/* Run when a writer connection opens (db_open's SESSION_SQL). */
extern const char persist_session_sql[];

/* Deletes up to 5000 rows that expired at or before NOW (once across
 * nodes); ROWSH gets one row: how many, or -1 if another node does it.
 * A scan of the whole table: bindings.expires has no index, so that a
 * refresh changes no indexed column (PostgreSQL updates the row in its
 * page then, a HOT update, without touching any index). */
int persist_expired_delete(struct db_txn *tx, int64_t now, db_rows_h *rowsh,
			   void *arg);
/* The same for the bindings (AORS[i], KEYS[i]), i < N, by their primary
 * key: those of them that expired at or before NOW. */
int persist_expired_keys_delete(struct db_txn *tx, const char *const *aors,
				const char *const *keys, size_t n, int64_t now,
				db_rows_h *rowsh, void *arg);

/* V[0..N) as a PostgreSQL text[] literal: {"a","b\\"c"}. */
int persist_text_array(char **arrayp, const char *const *v, size_t n);

/* "udp", "tcp", ...: how the transport is written in the database. */
const char *persist_transport_name(enum sip_transp tp);

/*
 * A Path from the text[] PostgreSQL writes for a binding's path column
 * ({"<sip:a;lr>","<sip:b;lr>"}): *PATHP is NULL when the array holds no
 * value.  NULL and empty elements are left out (no Path value is empty)
 * and a nested array is read as one list.
 */
int persist_path_decode(struct binding_path **pathp, const char *array);

#endif
