/* Blocking PostgreSQL connections for start-up, and what their error
 * messages say about the server: where it is and who connects (host,
 * port, database, user), never the conninfo itself, which may hold a
 * password. */
#ifndef LOCUS_PGCONNECT_H
#define LOCUS_PGCONNECT_H

#include <stddef.h>
#include <libpq-fe.h>
#include <re.h>

/* Connects to CONNINFO, blocking: at start-up only, before the loop
 * runs.  Returns the open connection, or NULL with ERRBUF saying
 * "cannot PURPOSE (host H, port P, database D, user U): reason". */
PGconn *pgconnect_blocking(const char *conninfo, const char *purpose,
			   char *errbuf, size_t errsz);

struct db_statement;

/* Blocking, at start-up only: SESSION_SQL (may be NULL), then the STMTC
 * statements STMTS prepared on CONN.  Non-zero with ERRBUF saying which
 * failed and the server's message. */
int pgconnect_prepare(PGconn *conn, const char *session_sql,
		      const struct db_statement *stmts, size_t stmtc,
		      char *errbuf, size_t errsz);

/* "host H, port P, database D, user U" of CONN, libpq's defaults filled
 * in; for %H. */
int pgconnect_target_print(struct re_printf *pf, const PGconn *conn);

#endif
