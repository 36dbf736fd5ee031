/*
 * The 200 OK to REGISTER, written with plain copies rather than through
 * printf-style formatting: it is sent for every REGISTER, and formatting
 * was a sixth of the registrar's work per request.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "common/decimal.h"
#include "sip/uri.h"
#include "sip/sipmsg.h"
#include "location/gruu.h"
#include "location/location.h"
#include "registrar/reply.h"


static int put(struct mbuf *mb, const char *s)
{
	return mbuf_write_str(mb, s);
}


static int put_u64(struct mbuf *mb, uint64_t v)
{
	char buf[DECIMAL_SIZE];
	size_t n = decimal_write(buf, v);

	return mbuf_write_mem(mb, (const uint8_t *)buf, n);
}


/* RFC 5627 §5.2: pub-gruu is the AOR with gr=<instance>; temp-gruu is a
 * fresh token each time, so every 200 OK carries a new one. */
static int gruus_write(struct mbuf *mb, const struct reg_listing *l,
		       const struct binding *b, const char *domain)
{
	const struct instance_state *is;
	char *token = NULL;
	int err;

	is = aor_instance_find(l->aor, b->instance);
	err = gruu_token_encode(&token, l->key, l->aor->key, b->instance,
				is ? is->generation : 1);
	if (err)
		return err;

	err = put(mb, ";pub-gruu=\"sip:") | put(mb, l->aor->key) |
		put(mb, ";gr=") | put(mb, b->instance) |
		put(mb, "\";temp-gruu=\"sip:" GRUU_TEMP_PREFIX) |
		put(mb, token) | put(mb, "@") | put(mb, domain) |
		put(mb, ";gr\"");
	mem_deref(token);
	return err;
}


/* q * 1000 -> "1", "0.5", "0.25", "0.125" (RFC 3261 §25.1 qvalue). */
static int qvalue_write(struct mbuf *mb, int q)
{
	char frac[4];
	int n = 3;

	if (q >= 1000 || q <= 0)
		return put(mb, q >= 1000 ? ";q=1" : ";q=0");
	frac[0] = (char)('0' + q / 100);
	frac[1] = (char)('0' + q / 10 % 10);
	frac[2] = (char)('0' + q % 10);
	while (n > 1 && frac[n - 1] == '0')
		--n;
	return put(mb, ";q=0.") |
		mbuf_write_mem(mb, (const uint8_t *)frac, (size_t)n);
}


static int binding_write(struct mbuf *mb, const struct reg_listing *l,
			 const struct binding *b)
{
	const char *domain = sipuri_aor_domain(l->aor->key);
	/* delta-seconds is at most 2^32-1 (RFC 3261 §25.1); a static
	 * binding never expires */
	int64_t remaining = b->expires - l->now;
	int err;

	err = put(mb, "Contact: <") | put(mb, b->uri) | put(mb, ">;expires=")
		| put_u64(mb, remaining > UINT32_MAX ? UINT32_MAX
			  : (uint64_t)remaining);
	if (b->q >= 0)
		err |= qvalue_write(mb, b->q);
	err |= put(mb, b->params ? b->params : "");
	if (b->instance) {
		err |= put(mb, ";+sip.instance=\"<") | put(mb, b->instance) |
			put(mb, ">\"");
		if (b->reg_id)
			err |= put(mb, ";reg-id=") | put_u64(mb, b->reg_id);
		if (l->gruu)
			err |= gruus_write(mb, l, b, domain);
	}
	return err | put(mb, "\r\n");
}


static int contacts_write(struct mbuf *mb, const struct reg_listing *l)
{
	int err = 0;

	if (!l->aor)
		return 0;
	for (struct le *le = l->aor->bindings.head; le && !err; le = le->next) {
		const struct binding *b = le->data;

		/* about to be swept: not a current binding any more */
		if (b->expires <= l->now)
			continue;
		err = binding_write(mb, l, b);
	}
	return err;
}


/* The headers every response copies from its request (RFC 3261 §8.2.6.2),
 * as libre's replies do: Via (the top one with received/rport), From, To
 * with our tag, Call-ID, CSeq. */
static int copied_headers_write(struct mbuf *mb, const struct sip_msg *msg)
{
	bool first_via = true;
	int err = 0;

	for (struct le *le = msg->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:
			if (first_via) {
				err = sipmsg_top_via_write(mb, hdr, msg);
				first_via = false;
				break;
			}
			/*@fallthrough@*/
		case SIP_HDR_FROM:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
			err = mbuf_write_pl(mb, &hdr->name) | put(mb, ": ") |
				mbuf_write_pl(mb, &hdr->val) | put(mb, "\r\n");
			break;

		case SIP_HDR_TO:
			err = mbuf_write_pl(mb, &hdr->name) | put(mb, ": ") |
				mbuf_write_pl(mb, &hdr->val);
			if (!pl_isset(&msg->to.tag))
				err |= mbuf_printf(mb, ";tag=%016llx",
						   (unsigned long long)msg->tag);
			err |= put(mb, "\r\n");
			break;

		default:
			break;
		}
	}
	return err;
}


/* The Date header's value changes once a second: formatted once. */
static const char *date_now(time_t now)
{
	static time_t cached = -1;
	static char date[64];

	if (now != cached) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached = now;
	}
	return date;
}


int reg_reply_ok_write(struct mbuf *mb, const struct sip_msg *msg,
		       const struct reg_listing *l,
		       const struct binding_path *path)
{
	int err;

	err = put(mb, "SIP/2.0 200 OK\r\n") | copied_headers_write(mb, msg) |
		put(mb, "Server: " LOCUS_SERVER_NAME "\r\n") |
		contacts_write(mb, l);
	/* RFC 3327 §5.3: the Path of the request is echoed in the 2xx. */
	if (path) {
		err |= put(mb, "Path: ");
		for (size_t i = 0; i < path->n; i++)
			err |= put(mb, i ? ", " : "") | put(mb, path->v[i]);
		err |= put(mb, "\r\n");
	}
	/* RFC 5626 §6: the UA learns its flow is what reaches it */
	if (l->outbound)
		err |= put(mb, "Require: outbound\r\n");
	/* RFC 5626 §6: how often the UA's keep-alives must come */
	if (l->outbound && l->flow_timer)
		err |= put(mb, "Flow-Timer: ") | put_u64(mb, l->flow_timer) |
			put(mb, "\r\n");
	err |= put(mb, "Supported: " SIPMSG_SUPPORTED "\r\nDate: ") |
		put(mb, date_now((time_t)l->now)) |
		put(mb, "\r\nContent-Length: 0\r\n\r\n");
	return err;
}


int reg_reply_write(struct mbuf *mb, const struct sip_msg *msg,
		    uint16_t scode, const char *reason, const char *fmt, ...)
{
	va_list ap;
	int err;

	err = mbuf_printf(mb, "SIP/2.0 %u %s\r\n", scode, reason) |
		copied_headers_write(mb, msg) |
		put(mb, "Server: " LOCUS_SERVER_NAME "\r\n");
	if (fmt) {
		va_start(ap, fmt);
		err |= mbuf_vprintf(mb, fmt, ap);
		va_end(ap);
	}
	return err | put(mb, "Content-Length: 0\r\n\r\n");
}
