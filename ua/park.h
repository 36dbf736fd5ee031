/* Call parking (features.park): slots such as 701-799 that a call is
 * transferred to and picked up from, as FreeSWITCH's valet parking does.
 * An INVITE to a free slot parks the caller there; one to a taken slot
 * retrieves the call parked there; one to the auto number parks in the
 * first free slot and tells the parker which with a MESSAGE (RFC 3428).
 * Each parked call runs the state machine of ua/park_fsm.h. */
#ifndef LOCUS_UA_PARK_H
#define LOCUS_UA_PARK_H

#include <stdbool.h>
#include <re.h>

struct park;
struct ua;

int  park_alloc(struct park **pp, struct ua *ua);
/* MSG's Request-URI is a slot or the auto number, in one of our
 * domains. */
bool park_is_slot(const struct park *p, const struct sip_msg *msg);
/* An INVITE to a slot that passed the gate. */
void park_invite(struct park *p, const struct sip_msg *msg);
/* locus.unpark(): ends the parked call of row ID, if this node has it. */
void park_unpark(struct park *p, const char *id);
/* Ends every parked call (shut-down). */
void park_close(struct park *p);

#endif
