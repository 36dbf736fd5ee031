/* HEP version 3 (the Homer Encapsulation Protocol): one captured SIP
 * message with its addresses, ports and time, as Homer and other
 * collectors take it over UDP.  Used for traces (transport/trace.c). */
#ifndef LOCUS_HEP_H
#define LOCUS_HEP_H

#include <stdint.h>
#include <re.h>

struct hep_capture {
	enum sip_transp tp;
	const struct sa *src;
	const struct sa *dst;
	uint64_t time_us;        /* wall clock, microseconds since the epoch */
	uint32_t agent_id;       /* who captured it (trace.hep_id)         */
	const uint8_t *msg;
	size_t len;
};

/* Writes C as one HEP3 packet at MB's position.  EAFNOSUPPORT when the
 * addresses are not both IPv4 or both IPv6, EMSGSIZE when the packet would
 * exceed HEP's 65535 bytes. */
int hep_encode(struct mbuf *mb, const struct hep_capture *c);

#endif
