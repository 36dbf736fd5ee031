/* Click-to-call: the calls this node took from locus.call (ua/store.h),
 * each driven by the state machine of ua/call_fsm.h over two legs
 * (ua/leg.h): the caller's and, in bridge mode, the callee's. */
#ifndef LOCUS_UA_CALL_H
#define LOCUS_UA_CALL_H

#include <stdint.h>

struct call_row;
struct calls;
struct ua;

int  calls_alloc(struct calls **cp, struct ua *ua);
/* Places the call of ROW. */
void calls_start(struct calls *cs, const struct call_row *row);
/* locus.hangup(ID): ends the call if this node has it. */
void calls_hangup(struct calls *cs, uint64_t id);
/* Ends every call (shut-down). */
void calls_close(struct calls *cs);

#endif
