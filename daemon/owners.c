#include <re.h>
#include "daemon/dispatch.h"
#include "daemon/owners.h"
#include "proxy/proxy.h"
#include "registrar/registrar.h"
#include "ua/ua.h"


static bool is_register(const struct sip_msg *msg, void *arg)
{
	return 0 == pl_strcmp(&msg->met, "REGISTER") && registrar_active(arg);
}


static void registrar_request(const struct sip_msg *msg, void *arg)
{
	registrar_handle(arg, msg);
}


static void proxy_request(const struct sip_msg *msg, void *arg)
{
	proxy_handle(arg, msg);
}


int owners_add(struct dispatch *d, struct registrar *reg, struct ua *ua,
	       struct proxy *px)
{
	int err = dispatch_add(d, is_register, registrar_request, reg);

	if (!err && ua)
		err = dispatch_add(d, ua_claim, ua_handle, ua);
	if (!err)
		err = dispatch_add(d, NULL, proxy_request, px);
	return err;
}
