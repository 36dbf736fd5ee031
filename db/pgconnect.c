/*
 * The one blocking connect of start-up, shared by everything that opens
 * a connection then (schema check, pipeline, LISTEN, initial load).
 *
 * An error message names the server as libpq resolved it - host, port,
 * database and user, defaults included, which is what an operator needs
 * to find the mistake - and never repeats the conninfo: it may hold a
 * password, and logs are read by more people than the configuration.
 */
#include <ctype.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "db/db.h"
#include "db/pgasync.h"
#include "db/pgconnect.h"


static const char *known(const char *s)
{
	return s && *s ? s : "?";
}


int pgconnect_target_print(struct re_printf *pf, const PGconn *conn)
{
	return re_hprintf(pf, "host %s, port %s, database %s, user %s",
			  known(PQhost(conn)), known(PQport(conn)),
			  known(PQdb(conn)), known(PQuser(conn)));
}


/* Appends the N bytes at S to OUT (of SZ bytes, *LEN used), as many as
 * fit with the terminating NUL. */
static void append(char *out, size_t sz, size_t *len, const char *s,
		   size_t n)
{
	n = MIN(n, sz - 1 - *len);
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}


/* libpq's complaint about a conninfo it cannot parse quotes the text it
 * stumbled on, which may be part of the password or a whole URI that
 * holds one: quoted text is withheld, except a lone punctuation mark
 * (the syntax libpq expected, as in: missing "=" after ...). */
static void parse_error_redact(char *out, size_t sz, const char *msg)
{
	char line[512];
	const char *p = line;
	size_t len = 0;

	pgasync_one_line(line, sizeof(line), msg);
	out[0] = '\0';
	while (*p) {
		size_t run = strcspn(p, "\"");
		const char *close;

		append(out, sz, &len, p, run);
		p += run;
		if (!*p)
			break;
		close = strchr(p + 1, '"');
		if (close == p + 2 && ispunct((unsigned char)p[1]))
			append(out, sz, &len, p, 3);
		else
			append(out, sz, &len, "\"...\"", 5);
		p = close ? close + 1 : p + strlen(p);
	}
}


PGconn *pgconnect_blocking(const char *conninfo, const char *purpose,
			   char *errbuf, size_t errsz)
{
	char reason[512];
	char *parse_err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &parse_err);
	PGconn *conn;

	if (!opts) {
		parse_error_redact(reason, sizeof(reason),
				   parse_err ? parse_err : "out of memory");
		re_snprintf(errbuf, errsz, "cannot %s: database.conninfo is "
			    "not valid: %s", purpose, reason);
		PQfreemem(parse_err);
		return NULL;
	}
	PQconninfoFree(opts);

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) == CONNECTION_OK)
		return conn;

	pgasync_one_line(reason, sizeof(reason),
			 conn ? PQerrorMessage(conn) : "out of memory");
	re_snprintf(errbuf, errsz, "cannot %s (%H): %s", purpose,
		    pgconnect_target_print, conn, reason);
	PQfinish(conn);
	return NULL;
}


/* Blocking, at start-up only: the session setting, then the PREPAREs,
 * so that a schema problem stops locus with the server's own message
 * rather than failing every REGISTER later. */
int pgconnect_prepare(PGconn *conn, const char *session_sql,
		      const struct db_statement *stmts, size_t stmtc,
		      char *errbuf, size_t errsz)
{
	PGresult *res;
	bool ok = true;

	if (session_sql) {
		res = PQexec(conn, session_sql);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
			PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok)
			re_snprintf(errbuf, errsz, "'%s' failed: %s",
				    session_sql, PQresultErrorMessage(res));
		PQclear(res);
	}
	for (size_t i = 0; ok && i < stmtc; i++) {
		const struct db_statement *st = &stmts[i];

		res = PQprepare(conn, st->name, st->sql, st->nparams, NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			re_snprintf(errbuf, errsz,
				    "preparing statement '%s' failed: %s",
				    st->name, PQresultErrorMessage(res));
		PQclear(res);
	}
	return ok ? 0 : EIO;
}
