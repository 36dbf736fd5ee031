/* The one SDP locus writes itself: an answer that takes part in no media.
 * Everything else locus does with SDP is carrying it, byte for byte,
 * from one leg to the other (RFC 3725). */
#ifndef LOCUS_UA_SDP_H
#define LOCUS_UA_SDP_H

#include <stdbool.h>
#include <re.h>

#define SDP_CTYPE "application/sdp"

/* True when MSG has a body and its Content-Type is application/sdp. */
bool sdp_in(const struct sip_msg *msg);

/*
 * An answer to OFFER (RFC 3264 §6) in which no media flows: every stream
 * the offer accepts is answered with its first format and a=inactive
 * (§5.1), on the discard port and the hold address 0.0.0.0 (§8.4), so
 * that no peer sends media towards locus; a stream offered with port 0
 * stays rejected.  VERSION goes into the o= line: a later answer of the
 * same session needs a higher one (RFC 4566 §5.2).  EBADMSG when OFFER
 * has no m= line.
 */
int sdp_inactive_answer(struct mbuf **answerp, const struct pl *offer,
			uint32_t version);

#endif
