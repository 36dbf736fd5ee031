#include <string.h>
#include <re.h>
#include "config/config.h"
#include "proxy/route.h"
#include "proxy/stamp.h"


static uint16_t uri_port(const struct uri *uri)
{
	if (uri->port)
		return uri->port;
	return 0 == pl_strcasecmp(&uri->scheme, "sips") ? SIP_PORT_TLS
							: SIP_PORT;
}


static bool is_listen_port(const struct locus_config *cfg, uint16_t port)
{
	for (size_t i = 0; i < cfg->listenc; i++) {
		if (sa_port(&cfg->listen[i].addr) == port)
			return true;
	}
	return false;
}


bool route_uri_is_our_socket(const struct locus_config *cfg,
			     const struct uri *uri)
{
	struct sa host;

	if (sa_set(&host, &uri->host, uri_port(uri)))
		return false;
	for (size_t i = 0; i < cfg->listenc; i++) {
		if (sa_cmp(&host, &cfg->listen[i].addr, SA_ALL))
			return true;
	}
	return false;
}


bool route_uri_is_us(const struct locus_config *cfg, const struct uri *uri)
{
	if (route_uri_is_our_socket(cfg, uri))
		return true;
	return config_is_our_domain(cfg, &uri->host) &&
		(!uri->port || is_listen_port(cfg, uri->port));
}


/* Our Record-Route carries ls=<stamp over the Call-ID> (txn.c). */
static bool route_stamped(const struct uri *uri, const struct sip_msg *msg,
			  const struct stamp *stamp)
{
	struct pl ls;

	return 0 == msg_param_decode(&uri->params, "ls", &ls) &&
		stamp_dialog_check(stamp, &msg->callid, &ls);
}


/* The URI inside one Route value ("<sip:x;lr>;param"). */
static int route_value_uri(struct uri *uri, const struct pl *val)
{
	struct sip_addr addr;

	if (sip_addr_decode(&addr, val))
		return EBADMSG;
	*uri = addr.uri;
	return 0;
}


static const struct sip_hdr *route_nth(const struct sip_msg *msg,
				       uint32_t n)
{
	for (struct le *le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		if (hdr->id == SIP_HDR_ROUTE && n-- == 0)
			return hdr;
	}
	return NULL;
}


/* RFC 3261 §16.4: "If the Request-URI contains a value this proxy
 * previously placed into a Record-Route header field ... replace the
 * Request-URI with the last value from the Route header field". */
static int strict_router_fix(struct route_info *ri, const struct sip_msg *msg,
			     const struct locus_config *cfg, uint32_t routes)
{
	const struct sip_hdr *last;
	struct sip_addr addr;

	if (!routes || pl_isset(&msg->uri.user) ||
	    !route_uri_is_our_socket(cfg, &msg->uri))
		return 0;

	last = route_nth(msg, routes - 1);
	if (sip_addr_decode(&addr, &last->val))
		return EBADMSG;
	ri->ruri = addr.auri;
	ri->uri = addr.uri;
	ri->drop_last_route = true;
	return 0;
}


int route_preprocess(struct route_info *ri, const struct sip_msg *msg,
		     const struct locus_config *cfg,
		     const struct stamp *stamp)
{
	uint32_t routes = sip_msg_hdr_count(msg, SIP_HDR_ROUTE);
	uint32_t usable;
	int err;

	memset(ri, 0, sizeof(*ri));
	ri->ruri = msg->ruri;
	ri->uri = msg->uri;

	err = strict_router_fix(ri, msg, cfg, routes);
	if (err)
		return err;
	usable = routes - (ri->drop_last_route ? 1 : 0);

	while (ri->drop_routes < usable) {
		const struct sip_hdr *hdr = route_nth(msg, ri->drop_routes);
		struct uri uri;

		err = route_value_uri(&uri, &hdr->val);
		if (err)
			return err;
		if (!route_uri_is_us(cfg, &uri)) {
			ri->next_route = hdr->val;
			ri->next_uri = uri;
			break;
		}
		++ri->drop_routes;
		if (route_stamped(&uri, msg, stamp))
			ri->routed_by_us = true;
	}
	return 0;
}
