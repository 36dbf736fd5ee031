#include <string.h>
#include <netinet/in.h>
#include <re.h>
#include "sip/param.h"
#include "sip/sipmsg.h"
#include "proxy/autoanswer.h"
#include "proxy/fwd.h"

enum { DEFAULT_MAX_FORWARDS = 70 };


/* "NAME: VALUE\r\n", as "%r: %r\r\n" prints it (this runs for every
 * header of every forwarded request). */
static int line_write(struct mbuf *mb, const struct pl *name,
		      const struct pl *val)
{
	int err = 0;

	if (name->l)
		err = mbuf_write_mem(mb, (const uint8_t *)name->p, name->l);
	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)": ", 2);
	if (!err && val->l)
		err = mbuf_write_mem(mb, (const uint8_t *)val->p, val->l);
	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)"\r\n", 2);
	return err;
}


static int max_forwards_write(struct mbuf *mb, const struct sip_hdr *hdr,
			      const struct sip_msg *req)
{
	uint32_t mf = pl_u32(&req->maxfwd);

	return mbuf_printf(mb, "%r: %u\r\n", &hdr->name, mf ? mf - 1 : 0);
}


int fwd_request_body(struct mbuf *mb, const struct sip_msg *req,
		     const struct fwd_request_opts *opts)
{
	uint32_t routes = sip_msg_hdr_count(req, SIP_HDR_ROUTE);
	uint32_t route_idx = 0, vias = 0;
	int err = 0;

	for (struct le *le = req->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:
			err = vias++ ? line_write(mb, &hdr->name, &hdr->val)
				     : sipmsg_top_via_write(mb, hdr, req);
			break;

		case SIP_HDR_ROUTE:
			/* libre lists each Route value on its own */
			++route_idx;
			if (route_idx <= opts->drop_routes ||
			    (opts->drop_last_route && route_idx == routes))
				break;
			err = line_write(mb, &hdr->name, &hdr->val);
			break;

		case SIP_HDR_MAX_FORWARDS:
			err = max_forwards_write(mb, hdr, req);
			break;

		default:
			if (opts->strip_autoanswer && autoanswer_header(hdr))
				err = autoanswer_header_write(mb, hdr);
			else
				err = line_write(mb, &hdr->name, &hdr->val);
			break;
		}
	}

	if (!err && !pl_isset(&req->maxfwd))
		err = mbuf_printf(mb, "Max-Forwards: %u\r\n",
				  DEFAULT_MAX_FORWARDS);
	/* the body as long as its Content-Length says: octets after it in
	 * a datagram are not part of the request (RFC 3261 §18.3) and
	 * would break a stream's framing downstream */
	if (!err && !pl_isset(&req->clen))
		err = mbuf_printf(mb, "Content-Length: %zu\r\n",
				  sipmsg_body_len(req));
	if (!err)
		err = mbuf_write_str(mb, "\r\n");
	if (!err)
		err = mbuf_write_mem(mb, mbuf_buf(req->mb),
				     sipmsg_body_len(req));
	return err;
}


/* The top Via value of RESP in *viap; false unless a second one
 * follows (libre lists each Via value on its own). */
static bool resp_top_via(const struct sip_hdr **viap,
			 const struct sip_msg *resp)
{
	uint32_t n = 0;

	for (struct le *le = resp->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		if (hdr->id != SIP_HDR_VIA)
			continue;
		if (n++ == 0)
			*viap = hdr;
		else
			return true;
	}
	return false;
}


/* The bytes of the top Via value to cut: the whole line when it holds
 * one value, else the value and its comma. */
static void top_via_span(const char **from, const char **to,
			 const struct sip_hdr *hdr, const char *end)
{
	const char *p = hdr->val.p + hdr->val.l;

	while (p < end && (*p == ' ' || *p == '\t'))
		++p;
	if (p < end && *p == ',') {
		++p;
		while (p < end && (*p == ' ' || *p == '\t'))
			++p;
		*from = hdr->val.p;
		*to = p;
		return;
	}
	while (p < end && *p != '\n')
		++p;
	*from = hdr->name.p;
	*to = p < end ? p + 1 : end;
}


/* Where the header block ends: before the final CRLF (or bare LF). */
static const char *headers_end(const struct sip_msg *msg)
{
	const char *body = (const char *)mbuf_buf(msg->mb);

	if (body - 2 >= msg->ver.p && body[-1] == '\n' && body[-2] == '\r')
		return body - 2;
	return body - 1;
}


enum { EDITS_MAX = 8 };

