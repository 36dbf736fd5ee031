/* Two legs joined: what one party asks within its dialog is asked of the
 * other (RFC 3725 §7, continued processing): a re-INVITE or UPDATE (hold,
 * resume, a new codec, a session refresh), INFO (DTMF), REFER and NOTIFY,
 * with their bodies byte for byte; the answer goes back the same way.
 * locus stays in the signalling path as a B2BUA; the media flows between
 * the parties. */
#ifndef LOCUS_UA_BRIDGE_H
#define LOCUS_UA_BRIDGE_H

#include <stdint.h>

struct bridge;
struct leg;

/* LEG's dialog ended (SCODE and REASON as in struct leg_events); the
 * owner ends the call. */
typedef void (bridge_end_h)(struct leg *leg, uint16_t scode,
			    const char *reason, void *arg);

/* Takes over the events of A and B (the owner keeps its references to
 * them) until the bridge goes. */
int bridge_alloc(struct bridge **bp, struct leg *a, struct leg *b,
		 bridge_end_h *endh, void *arg);

/* The owner lets go of BR: its end handler and session timer stop at
 * once (a relayed request still in flight keeps the bridge itself until
 * its answer, and must not call the owner back).  Returns NULL. */
struct bridge *bridge_close(struct bridge *br);

#endif
