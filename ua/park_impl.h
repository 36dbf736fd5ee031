/* The inside of parking, shared by park.c (one parked call's life) and
 * park_slot.c (the slots, and the INVITEs to them).  Internal to ua/. */
#ifndef LOCUS_UA_PARK_IMPL_H
#define LOCUS_UA_PARK_IMPL_H

#include <stdbool.h>
#include <re.h>
#include "ua/park_fsm.h"

enum { CAUSE_SIZE = 160, EVENTS_MAX = 4, SLOT_SIZE = 16, ID_SIZE = 20 };

struct park {
	struct ua *ua;
	const struct park_cfg *cfg;
	struct parked **slots;       /* by slot - first                   */
	struct list all;             /* struct parked, bridged ones too   */
};

struct parked {
	struct le le;
	struct park *p;
	char id[ID_SIZE];            /* its row's                          */
	uint32_t slot;
	char slot_str[SLOT_SIZE];
	enum park_state state;
	bool finished;
	char *parked_uri;            /* who is parked (From of its INVITE) */
	char *parker;                /* Referred-By URI, NULL if none      */
	struct leg *parked;          /* UAS                                */
	struct leg *parker_leg;      /* UAC: the call back                 */
	struct leg *retriever;       /* UAS                                */
	const struct sip_msg *retrieve_req;
	struct bridge *br;
	struct tmr t_parked, t_parker;
	uint32_t sdp_version;
	uint16_t fail_scode;         /* why the re-INVITE failed           */
	char fail_reason[64];
	char cause[CAUSE_SIZE];
	bool stepping;
	unsigned queued;
	struct {
		enum park_event e;
		char cause[CAUSE_SIZE];
	} queue[EVENTS_MAX];
};

/* One event through the parked call's state machine. */
void park_event(struct parked *pk, enum park_event e, const char *cause);
/* Parks MSG's caller in SLOT: answered with an answer in which nothing
 * flows.  NULL when it could not be (MSG has been answered). */
struct parked *parked_start(struct park *p, const struct sip_msg *msg,
			    uint32_t slot);
/* MSG, an INVITE to PK's slot, retrieves it. */
void parked_retrieve(struct parked *pk, const struct sip_msg *msg);
/* Ends the parked call's legs and lets it go. */
void parked_finish(struct parked *pk);
/* PK's slot is free again (park_slot.c). */
void park_slot_release(struct parked *pk);

#endif
