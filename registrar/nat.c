#include <string.h>
#include <re.h>
#include "registrar/nat.h"


/* "host", "host:port", "[v6]" or "[v6]:port"; *PORT is 0 when absent. */
static int sentby_split(struct pl *host, uint16_t *port,
			const struct pl *sentby)
{
	const char *p = sentby->p, *end = p + sentby->l, *colon;

	*port = 0;
	if (!sentby->l)
		return EBADMSG;
	if (*p == '[') {
		const char *rb = memchr(p, ']', sentby->l);

		if (!rb)
			return EBADMSG;
		host->p = p + 1;
		host->l = (size_t)(rb - p - 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	}
	else {
		colon = memchr(p, ':', sentby->l);
		host->p = p;
		host->l = (size_t)((colon ? colon : end) - p);
	}
	if (colon) {
		struct pl num = {colon + 1, (size_t)(end - colon - 1)};
		*port = (uint16_t)pl_u32(&num);
	}
	return 0;
}


bool reg_nat_private(const struct sa *sa)
{
	if (sa_af(sa) == AF_INET) {
		uint32_t a = sa_in(sa);

		return (a & 0xff000000) == 0x0a000000 ||   /* 10/8          */
			(a & 0xfff00000) == 0xac100000 ||  /* 172.16/12     */
			(a & 0xffff0000) == 0xc0a80000 ||  /* 192.168/16    */
			(a & 0xffc00000) == 0x64400000 ||  /* 100.64/10     */
			(a & 0xffff0000) == 0xa9fe0000;    /* 169.254/16    */
	}
#ifdef HAVE_INET6
	if (sa_af(sa) == AF_INET6) {
		const uint8_t *b = sa->u.in6.sin6_addr.s6_addr;

		return (b[0] & 0xfe) == 0xfc ||                /* fc00::/7  */
			(b[0] == 0xfe && (b[1] & 0xc0) == 0x80); /* fe80::/10 */
	}
#endif
	return false;
}


/* The top Via says where the device thinks it is: a sent-by address
 * other than the source, or (UDP with rport, RFC 3581) another port,
 * means something rewrote the packet on the way. */
static bool via_disagrees(const struct sip_msg *msg)
{
	const struct sip_via *via = &msg->via;
	struct pl host, rport;
	uint16_t port;
	struct sa sentby;

	if (sentby_split(&host, &port, &via->sentby))
		return false;
	if (0 == sa_set(&sentby, &host, 0) &&
	    !sa_cmp(&sentby, &msg->src, SA_ADDR))
		return true;
	return msg->tp == SIP_TRANSP_UDP &&
		0 == msg_param_exists(&via->params, "rport", &rport) &&
		sip_transp_port(SIP_TRANSP_UDP, port) != sa_port(&msg->src);
}


static bool contact_private(const struct sip_msg *msg,
			    const struct uri *contact)
{
	struct sa host;

	return 0 == sa_set(&host, &contact->host, 0) &&
		reg_nat_private(&host) && !reg_nat_private(&msg->src);
}


bool reg_nat_detect(enum nat_policy policy, const struct sip_msg *msg,
		    const struct uri *contact)
{
	switch (policy) {

	case NAT_ALWAYS:
		return true;

	case NAT_NEVER:
		return false;

	default:
		return via_disagrees(msg) || contact_private(msg, contact);
	}
}
