#include <re.h>
#include "daemon/dispatch.h"

struct dispatch {
	struct list owners;
	struct sip *sip;
};

struct owner {
	struct le le;
	dispatch_claim_h *claimh;
	dispatch_handle_h *handleh;
	void *arg;
};


static void owner_destructor(void *arg)
{
	struct owner *o = arg;

	list_unlink(&o->le);
	mem_deref(o->arg);
}


static void dispatch_destructor(void *arg)
{
	struct dispatch *d = arg;

	list_flush(&d->owners);
}


int dispatch_alloc(struct dispatch **dp, struct sip *sip)
{
	struct dispatch *d = mem_zalloc(sizeof(*d), dispatch_destructor);

	if (!d)
		return ENOMEM;
	list_init(&d->owners);
	d->sip = sip;
	*dp = d;
	return 0;
}


int dispatch_add(struct dispatch *d, dispatch_claim_h *claimh,
		 dispatch_handle_h *handleh, void *arg)
{
	struct owner *o = mem_zalloc(sizeof(*o), owner_destructor);

	if (!o)
		return ENOMEM;
	o->claimh = claimh;
	o->handleh = handleh;
	o->arg = mem_ref(arg);
	list_append(&d->owners, &o->le, o);
	return 0;
}


void dispatch_request(const struct sip_msg *msg, void *arg)
{
	struct dispatch *d = arg;

	for (struct le *le = d->owners.head; le; le = le->next) {
		struct owner *o = le->data;

		if (!o->claimh || o->claimh(msg, o->arg)) {
			o->handleh(msg, o->arg);
			return;
		}
	}
	if (pl_strcmp(&msg->met, "ACK"))
		(void)sip_reply(d->sip, msg, 501, "Not Implemented");
}
