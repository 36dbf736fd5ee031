/*
 * The slots of features.park and the INVITEs to them: a free slot parks,
 * a taken one retrieves, the auto number parks in the first free slot
 * and tells the parker which (RFC 3428 MESSAGE).
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "ua/core.h"
#include "ua/park.h"
#include "ua/park_fsm.h"
#include "ua/park_impl.h"

/* ---- slots ---------------------------------------------------------- */

/* The slot number USER names, if it is one of ours: all digits, as many
 * as the configured slots have, within them. */
static bool slot_of(const struct park *p, const struct pl *user,
		    uint32_t *slot)
{
	uint32_t n = 0;

	if (user->l != p->cfg->digits)
		return false;
	for (size_t i = 0; i < user->l; i++) {
		if (user->p[i] < '0' || user->p[i] > '9')
			return false;
		n = n * 10 + (uint32_t)(user->p[i] - '0');
	}
	if (n < p->cfg->first || n > p->cfg->last)
		return false;
	*slot = n;
	return true;
}


static bool is_auto(const struct park *p, const struct pl *user)
{
	return p->cfg->auto_number &&
		0 == pl_strcmp(user, p->cfg->auto_number);
}


bool park_is_slot(const struct park *p, const struct sip_msg *msg)
{
	uint32_t slot;

	return config_is_our_domain(p->ua->cfg, &msg->uri.host) &&
		(is_auto(p, &msg->uri.user) ||
		 slot_of(p, &msg->uri.user, &slot));
}


static struct parked **slot_ref(struct park *p, uint32_t slot)
{
	return &p->slots[slot - p->cfg->first];
}


static bool first_free(const struct park *p, uint32_t *slot)
{
	for (uint32_t s = p->cfg->first; s <= p->cfg->last; s++) {
		if (!p->slots[s - p->cfg->first]) {
			*slot = s;
			return true;
		}
	}
	return false;
}


void park_slot_release(struct parked *pk)
{
	struct parked **ref = slot_ref(pk->p, pk->slot);

	if (*ref == pk)
		*ref = NULL;
}


/* RFC 3428: "Parked at 703" to the parker, from the auto number. */
static void tell_parker(struct parked *pk, const struct sip_msg *msg)
{
	char from[UA_URI_SIZE], text[64];
	int err;

	if (!pk->parker)
		return;
	(void)re_snprintf(from, sizeof(from), "sip:%r@%r", &msg->uri.user,
			  &msg->uri.host);
	(void)re_snprintf(text, sizeof(text), "Parked at %s", pk->slot_str);
	err = ua_message(pk->p->ua, from, pk->parker, "text/plain", text);
	if (err)
		log_warn("ua: MESSAGE to %s not sent: %m", pk->parker, err);
}


static void park_here(struct park *p, const struct sip_msg *msg,
		      uint32_t slot)
{
	struct parked *pk = parked_start(p, msg, slot);

	if (!pk)
		return;
	*slot_ref(p, slot) = pk;
	if (is_auto(p, &msg->uri.user))
		tell_parker(pk, msg);
}


void park_invite(struct park *p, const struct sip_msg *msg)
{
	struct parked *pk;
	uint32_t slot;

	if (is_auto(p, &msg->uri.user)) {
		if (!first_free(p, &slot)) {
			(void)sip_treply(NULL, p->ua->sip, msg, 486, "Busy"
					 " Here: No Free Park Slot");
			return;
		}
		park_here(p, msg, slot);
		return;
	}
	if (!slot_of(p, &msg->uri.user, &slot)) {
		(void)sip_treply(NULL, p->ua->sip, msg, 404, "Not Found");
		return;
	}
	pk = *slot_ref(p, slot);
	if (!pk)
		park_here(p, msg, slot);
	else if (pk->state == PS_PARKED)
		parked_retrieve(pk, msg);
	else
		(void)sip_treply(NULL, p->ua->sip, msg, 486, "Busy Here: Park"
				 " Slot Busy");
}


void park_unpark(struct park *p, const char *id)
{
	for (struct le *le = p->all.head; le; le = le->next) {
		struct parked *pk = le->data;
		if (0 == strcmp(pk->id, id)) {
			park_event(pk, PE_UNPARK, "locus.unpark()");
			return;
		}
	}
}


void park_close(struct park *p)
{
	struct le *le;

	/* bridged calls too: they end with their dialogs */
	while ((le = list_head(&p->all))) {
		struct parked *pk = le->data;
		if (park_fsm_holds_slot(pk->state))
			park_event(pk, PE_UNPARK, "locus stopped");
		else
			parked_finish(pk);
	}
}


static void park_destructor(void *arg)
{
	struct park *p = arg;

	park_close(p);
	mem_deref(p->slots);
}


int park_alloc(struct park **pp, struct ua *ua)
{
	struct park *p = mem_zalloc(sizeof(*p), park_destructor);

	if (!p)
		return ENOMEM;
	p->ua = ua;
	p->cfg = &ua->cfg->park;
	p->slots = mem_zalloc((p->cfg->last - p->cfg->first + 1) *
			      sizeof(*p->slots), NULL);
	if (!p->slots) {
		mem_deref(p);
		return ENOMEM;
	}
	*pp = p;
	return 0;
}
