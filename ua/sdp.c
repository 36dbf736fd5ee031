#include <string.h>
#include <strings.h>
#include <re.h>
#include "ua/sdp.h"


/* Does LINE start with PREFIX (any case)? */
static bool starts(const struct pl *line, const char *prefix)
{
	size_t n = strlen(prefix);

	return line->l >= n && 0 == strncasecmp(line->p, prefix, n);
}


bool sdp_in(const struct sip_msg *msg)
{
	return msg && mbuf_get_left(msg->mb) > 0 &&
		0 == pl_strcasecmp(&msg->ctyp.type, "application") &&
		0 == pl_strcasecmp(&msg->ctyp.subtype, "sdp");
}


/* The next line of TEXT (without its CR LF) into LINE; false at the end. */
static bool next_line(struct pl *text, struct pl *line)
{
	const char *nl;

	if (!text->l)
		return false;
	nl = pl_strchr(text, '\n');
	line->p = text->p;
	line->l = nl ? (size_t)(nl - text->p) : text->l;
	pl_advance(text, nl ? line->l + 1 : line->l);
	if (line->l && line->p[line->l - 1] == '\r')
		line->l--;
	return true;
}


/* An a=rtpmap: or a=fmtp: line for format FMT (RFC 4566 §6). */
static bool is_format_attr(const struct pl *line, const struct pl *fmt)
{
	struct pl rest = *line, f;
	size_t skip = starts(line, "a=rtpmap:") ? 9 :
		starts(line, "a=fmtp:") ? 7 : 0;

	if (!skip)
		return false;
	pl_advance(&rest, skip);
	return 0 == re_regex(rest.p, rest.l, "[^ ]+", &f) &&
		f.p == rest.p && 0 == pl_cmp(&f, fmt);
}


/* The answer's line for the offer's m= line MLINE; *FMT gets the format
 * answered (empty for a rejected stream). */
static int media_line(struct mbuf *mb, const struct pl *mline, struct pl *fmt)
{
	struct pl media, port, proto, fmts;

	if (re_regex(mline->p, mline->l, "m=[^ ]+ [0-9/]+ [^ ]+[ ]*[^]*",
		     &media, &port, &proto, NULL, &fmts))
		return EBADMSG;
	fmt->l = 0;
	if (pl_u32(&port) == 0)
		return mbuf_printf(mb, "m=%r 0 %r %r\r\n", &media, &proto,
				   &fmts);
	if (re_regex(fmts.p, fmts.l, "[^ ]+", fmt))
		return EBADMSG;
	return mbuf_printf(mb, "m=%r 9 %r %r\r\na=inactive\r\n", &media,
			   &proto, fmt);
}


int sdp_inactive_answer(struct mbuf **answerp, const struct pl *offer,
			uint32_t version)
{
	struct mbuf *mb = mbuf_alloc(256);
	struct pl text = *offer, line, fmt = PL_INIT;
	bool ip6 = false, media = false;
	int err;

	if (!mb)
		return ENOMEM;
	/* one pass for the address family of the offer's first c= line */
	while (next_line(&text, &line)) {
		if (starts(&line, "c=IN IP6")) {
			ip6 = true;
			break;
		}
		if (starts(&line, "c="))
			break;
	}
	err = mbuf_printf(mb, "v=0\r\no=locus %u %u IN %s\r\ns=-\r\n"
			  "c=IN %s\r\nt=0 0\r\n", version, version,
			  ip6 ? "IP6 ::" : "IP4 0.0.0.0",
			  ip6 ? "IP6 ::" : "IP4 0.0.0.0");
	text = *offer;
	while (!err && next_line(&text, &line)) {
		if (starts(&line, "m=")) {
			media = true;
			err = media_line(mb, &line, &fmt);
		}
		else if (media && fmt.l && is_format_attr(&line, &fmt)) {
			err = mbuf_printf(mb, "%r\r\n", &line);
		}
	}
	if (!err && !media)
		err = EBADMSG;
	if (err) {
		mem_deref(mb);
		return err;
	}
	mb->pos = 0;
	*answerp = mb;
	return 0;
}
