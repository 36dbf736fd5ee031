/* A query whose answer follows the database live: a connection of its own
 * LISTENs on a channel and runs the query once connected and again after
 * each notification, handing every answer whole to its user.  For small
 * tables that change rarely and must reach every node at once (traces:
 * transport/trace.c). */
#ifndef LOCUS_DB_WATCH_H
#define LOCUS_DB_WATCH_H

#include "common/metrics.h"

struct db_watch;
struct pg_result;

/* The query's rows (a libpq PGresult), the whole answer each time. */
typedef void (db_watch_h)(const struct pg_result *res, void *arg);

/*
 * Connects from the loop (never blocking), LISTENs on CHANNEL and runs
 * QUERY; then again after every notification on CHANNEL (notifications
 * that arrive while it runs make it run once more after).  A lost
 * connection is made again every second, and QUERY run again (whatever
 * was notified meanwhile is missed).  CONN names the connection in the
 * log and in the reconnect counter.  A failing QUERY is logged (once per
 * connection) and tried again at the next notification.
 */
int db_watch_alloc(struct db_watch **wp, const char *conninfo,
		   const char *channel, const char *query,
		   enum metrics_conn conn, db_watch_h *h, void *arg);

#endif
