#include <ctype.h>
#include <string.h>
#include <re.h>
#include "config/config.h"
#include "proxy/route.h"


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


/* PORT in decimal at OUT (no NUL); the number of digits.  Every request
 * has its next hop printed. */
static size_t port_print(char *out, uint16_t port)
{
	char digits[5];
	size_t n = 0, len;

	do {
		digits[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	for (len = n; n; )
		*out++ = digits[--n];
	return len;
}


void route_hop_print(char out[ROUTE_HOP_SIZE], const struct uri *uri)
{
	struct pl host = uri->host, maddr;
	bool v6 = uri->af == AF_INET6;
	size_t i, n = 0;

	/* RFC 3261 §19.1.1: maddr, when present, is where the request goes
	 * (libre sends there); a hop that named the host instead would let
	 * a stamp for one host carry requests to any other */
	if (0 == msg_param_decode(&uri->params, "maddr", &maddr) && maddr.l) {
		host = maddr;
		v6 = false;   /* an IPv6 maddr is written with its brackets */
	}
	out[0] = '\0';
	if (host.l && host.p[host.l - 1] == '.')
		--host.l;
	if (!host.l || host.l > ROUTE_HOP_SIZE - 16)
		return;
	if (v6)
		out[n++] = '[';
	for (i = 0; i < host.l; i++)
		out[n++] = (char)tolower((unsigned char)host.p[i]);
	if (v6)
		out[n++] = ']';
	out[n++] = ':';
	n += port_print(out + n, uri_port(uri));
	out[n] = '\0';
}


/* The URI of a name-addr header value ("<sip:x;lr>;param"). */
static int value_uri(struct uri *uri, const struct pl *val)
{
	struct sip_addr addr;

	if (sip_addr_decode(&addr, val))
		return EBADMSG;
	*uri = addr.uri;
	return 0;
}


struct upstream {
	const struct locus_config *cfg;
	char *out;
};


/* libre lists each value of a comma-separated Record-Route on its own
 * only through sip_msg_hdr_apply(). */
static bool upstream_value(const struct sip_hdr *hdr,
			   const struct sip_msg *msg, void *arg)
{
	struct upstream *up = arg;
	struct uri uri;

	(void)msg;
	if (value_uri(&uri, &hdr->val))
		return true;
	if (route_uri_is_us(up->cfg, &uri))
		return false;
	route_hop_print(up->out, &uri);
	return true;
}


void route_upstream_hop(char out[ROUTE_HOP_SIZE], bool *by_contact,
			const struct sip_msg *req,
			const struct locus_config *cfg)
{
	struct upstream up = {cfg, out};
	const struct sip_hdr *contact;
	struct uri uri;

	out[0] = '\0';
	*by_contact = false;
	if (sip_msg_hdr_apply(req, true, SIP_HDR_RECORD_ROUTE, upstream_value,
			      &up))
		return;
	contact = sip_msg_hdr(req, SIP_HDR_CONTACT);
	if (contact && 0 == value_uri(&uri, &contact->val)) {
		route_hop_print(out, &uri);
		*by_contact = true;
	}
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
		     const struct locus_config *cfg)
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

		err = value_uri(&uri, &hdr->val);
		if (err)
			return err;
		if (!route_uri_is_us(cfg, &uri)) {
			ri->next_route = hdr->val;
			ri->next_uri = uri;
			break;
		}
		if (!ri->drop_routes++)
			ri->flow = uri.user;
		if (!pl_isset(&ri->stamp))
			(void)msg_param_decode(&uri.params, "ls", &ri->stamp);
		if (!pl_isset(&ri->origin))
			(void)msg_param_decode(&uri.params, "lo", &ri->origin);
	}
	route_hop_print(ri->hop, pl_isset(&ri->next_route) ? &ri->next_uri
							  : &ri->uri);
	return 0;
}
