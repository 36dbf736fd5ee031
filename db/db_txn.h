/* The inside of a database transaction, shared by db.c and db_txn.c. */
#ifndef LOCUS_DB_TXN_H
#define LOCUS_DB_TXN_H

#include <stdbool.h>
#include <re.h>
#include "db/db.h"

struct db_exec {
	struct le le;
	const char *name;       /* NULL for plain SQL                       */
	const char *sql;        /* set for a PREPARE or plain SQL           */
	int nparams;
	char **values;
	db_rows_h *rowsh;       /* for a query: where its rows go           */
	void *rows_arg;
};

struct db_txn {
	struct le le;           /* in the db's queue or in a batch          */
	struct list execs;      /* struct db_exec                           */
	db_done_h *doneh;
	void *arg;
	bool solo;              /* must be committed on its own             */
	uint64_t queued_us;     /* when submitted (monotonic clock)         */
};

/* Adds a PREPARE of SQL as NAME (NPARAMS parameters) to TX. */
int  db_txn_add_prepare(struct db_txn *tx, const char *name,
			const char *sql, int nparams);
/* Adds plain SQL without parameters (a session setting). */
int  db_txn_add_sql(struct db_txn *tx, const char *sql);
/* Runs the completion handler once, then releases TX. */
void db_txn_complete(struct db_txn *tx, int err, const char *sqlstate,
		     const char *errmsg);

#endif
