/* SIP over WebSocket (RFC 7118) with libre 1.1.0's server side, made
 * usable: see sipws.c for the three defects it works around. */
#ifndef LOCUS_SIPWS_H
#define LOCUS_SIPWS_H

#include <re.h>

struct listen_cfg;

/* Adds a ws or wss listener to SIP.  For wss, L's certificate and key
 * must already have been checked (server.c's tls_context()). */
int  sipws_listen(struct sip *sip, const struct listen_cfg *l,
		  char *errbuf, size_t errsz);

/* Call for every message received over WS/WSS: keeps its connection
 * open while it is in use and lets requests to its peer leave. */
void sipws_received(const struct sip *sip, const struct sip_msg *msg);

typedef void (sipws_close_h)(int err, void *arg);

/* Calls CLOSEH(err, ARG) once, when libre closes the WS/WSS connection
 * MSG came in on; *WATCHP is then NULL.  mem_deref(*WATCHP) stops
 * watching.  EPROTO when MSG's connection is not one we can watch. */
int  sipws_watch(void **watchp, const struct sip *sip,
		 const struct sip_msg *msg, sipws_close_h *closeh, void *arg);

#endif
