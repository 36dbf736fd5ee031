/* The SIP front door: libre's stack, the configured listeners, and the
 * dispatch of each request to the registrar or the proxy. */
#ifndef LOCUS_SERVER_H
#define LOCUS_SERVER_H

#include <re.h>

struct flows;
struct locus_config;
struct proxy;
struct registrar;
struct server;

/* Creates the SIP stack and binds every configured listener; errbuf
 * names the listener that failed and why. */
int  server_alloc(struct server **srvp, const struct locus_config *cfg,
		  char *errbuf, size_t errsz);
struct sip *server_sip(const struct server *srv);
/* The connections devices registered over (transport/flows.h). */
struct flows *server_flows(const struct server *srv);
/* Starts dispatching requests: REGISTERs to REG, the rest to PROXY. */
int  server_start(struct server *srv, struct registrar *reg,
		  struct proxy *proxy);
/* What every received request goes through (after libre decoded it):
 * validation, then the registrar or the proxy.  The fuzzer calls it with
 * messages of its own making. */
void server_request(struct server *srv, const struct sip_msg *msg);
/* Closes the SIP stack's transactions and connections at shutdown. */
void server_close(struct server *srv);

#endif
