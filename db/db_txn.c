/* Transactions: a list of statement executions and a completion
 * handler; db/db.c decides when and with what they are sent. */
#include <string.h>
#include <re.h>
#include "common/metrics.h"
#include "db/db_txn.h"


static void exec_destructor(void *arg)
{
	struct db_exec *ex = arg;

	list_unlink(&ex->le);
	mem_deref(ex->values);
}


static void txn_destructor(void *arg)
{
	struct db_txn *tx = arg;

	list_unlink(&tx->le);
	list_flush(&tx->execs);
}


int db_txn_alloc(struct db_txn **txp, db_done_h *doneh, void *arg)
{
	struct db_txn *tx = mem_zalloc(sizeof(*tx), txn_destructor);

	if (!tx)
		return ENOMEM;
	tx->doneh = doneh;
	tx->arg = arg;
	*txp = tx;
	return 0;
}


/* All values of an execution in one allocation: the pointer array,
 * then the strings (one malloc instead of one per parameter). */
static int values_copy(struct db_exec *ex, const char *const *values)
{
	size_t len = ex->nparams * sizeof(char *);
	char *p;

	for (int i = 0; i < ex->nparams; i++)
		len += values[i] ? strlen(values[i]) + 1 : 0;
	ex->values = mem_alloc(len, NULL);
	if (!ex->values)
		return ENOMEM;

	p = (char *)(ex->values + ex->nparams);
	for (int i = 0; i < ex->nparams; i++) {
		if (!values[i]) {
			ex->values[i] = NULL;
			continue;
		}
		size_t n = strlen(values[i]) + 1;
		memcpy(p, values[i], n);
		ex->values[i] = p;
		p += n;
	}
	return 0;
}


static int exec_add(struct db_txn *tx, const char *name, const char *sql,
		    int nparams, const char *const *values)
{
	struct db_exec *ex = mem_zalloc(sizeof(*ex), exec_destructor);

	if (!ex)
		return ENOMEM;
	ex->name = name;
	ex->sql = sql;
	ex->nparams = nparams;
	/* a PREPARE carries a parameter count but no values */
	if (nparams && values && values_copy(ex, values)) {
		mem_deref(ex);
		return ENOMEM;
	}
	list_append(&tx->execs, &ex->le, ex);
	return 0;
}


int db_txn_add(struct db_txn *tx, const char *name, int nparams,
	       const char *const *values)
{
	if (!tx || !name || nparams < 0 || (nparams && !values))
		return EINVAL;
	return exec_add(tx, name, NULL, nparams, values);
}


int db_txn_add_query(struct db_txn *tx, const char *name, int nparams,
		     const char *const *values, db_rows_h *rowsh, void *arg)
{
	struct db_exec *ex;
	int err;

	err = db_txn_add(tx, name, nparams, values);
	if (err)
		return err;
	ex = list_ledata(list_tail(&tx->execs));
	ex->rowsh = rowsh;
	ex->rows_arg = arg;
	return 0;
}


void db_txn_set_solo(struct db_txn *tx)
{
	if (tx)
		tx->solo = true;
}


int db_txn_add_prepare(struct db_txn *tx, const char *name, const char *sql,
		       int nparams)
{
	return exec_add(tx, name, sql, nparams, NULL);
}


int db_txn_add_sql(struct db_txn *tx, const char *sql)
{
	return exec_add(tx, NULL, sql, 0, NULL);
}


/* Copied in runs between the characters that need escaping. */
int db_array_element(struct mbuf *mb, const char *v)
{
	int err;

	if (!v)
		return mbuf_write_str(mb, "NULL");
	err = mbuf_write_u8(mb, '"');
	while (*v && !err) {
		size_t run = strcspn(v, "\"\\");
		err = mbuf_write_mem(mb, (const uint8_t *)v, run);
		v += run;
		if (*v && !err) {
			err = mbuf_write_u8(mb, '\\') |
				mbuf_write_u8(mb, (uint8_t)*v);
			++v;
		}
	}
	return err | mbuf_write_u8(mb, '"');
}


void db_txn_complete(struct db_txn *tx, int err, const char *sqlstate,
		     const char *errmsg)
{
	--metrics.pipeline_txns;   /* submitted: db_txn_submit() */
	list_unlink(&tx->le);
	if (tx->doneh)
		tx->doneh(err, sqlstate, errmsg, tx->arg);
	mem_deref(tx);
}