/* Sorts the EDITC edits in place by where they start (a handful). */
static void edits_sort(struct fwd_edit *e, size_t editc)
{
	for (size_t i = 1; i < editc; i++) {
		for (size_t j = i; j > 0 && e[j].span.p < e[j - 1].span.p; j--) {
			struct fwd_edit t = e[j];
			e[j] = e[j - 1];
			e[j - 1] = t;
		}
	}
}


int fwd_response(struct mbuf **mbp, const struct sip_msg *resp,
		 const char *extra, const struct fwd_edit *edits,
		 size_t editc)
{
	struct fwd_edit all[EDITS_MAX + 2];
	const struct sip_hdr *via = NULL;
	const char *pos = resp->ver.p;
	/* RFC 3261 §18.3: what follows the body in a datagram is not sent */
	const char *end = (const char *)mbuf_buf(resp->mb) +
		sipmsg_body_len(resp);
	const char *cut_from, *cut_to, *hend;
	size_t n = 0, extra_len = extra ? strlen(extra) : 0;
	struct mbuf *mb;
	int err = 0;

	/* RFC 3261 §16.7 step 3: with our Via removed, a response with no
	 * Via left was meant for us and is not forwarded. */
	if (!resp_top_via(&via, resp))
		return EBADMSG;
	if (editc > EDITS_MAX)
		return EINVAL;

	top_via_span(&cut_from, &cut_to, via, end);
	hend = headers_end(resp);
	all[n++] = (struct fwd_edit){{cut_from, (size_t)(cut_to - cut_from)},
				     ""};
	for (size_t i = 0; i < editc; i++) {
		all[n++] = edits[i];
		extra_len += strlen(edits[i].text);
	}
	if (extra && *extra)
		all[n++] = (struct fwd_edit){{hend, 0}, extra};
	edits_sort(all, n);

	mb = mbuf_alloc((size_t)(end - pos) + extra_len);
	if (!mb)
		return ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		if (all[i].span.p < pos || all[i].span.p + all[i].span.l > end) {
			err = EINVAL;   /* overlapping or outside the message */
			break;
		}
		err = mbuf_write_mem(mb, (const uint8_t *)pos,
				     (size_t)(all[i].span.p - pos));
		err |= mbuf_write_str(mb, all[i].text);
		pos = all[i].span.p + all[i].span.l;
	}
	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)pos,
				     (size_t)(end - pos));
	if (err) {
		mem_deref(mb);
		return err;
	}
	mb->pos = 0;
	*mbp = mb;
	return 0;
}


static uint16_t via_port(const struct sip_via *via, enum sip_transp tp)
{
	struct pl rport;

	if (0 == sipparam_get(&via->params, "rport", &rport) &&
	    pl_u32(&rport) > 0 && pl_u32(&rport) <= 65535)
		return (uint16_t)pl_u32(&rport);
	return sa_port(&via->addr) ? sa_port(&via->addr)
				   : sip_transp_port(tp, 0);
}


/* RFC 4475 §3.1.4.10: a Via naming a broadcast (or multicast, or
 * unspecified) address would make us a reflector; such a response is
 * dropped. */
static bool unicast(const struct sa *sa)
{
	if (!sa_isset(sa, SA_ADDR) || sa_is_any(sa))
		return false;
	if (sa_af(sa) == AF_INET) {
		uint32_t a = sa_in(sa);
		return a != 0xffffffffu && (a >> 28) != 0xe;
	}
	return !IN6_IS_ADDR_MULTICAST(&sa->u.in6.sin6_addr);
}


int fwd_next_via_addr(struct sa *dst, enum sip_transp *tp,
		      const struct sip_msg *resp)
{
	uint32_t n = 0;

	for (struct le *le = resp->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct sip_via via;
		struct pl received;

		if (hdr->id != SIP_HDR_VIA || n++ == 0)
			continue;
		if (sip_via_decode(&via, &hdr->val))
			return EBADMSG;
		*tp = sipmsg_via_transport(&via);
		if (*tp == SIP_TRANSP_NONE)
			return EBADMSG;

		/* read as the Via was rewritten when the request came
		 * (sipmsg_top_via_write): libre's reader would take a
		 * ";received=" inside a quoted value for the parameter,
		 * and send the response wherever the sender wrote */
		if (0 == sipparam_get(&via.params, "received", &received)) {
			if (sa_set(dst, &received, via_port(&via, *tp)))
				return EBADMSG;
		}
		else {
			*dst = via.addr;
			sa_set_port(dst, via_port(&via, *tp));
		}
		return unicast(dst) ? 0 : EBADMSG;
	}
	return ENOENT;
}
