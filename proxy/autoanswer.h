/* Auto-answer signalling that a caller writes itself (Call-Info
 * answer-after, Alert-Info alert-autoanswer / Ring-Answer / Auto Answer,
 * Answer-Mode, Priv-Answer-Mode, P-Auto-Answer, a Request-URI
 * ;intercom=true) makes the callee's phone answer by itself and open its
 * microphone: whoever can reach the proxy could listen into any office.
 * locus removes all of it from every INVITE it forwards, except from the
 * peers in intercom.trusted; the only auto-answer signalling a device
 * then gets is what locus itself adds to an authorised intercom call
 * (features/intercom.c, through the seam in proxy.h). */
#ifndef LOCUS_AUTOANSWER_H
#define LOCUS_AUTOANSWER_H

#include <stdbool.h>
#include <re.h>

struct locus_config;
struct route_info;

/* True when MSG is an INVITE whose auto-answer signalling is removed
 * before it is forwarded: it does not come from intercom.trusted, nor
 * from locus's own user agent (RI->from_locus: click-to-call's
 * auto_answer is locus's to ask for). */
bool autoanswer_strip_wanted(const struct locus_config *cfg,
			     const struct sip_msg *msg,
			     const struct route_info *ri);

/* True when HDR, one header line as received, is or may hold
 * auto-answer signalling. */
bool autoanswer_header(const struct sip_hdr *hdr);

/* Writes the header line HDR without its auto-answer signalling: a
 * Call-Info or Alert-Info line keeps its other entries, in order, and
 * goes when none is left; Answer-Mode and the like go whole. */
int autoanswer_header_write(struct mbuf *mb, const struct sip_hdr *hdr);

/* Removes every "intercom" parameter (any value, any case) from the
 * parameters of the URI in *URIP, a mem string it may replace. */
int autoanswer_uri_strip(char **urip);

#endif
