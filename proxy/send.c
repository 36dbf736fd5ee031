#define _GNU_SOURCE   /* memmem() */
#include <string.h>
#include <re.h>
#include "proxy/fwd.h"
#include "proxy/send.h"
#include "proxy/stamp.h"
#include "proxy/target.h"

/* A stateless branch: the magic cookie, "sl", and an MD5 in hex. */
#define STATELESS_PREFIX "z9hG4bKsl"
enum {
	STATELESS_BRANCH_LEN = sizeof(STATELESS_PREFIX) - 1 + 2 * MD5_SIZE,
	VIA_MAX = 512,                 /* our Via line, at most           */
};


/* The branch parameter of the Via line libre just wrote at the end of
 * MB (it draws branches itself, at random). */
static int written_branch(struct pl *branch, const struct mbuf *mb)
{
	const char *start = (const char *)mb->buf, *end = start + mb->end;
	const char *p = end - 2, *b;

	while (p > start && p[-1] != '\n')
		--p;    /* the start of the Via line */
	b = memmem(p, (size_t)(end - p), ";branch=", 8);
	if (!b)
		return ENOENT;
	branch->p = b + 8;
	for (b = branch->p; b < end && *b != ';' && *b != '\r'; b++)
		;
	branch->l = (size_t)(b - branch->p);
	return branch->l ? 0 : ENOENT;
}


/* ";lh=...;lt=..." for our Via with BRANCH. */
static int via_params_write(struct mbuf *mb, const struct send_req *r,
			    const struct pl *branch)
{
	char tag[STAMP_VIA_LEN + 1];
	int err = 0;

	if (r->loop_hash) {
		err = mbuf_write_str(mb, ";lh=");
		err |= mbuf_write_str(mb, r->loop_hash);
	}
	if (!err && r->stamp) {
		if (stamp_via(tag, r->stamp, branch))
			return EIO;   /* fail closed: nothing leaves unstamped */
		err = mbuf_write_str(mb, ";lt=");
		err |= mbuf_write_str(mb, tag);
	}
	return err;
}


/* "<sip:ADDR;lr;ls=STAMP>", with ";transport=tcp" and the like when not
 * UDP; the stamp lets the callee's requests of this dialog through to the
 * caller (proxy/dialog.c). */
static int rr_entry_write(struct mbuf *mb, enum sip_transp tp,
			  const struct sa *addr, const char *stamp)
{
	return mbuf_printf(mb, "Record-Route: <sip:%J%s;lr;ls=%s>\r\n", addr,
			   tp == SIP_TRANSP_UDP ? "" : sip_transp_param(tp),
			   stamp);
}


static int record_route_write(struct mbuf *mb, const struct send_req *r,
			      enum sip_transp tp, const struct sa *laddr)
{
	const struct sip_msg *msg = r->msg;
	int err;

	err = rr_entry_write(mb, tp, laddr, r->rr_stamp);

	/* RFC 5658: when the request changes transport or interface, a
	 * second entry names the side it came in on. */
	if (!err && (tp != msg->tp || !sa_cmp(laddr, &msg->dst, SA_ALL)))
		err = rr_entry_write(mb, msg->tp, &msg->dst, r->rr_stamp);
	return err;
}


/* What follows our Via: Record-Route, Route, the target's own lines and
 * Path. */
static int after_via_write(struct mbuf *mb, const struct send_req *r,
			   enum sip_transp tp, const struct sa *src)
{
	const struct target *t = r->tgt;
	int err = 0;

	if (r->rr_stamp)
		err = record_route_write(mb, r, tp, src);
	if (!err && t->routes)
		err = mbuf_printf(mb, "Route: %s\r\n", t->routes);
	if (!err && t->headers)
		err = mbuf_write_str(mb, t->headers);
	/* RFC 3327 §5.2: our Path value goes on top, and the registrar must
	 * honour it; RFC 5626 §5.1: ";ob" only from the first hop */
	if (!err && t->path_token)
		err = mbuf_printf(mb, "Path: <sip:%s@%J%s;lr%s>\r\n"
				  "Require: path\r\n", t->path_token, src,
				  tp == SIP_TRANSP_UDP ? "" :
				  sip_transp_param(tp),
				  t->path_ob ? ";ob" : "");
	return err;
}


int send_branch_headers(struct mbuf *mb, const struct send_req *r,
			enum sip_transp tp, const struct sa *src)
{
	struct pl branch;
	int err;

	if (mb->end < 2 || mb->pos != mb->end || written_branch(&branch, mb))
		return EINVAL;
	mb->pos -= 2;
	mb->end -= 2;
	err = via_params_write(mb, r, &branch);
	if (!err)
		err = mbuf_write_str(mb, "\r\n");
	if (!err)
		err = after_via_write(mb, r, tp, src);
	return err;
}


/* ---- stateless (RFC 3261 §16.11) ------------------------------------- */

/* Where HOP (a target's next-hop URI) is, when it is a numeric address
 * reached over UDP as sip_request() would reach it: maddr before the
 * host, the port or 5060.  EAGAIN for any other. */
