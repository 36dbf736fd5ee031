/* The connections devices registered over (RFC 5626 flows), as long as
 * they are open at this node.  A binding that must be reached through its
 * flow (WebSocket, or outbound over TCP/TLS: flows_required()) is a
 * target only while its flow is open. */
#ifndef LOCUS_FLOWS_H
#define LOCUS_FLOWS_H

#include <stdbool.h>
#include <re.h>

struct flows;
struct binding;

int  flows_alloc(struct flows **flp, struct sip *sip);

/* Watches the connection MSG (a request) came in on, once per
 * connection, as a flow of AOR (a canonical key); no-op for UDP.  Only
 * for a REGISTER that bound a device of AOR (authenticated, stored,
 * answered 200): while it is open, AOR's bindings with its peer address
 * are targets. */
int  flows_track(struct flows *fl, const struct sip_msg *msg,
		 const char *aor);

/* Whether B can be reached: true unless it needs a flow (see above)
 * that is not open here, for B's AOR. */
bool flows_reachable(const struct flows *fl, const struct binding *b);

/* Whether the connection B registered over (TCP, TLS, WS, WSS) is still
 * open here and carried a REGISTER of B's AOR: requests to B can take it
 * (libre finds a connection by its peer address). */
bool flows_connected(const struct flows *fl, const struct binding *b);

/* The flow MSG came in on, for an edge proxy's flow token (RFC 5626
 * §5.2): its identity *IDP, which a later connection from the same
 * address does not have; 0 for UDP, whose flows are not watched. */
int  flows_watch(struct flows *fl, const struct sip_msg *msg, uint64_t *idp);

/* Whether the flow of a token is alive: over UDP always; over a
 * connection while the one of identity ID, to PEER, is open. */
bool flows_alive(const struct flows *fl, enum sip_transp tp,
		 const struct sa *peer, uint64_t id);

/* Whether a binding with these facts is reached only through its flow:
 * WebSocket devices (Contact host "*.invalid", RFC 7118 §5) always;
 * TCP/TLS devices that registered with a reg-id (RFC 5626 §6). */
bool flows_required(enum sip_transp tp, uint32_t reg_id, bool has_path);

#endif
