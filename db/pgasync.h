/* A PostgreSQL connection made from inside the libre loop, without
 * blocking it (PQconnectStart / PQconnectPoll on the socket's events). */
#ifndef LOCUS_PGASYNC_H
#define LOCUS_PGASYNC_H

#include <libpq-fe.h>

struct pgasync;

/* CONN is the open connection, now the handler's to keep and PQfinish();
 * or NULL, and ERRMSG says why (one line). */
typedef void (pgasync_h)(PGconn *conn, const char *errmsg, void *arg);

/* Starts connecting; H runs exactly once, from the loop, unless *PP is
 * dereferenced first (which abandons the attempt). */
int pgasync_connect(struct pgasync **pp, const char *conninfo,
		    pgasync_h *h, void *arg);

/* libpq's multi-line message as one line, into OUT. */
void pgasync_one_line(char *out, size_t sz, const char *msg);

#endif
