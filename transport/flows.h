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

/* Whether a binding with these facts is reached only through its flow:
 * WebSocket devices (Contact host "*.invalid", RFC 7118 §5) always;
 * TCP/TLS devices that registered with a reg-id (RFC 5626 §6). */
bool flows_required(enum sip_transp tp, uint32_t reg_id, bool has_path);

#endif