static int udp_dst(struct sa *dst, const char *hop)
{
	struct pl pl, tp, host;
	struct uri uri;

	pl_set_str(&pl, hop);
	if (uri_decode(&uri, &pl) || pl_strcasecmp(&uri.scheme, "sip"))
		return EAGAIN;
	if (0 == msg_param_decode(&uri.params, "transport", &tp) &&
	    pl_strcasecmp(&tp, "udp"))
		return EAGAIN;
	if (msg_param_decode(&uri.params, "maddr", &host))
		host = uri.host;
	if (sa_set(dst, &host, uri.port ? uri.port : SIP_PORT))
		return EAGAIN;
	return 0;
}


/* §16.11: "the branch ... MUST be the same for each retransmission" and
 * differ between transactions: a hash of what identifies the received
 * request's transaction (RFC 3261 §17.2.3: its branch and sent-by; a
 * request of RFC 2543 carries the key compat/sip_decode.c made it as its
 * branch). */
static void stateless_branch(char out[STATELESS_BRANCH_LEN + 1],
			     const struct sip_msg *msg)
{
	static const char hex[] = "0123456789abcdef";
	const struct pl *branch = &msg->via.branch, *sentby = &msg->via.sentby;
	size_t len = branch->l + 1 + sentby->l, n;
	uint8_t md[MD5_SIZE];
	char buf[256];

	if (len <= sizeof(buf)) {
		if (branch->l)
			memcpy(buf, branch->p, branch->l);
		buf[branch->l] = '|';
		if (sentby->l)
			memcpy(buf + branch->l + 1, sentby->p, sentby->l);
		md5((const uint8_t *)buf, len, md);
	}
	else {
		(void)md5_printf(md, "%r|%r", branch, sentby);
	}
	n = sizeof(STATELESS_PREFIX) - 1;
	memcpy(out, STATELESS_PREFIX, n);
	for (size_t i = 0; i < MD5_SIZE; i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 0xf];
	}
	out[n] = '\0';
}


/* "ADDR:PORT", an IPv6 address in brackets, as "%J" prints it. */
static int addr_write(struct mbuf *mb, const struct sa *sa)
{
	char host[64], port[6];
	uint16_t p = sa_port(sa);
	size_t n = sizeof(port);
	int err;

	if (sa_ntop(sa, host, sizeof(host)))
		return mbuf_printf(mb, "%J", sa);
	do {
		port[--n] = (char)('0' + p % 10);
		p /= 10;
	} while (p);
	port[--n] = ':';
	err = sa_af(sa) == AF_INET6 ? mbuf_write_u8(mb, '[') : 0;
	err |= mbuf_write_str(mb, host);
	err |= sa_af(sa) == AF_INET6 ? mbuf_write_u8(mb, ']') : 0;
	err |= mbuf_write_mem(mb, (const uint8_t *)port + n, sizeof(port) - n);
	return err;
}


int send_stateless(struct sip *sip, const struct send_req *r,
		   const struct fwd_request_opts *opts)
{
	const struct sip_msg *msg = r->msg;
	const struct target *t = r->tgt;
	char branch[STATELESS_BRANCH_LEN + 1];
	struct sa dst, laddr;
	struct mbuf *mb;
	struct pl bpl;
	int err;

	if (udp_dst(&dst, t->hop) ||
	    sip_transp_laddr(sip, &laddr, SIP_TRANSP_UDP, &dst))
		return EAGAIN;

	stateless_branch(branch, msg);
	pl_set_str(&bpl, branch);
	mb = mbuf_alloc(msg->met.l + strlen(t->ruri) + VIA_MAX +
			(t->routes ? strlen(t->routes) + 16 : 0) +
			msg->mb->end);
	if (!mb)
		return ENOMEM;
	err = mbuf_write_pl(mb, &msg->met);
	err |= mbuf_write_u8(mb, ' ');
	err |= mbuf_write_str(mb, t->ruri);
	err |= mbuf_write_str(mb, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	err |= addr_write(mb, &laddr);
	err |= mbuf_write_str(mb, ";branch=");
	err |= mbuf_write_str(mb, branch);
	err |= mbuf_write_str(mb, ";rport");
	if (!err)
		err = via_params_write(mb, r, &bpl);
	if (!err)
		err = mbuf_write_str(mb, "\r\n");
	if (!err)
		err = after_via_write(mb, r, SIP_TRANSP_UDP, &laddr);
	if (!err)
		err = fwd_request_body(mb, msg, opts);
	if (!err) {
		mb->pos = 0;
		err = sip_send(sip, NULL, SIP_TRANSP_UDP, &dst, mb);
	}
	mem_deref(mb);
	return err;
}


bool send_branch_stateless(const struct pl *branch)
{
	return branch->l == STATELESS_BRANCH_LEN &&
		0 == memcmp(branch->p, STATELESS_PREFIX,
			    sizeof(STATELESS_PREFIX) - 1);
}
