/* Start-up: the memory index is rebuilt from PostgreSQL, the source of
 * truth.  Rows are streamed in single-row mode so that a million bindings
 * never sit in one PGresult. */
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "location/persist.h"

enum {
	COL_AOR, COL_KEY, COL_CONTACT, COL_PARAMS, COL_INSTANCE, COL_REG_ID,
	COL_Q, COL_EXPIRES, COL_CALLID, COL_CSEQ, COL_PATH, COL_RECEIVED,
	COL_TRANSPORT, COL_UA, COL_UPDATED,
};

static const char load_bindings_sql[] =
	"SELECT aor, binding_key, contact, params, instance,"
	" coalesce(reg_id, 0), coalesce(round(q * 1000)::integer, -1),"
	" extract(epoch from expires)::bigint, call_id, cseq,"
	" array_to_string(path, ', '), received, transport, user_agent,"
	" (extract(epoch from updated_at) * 1000)::bigint"
	" FROM locus.location WHERE expires > to_timestamp($1::float8)";

static const char load_instances_sql[] =
	"SELECT aor, instance, generation, call_id FROM locus.instance";


static int dup_or_null(char **dst, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return str_dup(dst, PQgetvalue(res, row, col));
}


static enum sip_transp transport_from_name(const char *name)
{
	for (int tp = SIP_TRANSP_UDP; tp < SIP_TRANSPC; tp++) {
		if (0 == strcasecmp(name, persist_transport_name(tp)))
			return tp;
	}
	return SIP_TRANSP_UDP;
}


static int binding_from_row(struct binding **bp, const PGresult *res)
{
	struct binding *b;
	int err;

	err = binding_alloc(&b);
	if (err)
		return err;

	err |= dup_or_null(&b->key, res, 0, COL_KEY);
	err |= dup_or_null(&b->uri, res, 0, COL_CONTACT);
	err |= dup_or_null(&b->params, res, 0, COL_PARAMS);
	err |= dup_or_null(&b->instance, res, 0, COL_INSTANCE);
	err |= dup_or_null(&b->callid, res, 0, COL_CALLID);
	err |= dup_or_null(&b->user_agent, res, 0, COL_UA);
	if (!PQgetisnull(res, 0, COL_PATH) && *PQgetvalue(res, 0, COL_PATH))
		err |= str_dup(&b->path, PQgetvalue(res, 0, COL_PATH));
	if (err) {
		mem_deref(b);
		return ENOMEM;
	}

	b->reg_id = (uint32_t)strtoul(PQgetvalue(res, 0, COL_REG_ID), NULL,
				      10);
	b->q = atoi(PQgetvalue(res, 0, COL_Q));
	b->expires = strtoll(PQgetvalue(res, 0, COL_EXPIRES), NULL, 10);
	b->cseq = (uint32_t)strtoul(PQgetvalue(res, 0, COL_CSEQ), NULL, 10);
	b->updated_ms = strtoll(PQgetvalue(res, 0, COL_UPDATED), NULL, 10);
	if (!PQgetisnull(res, 0, COL_TRANSPORT))
		b->tp = transport_from_name(PQgetvalue(res, 0, COL_TRANSPORT));
	if (!PQgetisnull(res, 0, COL_RECEIVED))
		(void)sa_decode(&b->received, PQgetvalue(res, 0, COL_RECEIVED),
				strlen(PQgetvalue(res, 0, COL_RECEIVED)));

	*bp = b;
	return 0;
}


static int load_binding_row(struct location *loc, const PGresult *res)
{
	struct binding *b;
	struct aor *aor;
	int err;

	err = binding_from_row(&b, res);
	if (err)
		return err;

	err = location_aor_get(&aor, loc, PQgetvalue(res, 0, COL_AOR));
	if (!err)
		err = location_binding_put(loc, aor, b);
	if (err) {
		mem_deref(b);
		return err;
	}

	/* A binding added with psql may name an instance that never
	 * registered through locus: give it GRUU state of generation 1. */
	if (b->instance && !aor_instance_find(aor, b->instance))
		err = location_instance_put(aor, b->instance, 1, b->callid);
	return err;
}


static int load_instance_row(struct location *loc, const PGresult *res)
{
	struct aor *aor;
	int err;

	err = location_aor_get(&aor, loc, PQgetvalue(res, 0, 0));
	if (err)
		return err;
	return location_instance_put(aor, PQgetvalue(res, 0, 1),
				     strtoull(PQgetvalue(res, 0, 2), NULL, 10),
				     PQgetvalue(res, 0, 3));
}


typedef int (row_h)(struct location *loc, const PGresult *res);


static int stream_rows(PGconn *conn, const char *sql, const char *param,
		       row_h *rowh, struct location *loc,
		       char *errbuf, size_t errsz)
{
	const char *values[] = {param};
	PGresult *res;
	int err = 0;

	if (!PQsendQueryParams(conn, sql, param ? 1 : 0, NULL, values, NULL,
			       NULL, 0) || !PQsetSingleRowMode(conn)) {
		re_snprintf(errbuf, errsz, "loading bindings failed: %s",
			    PQerrorMessage(conn));
		return EIO;
	}

	while ((res = PQgetResult(conn))) {
		switch (PQresultStatus(res)) {

		case PGRES_SINGLE_TUPLE:
			if (!err)
				err = rowh(loc, res);
			break;

		case PGRES_TUPLES_OK:
			break;

		default:
			re_snprintf(errbuf, errsz, "loading bindings failed: %s",
				    PQresultErrorMessage(res));
			err = EIO;
			break;
		}
		PQclear(res);
	}

	if (err && !errbuf[0])
		re_snprintf(errbuf, errsz, "loading bindings failed: %m", err);
	return err;
}


int persist_load(struct location *loc, const char *conninfo, int64_t now,
		 char *errbuf, size_t errsz)
{
	char nowstr[24];
	PGconn *conn;
	int err;

	errbuf[0] = '\0';
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		re_snprintf(errbuf, errsz, "cannot connect to the database "
			    "(%s): %s", conninfo, PQerrorMessage(conn));
		PQfinish(conn);
		return ECONNREFUSED;
	}

	re_snprintf(nowstr, sizeof(nowstr), "%lld", (long long)now);

	/* Instances first, so that bindings find their GRUU state. */
	err = stream_rows(conn, load_instances_sql, NULL, load_instance_row,
			  loc, errbuf, errsz);
	if (!err)
		err = stream_rows(conn, load_bindings_sql, nowstr,
				  load_binding_row, loc, errbuf, errsz);

	PQfinish(conn);
	return err;
}
