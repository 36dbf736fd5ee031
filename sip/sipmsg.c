#include <string.h>
#include <re.h>
#include "sip/param.h"
#include "sip/sipmsg.h"


const char *const sipmsg_supported[] = {"gruu", "path", "outbound", NULL};


static bool option_handler(const struct sip_hdr *hdr,
			   const struct sip_msg *msg, void *arg)
{
	const char *tag = arg;

	return 0 == pl_strcasecmp(&hdr->val, tag);
}


bool sipmsg_has_option(const struct sip_msg *msg, enum sip_hdrid id,
		       const char *tag)
{
	return NULL != sip_msg_hdr_apply(msg, true, id, option_handler,
					 (void *)tag);
}


/* An empty tag (e.g. "Require:" with no value) requires nothing. */
static bool option_known(const struct pl *tag, const char *const *known)
{
	if (!pl_isset(tag))
		return true;
	for (; *known; known++) {
		if (0 == pl_strcasecmp(tag, *known))
			return true;
	}
	return false;
}


int sipmsg_unknown_options_print(struct re_printf *pf,
				 const struct sipmsg_options *opts)
{
	struct le *le;
	int err = 0, n = 0;

	for (le = opts->msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct pl rest, tag;

		if (hdr->id != opts->id)
			continue;
		/* the line-level entry holds the whole comma-separated value */
		rest = hdr->val;
		while (!err && !re_regex(rest.p, rest.l, "[^, \t]+", &tag)) {
			if (!option_known(&tag, opts->known))
				err = re_hprintf(pf, "%s%r", n++ ? ", " : "",
						 &tag);
			rest.l -= (size_t)(tag.p + tag.l - rest.p);
			rest.p = tag.p + tag.l;
		}
	}
	return err;
}


static bool unknown_handler(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	const char *const *known = arg;

	return !option_known(&hdr->val, known);
}


bool sipmsg_has_unknown_option(const struct sipmsg_options *opts)
{
	return NULL != sip_msg_hdr_apply(opts->msg, true, opts->id,
					 unknown_handler,
					 (void *)opts->known);
}


/* Length of the UTF-8 sequence led by C, 0 if C cannot lead one. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}


bool sipmsg_text_ok(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_len(s[i]);

		if (!n || i + n > len)
			return false;
		if (n == 1 && ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f))
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		}
		/* overlong 3/4-byte forms, surrogates, beyond U+10FFFF */
		if ((s[i] == 0xe0 && s[i + 1] < 0xa0) ||
		    (s[i] == 0xed && s[i + 1] >= 0xa0) ||
		    (s[i] == 0xf0 && s[i + 1] < 0x90) ||
		    (s[i] == 0xf4 && s[i + 1] >= 0x90))
			return false;
		i += n;
	}
	return true;
}


struct via_rewrite {
	struct mbuf *mb;
	bool rport;
};


/* Copies Via params except received and rport, which we set afresh. */
static int via_param_copy(const struct pl *name, const struct pl *val,
			  void *arg)
{
	struct via_rewrite *vr = arg;

	if (0 == pl_strcasecmp(name, "rport")) {
		vr->rport = true;
		return 0;
	}
	if (0 == pl_strcasecmp(name, "received"))
		return 0;
	if (pl_isset(val))
		return mbuf_printf(vr->mb, ";%r=%r", name, val);
	return mbuf_printf(vr->mb, ";%r", name);
}


/* RFC 3261 §18.2.1 and RFC 3581 §4: the server transport records where
 * the request really came from, so that responses find their way back
 * through NATs. */
int sipmsg_top_via_write(struct mbuf *mb, const struct sip_hdr *hdr,
			 const struct sip_msg *req)
{
	struct via_rewrite vr = {mb, false};
	const struct sip_via *via = &req->via;
	struct pl head = via->val;
	int err;

	if (pl_isset(&via->params))
		head.l = (size_t)(via->params.p - via->val.p);

	err = mbuf_printf(mb, "%r: %r", &hdr->name, &head);
	err |= sipparam_apply(&via->params, via_param_copy, &vr);
	if (vr.rport)
		err |= mbuf_printf(mb, ";rport=%u", sa_port(&req->src));
	if (vr.rport || !sa_cmp(&req->src, &via->addr, SA_ADDR))
		err |= mbuf_printf(mb, ";received=%j", &req->src);
	err |= mbuf_write_str(mb, "\r\n");
	return err;
}


enum sip_transp sipmsg_via_transport(const struct sip_via *via)
{
	struct pl tp;

	if (via->tp != SIP_TRANSP_NONE)
		return via->tp;
	/* RFC 3261 §25.1: "SIP" LWS? "/" LWS? "2.0" LWS? "/" transport;
	 * every [] of re_regex() takes an argument, the LWS ones NULL */
	if (re_regex(via->val.p, via->val.l, "SIP[ \t\r\n]*/[ \t\r\n]*"
		     "2.0[ \t\r\n]*/[ \t\r\n]*[A-Za-z]+", NULL, NULL, NULL,
		     NULL, &tp))
		return SIP_TRANSP_NONE;
	if (0 == pl_strcasecmp(&tp, "WS"))
		return SIP_TRANSP_WS;
	if (0 == pl_strcasecmp(&tp, "WSS"))
		return SIP_TRANSP_WSS;
	return SIP_TRANSP_NONE;
}


void sipmsg_reply_addr(struct sa *dst, const struct sip_msg *req)
{
	struct pl rport;

	sip_reply_addr(dst, req, 0 == msg_param_exists(&req->via.params,
						       "rport", &rport));
}
