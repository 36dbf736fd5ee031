/*
 * A batch of several transactions whose statements all have an array
 * form: the executions of each statement become one execution of its
 * array form, each parameter the array of every execution's value.
 */
#include <string.h>
#include "db/db_merge.h"
#include "db/db_txn.h"


static const struct db_statement *stmt_find(const struct db_statement *stmts,
					    size_t stmtc, const char *name)
{
	for (size_t i = 0; name && i < stmtc; i++) {
		if (0 == strcmp(stmts[i].name, name))
			return &stmts[i];
	}
	return NULL;
}


bool db_merge_able(const struct db_statement *stmts, size_t stmtc,
		   const struct list *txns)
{
	if (list_count(txns) < 2)
		return false;
	for (struct le *t = txns->head; t; t = t->next) {
		const struct db_txn *tx = t->data;
		for (struct le *e = tx->execs.head; e; e = e->next) {
			const struct db_exec *ex = e->data;
			const struct db_statement *st;

			st = stmt_find(stmts, stmtc, ex->name);
			if (ex->sql || ex->rowsh || !st || !st->array_name)
				return false;
		}
	}
	return true;
}


/* The executions of statement ST in TXNS, as one execution of its array
 * form: parameter P is the array of every execution's P.  *ANY: whether
 * there was any. */
static int stmt_send(PGconn *conn, const struct list *txns,
		     const struct db_statement *st, bool *any)
{
	struct mbuf *arrays[st->nparams];
	const char *values[st->nparams];
	int err = 0;

	*any = false;
	for (int p = 0; p < st->nparams; p++)
		arrays[p] = mbuf_alloc(256);
	for (struct le *t = txns->head; t && !err; t = t->next) {
		const struct db_txn *tx = t->data;
		for (struct le *e = tx->execs.head; e && !err; e = e->next) {
			const struct db_exec *ex = e->data;
			if (strcmp(ex->name, st->name))
				continue;
			for (int p = 0; p < st->nparams && !err; p++) {
				if (!arrays[p])
					err = ENOMEM;
				else
					err = mbuf_write_u8(arrays[p],
							    *any ? ',' : '{')
					    | db_array_element(arrays[p],
							    ex->values[p]);
			}
			*any = true;
		}
	}
	for (int p = 0; p < st->nparams && !err && *any; p++) {
		err = mbuf_write_str(arrays[p], "}") |
			mbuf_write_u8(arrays[p], 0);
		values[p] = (const char *)arrays[p]->buf;
	}
	if (!err && *any && !PQsendQueryPrepared(conn, st->array_name,
						 st->nparams, values, NULL,
						 NULL, 0))
		err = EIO;
	for (int p = 0; p < st->nparams; p++)
		mem_deref(arrays[p]);
	return err;
}


int db_merge_send(PGconn *conn, const struct db_statement *stmts,
		  size_t stmtc, const struct list *txns, uint64_t *sent)
{
	int err = 0;

	for (size_t i = 0; i < stmtc && !err; i++) {
		bool any = false;

		if (!stmts[i].array_name)
			continue;
		err = stmt_send(conn, txns, &stmts[i], &any);
		if (!err && any)
			++*sent;
	}
	return err;
}
