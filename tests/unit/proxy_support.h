/* Shared helpers for the proxy unit tests (route, fwd, target, txn): a
 * hand-filled configuration - domain example.com, locus listening on
 * UDP 192.0.2.1:5060 and TCP 192.0.2.1:5061 - and SIP messages decoded
 * from printf-style text.  Include after <cmocka.h>.  Everything is
 * static inline so that a test that uses only some of it compiles without
 * unused-function warnings. */
#ifndef LOCUS_PROXY_SUPPORT_H
#define LOCUS_PROXY_SUPPORT_H

#include <stdarg.h>
#include <string.h>
#include <re.h>
#include "config/config.h"

#define PX_DOMAIN   "example.com"
#define PX_UDP_HOST "192.0.2.1"
#define PX_UDP_PORT 5060
#define PX_TCP_PORT 5061
#define PX_US       PX_UDP_HOST ":5060"

struct px_config {
	struct locus_config cfg;
	struct listen_cfg listen[2];
};


/* CFG: our domain and our two sockets, no relaying, Timer C 180 s. */
static inline void px_config_init(struct px_config *pc)
{
	static char dom[] = PX_DOMAIN;
	static char *domains[] = {dom};

	memset(pc, 0, sizeof(*pc));
	pc->cfg.domains = domains;
	pc->cfg.domainc = 1;
	pc->listen[0].tp = SIP_TRANSP_UDP;
	assert_int_equal(0, sa_set_str(&pc->listen[0].addr, PX_UDP_HOST,
				       PX_UDP_PORT));
	pc->listen[1].tp = SIP_TRANSP_TCP;
	assert_int_equal(0, sa_set_str(&pc->listen[1].addr, PX_UDP_HOST,
				       PX_TCP_PORT));
	pc->cfg.listen = pc->listen;
	pc->cfg.listenc = 2;
	pc->cfg.timer_c = 180;
	pc->cfg.log_level = LOG_LEVEL_ERROR;
}


/* A message decoded from the printf-style text FMT, as if received over
 * UDP from SRC ("ip:port"; NULL: 192.0.2.10:5062) at our UDP socket. */
static inline struct sip_msg *px_vdecode(const char *src, const char *fmt,
					 va_list ap)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_vprintf(mb, fmt, ap));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);    /* the message holds its own reference */
	assert_int_equal(0, sa_decode(&msg->src, src ? src : "192.0.2.10:5062",
				      strlen(src ? src : "192.0.2.10:5062")));
	assert_int_equal(0, sa_set_str(&msg->dst, PX_UDP_HOST, PX_UDP_PORT));
	msg->tp = SIP_TRANSP_UDP;
	return msg;
}


static inline struct sip_msg *px_decode(const char *fmt, ...)
{
	struct sip_msg *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = px_vdecode(NULL, fmt, ap);
	va_end(ap);
	return msg;
}


static inline struct sip_msg *px_decode_from(const char *src,
					     const char *fmt, ...)
{
	struct sip_msg *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = px_vdecode(src, fmt, ap);
	va_end(ap);
	return msg;
}


/* A request METHOD to RURI with the extra header lines HDRS (each ending
 * in CRLF) and no body. */
static inline struct sip_msg *px_request(const char *method, const char *ruri,
					 const char *hdrs)
{
	return px_decode("%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKpx1\r\n"
			 "From: <sip:alice@example.com>;tag=fa\r\n"
			 "To: <sip:bob@example.com>\r\n"
			 "Call-ID: px-call\r\nCSeq: 1 %s\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 method, ruri, method, hdrs ? hdrs : "");
}


/* The text of PL, NUL-terminated, in BUF. */
static inline const char *px_str(char *buf, size_t sz, const struct pl *pl)
{
	buf[0] = '\0';
	if (pl_isset(pl))
		(void)pl_strcpy(pl, buf, sz);
	return buf;
}

#endif
