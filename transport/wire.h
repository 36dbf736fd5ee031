/* Every SIP message locus sends or receives, as libre's trace hook hands
 * it over (raw bytes): counted by method and status class for the
 * metrics, logged whole at log level debug, and given to the trace of
 * the user it concerns (transport/trace.h). */
#ifndef LOCUS_WIRE_H
#define LOCUS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/metrics.h"

/* What a message is, read from its first line and, for a response, its
 * CSeq header. */
struct wire_kind {
	bool request;
	enum metrics_method method;
	unsigned sclass;         /* response: 1 to 6 */
};

/* False for what is not a SIP message (a keep-alive, garbage). */
bool wire_classify(const uint8_t *pkt, size_t len, struct wire_kind *k);

/* Counts the message in metrics (locus_sip_requests_total and
 * locus_sip_responses_total). */
void wire_count(bool tx, const uint8_t *pkt, size_t len);

#endif
