/* db/: PostgreSQL for the rest of locus, never blocking the loop once it
 * runs: the pipelined connection and its group commit (this header), the
 * asynchronous connect (db/pgasync.h) and the blocking one of start-up
 * (db/pgconnect.h).  It knows no table: the SQL is its users'.
 *
 * Asynchronous PostgreSQL inside the libre loop.
 *
 * One connection in libpq pipeline mode.  A transaction (struct db_txn) is
 * a list of prepared-statement executions.  Transactions are sent in
 * batches followed by one Sync: with no explicit BEGIN, PostgreSQL runs
 * everything up to the Sync as one implicit transaction, committed when
 * the Sync is reached and rolled back as a whole if any statement fails
 * (group commit; see db.c).  A transaction's completion handler runs once
 * the server has answered that Sync, i.e. after its commit, never before
 * db_txn_submit() returned.  Transactions complete in submission order.
 */
#ifndef LOCUS_DB_H
#define LOCUS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/metrics.h"

struct db;
struct db_txn;

/* ERR is 0 when committed.  When the server refused the transaction,
 * SQLSTATE is its error code (five characters, e.g. "23505"; what the
 * caller decides by) and ERRMSG its message (one line, for the log);
 * both are NULL when the failure was not the server's answer (connection
 * lost: ECONNRESET if the transaction had been sent, ENOTCONN if not). */
typedef void (db_done_h)(int err, const char *sqlstate, const char *errmsg,
			 void *arg);

/* The rows of one statement (a libpq PGresult), as soon as they arrive. */
struct pg_result;
typedef void (db_rows_h)(const struct pg_result *res, void *arg);

/*
 * A prepared statement.  ARRAY_NAME names another statement of the list
 * that does the same for many rows, taking each parameter as a text[]:
 * when a batch holds several transactions, all their executions of NAME
 * become one execution of ARRAY_NAME (fewer statements, same commit).
 * Only for statements whose executions in one batch are independent of
 * each other's order.
 */
struct db_statement {
	const char *name;
	const char *sql;
	int nparams;
	const char *array_name;
};

/*
 * Connects (blocking: only at start-up, before the loop runs), runs
 * SESSION_SQL (may be NULL), prepares STMTS, then switches the connection
 * to non-blocking pipeline mode in the loop.  When the connection is lost
 * later (or its socket cannot be watched) it is re-established from the
 * loop without blocking; meanwhile db_txn_submit() fails with ENOTCONN.
 */
int  db_open(struct db **dbp, const char *conninfo,
	     const struct db_statement *stmts, size_t stmtc,
	     const char *session_sql, char *errbuf, size_t errsz);
bool db_is_up(const struct db *db);

/* Runs UPH(ARG) each time the connection is back after it was lost, its
 * session SQL run and its statements prepared again: whatever the
 * session held (its locks) was gone meanwhile.  NULL: none. */
typedef void (db_up_h)(void *arg);
void db_set_up_handler(struct db *db, db_up_h *uph, void *arg);


/* Group commit at work: transactions per batch = txns / batches. */
struct db_stats {
	uint64_t batches;          /* commits sent                        */
	uint64_t txns;             /* transactions in them                */
	uint64_t retried_batches;  /* failed batches re-sent one by one    */
	uint64_t merged_statements; /* array statements sent for batches    */
	uint64_t commit_us_sum;    /* from sending a batch to its Sync       */
	uint64_t commit_us_max;
	uint32_t batch_max;        /* most transactions in one batch        */
};
const struct db_stats *db_stats(const struct db *db);

/* Which of locus's connections DB is, for locus_db_reconnects_total
 * (the writer unless set). */
void db_metrics_conn_set(struct db *db, enum metrics_conn conn);

int  db_txn_alloc(struct db_txn **txp, db_done_h *doneh, void *arg);
/* Adds an execution of prepared statement NAME; VALUES are copied, a NULL
 * value is SQL NULL. */
int  db_txn_add(struct db_txn *tx, const char *name, int nparams,
		const char *const *values);
/* Like db_txn_add(), for a statement whose rows go to ROWSH. */
int  db_txn_add_query(struct db_txn *tx, const char *name, int nparams,
		      const char *const *values, db_rows_h *rowsh, void *arg);
/* A transaction that must not share its commit (e.g. a consistent read
 * that should see nothing of others' uncommitted writes). */
void db_txn_set_solo(struct db_txn *tx);

/* Writes V into MB as one element of a PostgreSQL array literal
 * ({a,b}): NULL, or V double-quoted with " and \\ escaped. */
struct mbuf;
int  db_array_element(struct mbuf *mb, const char *v);

/* The PostgreSQL backend PID of the connection: notifications caused by
 * our own writes carry it.  0 while disconnected. */
int  db_backend_pid(const struct db *db);
/* Sends TX (the db holds its own reference).  On error nothing was sent
 * and the handler will not be called. */
int  db_txn_submit(struct db *db, struct db_txn *tx);

/* The header a 503 carries when a request failed because the database
 * connection is down (RFC 3261 §21.5.4, §20.33): reconnecting is tried
 * every second, so the client may come back in a few. */
#define DB_DOWN_RETRY_AFTER "Retry-After: 5\r\n"

#endif
