/* A LISTEN connection of its own: the notifications of one channel as
 * they come, from inside the loop.  Connected at start-up (blocking,
 * before anything is served); when lost, re-established from the loop
 * without blocking, after which UPH runs: notifications sent while it
 * was down are lost, and the listener must look for itself. */
#ifndef LOCUS_DB_LISTEN_H
#define LOCUS_DB_LISTEN_H

#include <stddef.h>
#include "common/metrics.h"

struct db_listen;

/* PAYLOAD of one notification, and the PID of the backend that sent it. */
typedef void (db_notify_h)(const char *payload, int be_pid, void *arg);
/* The connection is back; notifications may have been missed. */
typedef void (db_listen_up_h)(void *arg);

int db_listen_alloc(struct db_listen **lp, const char *conninfo,
		    const char *channel, db_notify_h *notifyh,
		    db_listen_up_h *uph, void *arg,
		    char *errbuf, size_t errsz);

/* Which of locus's connections L is, for locus_db_reconnects_total. */
void db_listen_metrics_conn_set(struct db_listen *l, enum metrics_conn conn);

#endif
