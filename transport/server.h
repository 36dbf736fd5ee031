/* transport/: how SIP messages come and go.  libre's SIP stack and the
 * configured listeners (UDP, TCP, TLS, WebSocket: transport/sipws.h), the
 * connections devices registered over (flows: transport/flows.h), and the
 * checks every received request passes before its owner sees it.  Below
 * registrar/ and proxy/, which send through it; it knows neither.
 *
 * This header: the front door, the stack and its listeners. */
#ifndef LOCUS_SERVER_H
#define LOCUS_SERVER_H

#include <re.h>

struct flows;
struct locus_config;
struct server;

/* A request that passed every check (sipmsg_request_problem()). */
typedef void (server_request_h)(const struct sip_msg *msg, void *arg);

/* Creates the SIP stack and binds every configured listener; errbuf
 * names the listener that failed and why. */
int  server_alloc(struct server **srvp, const struct locus_config *cfg,
		  char *errbuf, size_t errsz);
struct sip *server_sip(const struct server *srv);
/* The connections devices registered over (transport/flows.h). */
struct flows *server_flows(const struct server *srv);
/* Every message in and out is shown to TRACE (transport/trace.h); NULL
 * for none.  TRACE must outlive SRV's SIP stack or be unset first. */
struct trace;
void server_trace_set(struct server *srv, struct trace *trace);
/* Starts taking requests: each that passes goes to REQH. */
int  server_start(struct server *srv, server_request_h *reqh, void *arg);
/* What every received request goes through (after libre decoded it):
 * the checks, with a 400 (or 505) naming what is wrong, then REQH.  The
 * fuzzer calls it with messages of its own making. */
void server_request(struct server *srv, const struct sip_msg *msg);
/* Closes the SIP stack's transactions and connections at shutdown. */
void server_close(struct server *srv);

#endif
