/* Merging a batch's executions into the array forms of their statements
 * (db.h, struct db_statement): for db.c. */
#ifndef LOCUS_DB_MERGE_H
#define LOCUS_DB_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <re.h>
#include "db/db.h"

/* Whether TXNS (struct db_txn, one batch) are several transactions, and
 * every statement of them has an array form. */
bool db_merge_able(const struct db_statement *stmts, size_t stmtc,
		   const struct list *txns);
/* Sends TXNS' executions of each statement as one execution of its array
 * form; adds the number sent to *SENT. */
int  db_merge_send(PGconn *conn, const struct db_statement *stmts,
		   size_t stmtc, const struct list *txns, uint64_t *sent);

#endif
