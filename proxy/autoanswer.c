/*
 * Removing auto-answer signalling from forwarded INVITEs.
 *
 * Phones look for it loosely (liblinphone, for one, searches the raw
 * Call-Info value for "answer-after="; Polycom matches Alert-Info against
 * whatever text its administrator configured), so an entry is judged by
 * its whole text, not by its parsed parameters: folded to lower-case
 * letters and digits, an entry that contains "answerafter",
 * "autoanswer", "ringanswer" or "intercom", or that is just "ra" (the
 * Polycom keyword of Asterisk's paging sample), goes.  That catches
 * ";answer-after=0" written as a header parameter, inside the URI, or
 * with no URI at all, and every spelling of "Ring Answer".  Removing an
 * entry that was harmless costs a ringtone at most; keeping a harmful one
 * opens a microphone.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "config/config.h"
#include "proxy/autoanswer.h"
#include "proxy/route.h"

/* Header lines that only ever ask for auto-answer: removed whole. */
static const char *const whole_headers[] = {
	"Answer-Mode",        /* RFC 5373 §4 */
	"Priv-Answer-Mode",   /* RFC 5373 §5 */
	"P-Auto-Answer",
};

static const char *const entry_keywords[] = {
	"answerafter", "autoanswer", "ringanswer", "intercom",
};


bool autoanswer_strip_wanted(const struct locus_config *cfg,
			     const struct sip_msg *msg,
			     const struct route_info *ri)
{
	return 0 == pl_strcmp(&msg->met, "INVITE") && !ri->from_locus &&
		!config_is_intercom_trusted(cfg, &msg->src);
}


static bool is_whole_header(const struct sip_hdr *hdr)
{
	for (size_t i = 0; i < ARRAY_SIZE(whole_headers); i++) {
		if (0 == pl_strcasecmp(&hdr->name, whole_headers[i]))
			return true;
	}
	return false;
}


bool autoanswer_header(const struct sip_hdr *hdr)
{
	return hdr->id == SIP_HDR_CALL_INFO || hdr->id == SIP_HDR_ALERT_INFO ||
		is_whole_header(hdr);
}


/* The next letter or digit of TEXT at or after *I, lower-cased, *I moved
 * past it; 0 at the end. */
static int folded_next(const struct pl *text, size_t *i)
{
	while (*i < text->l) {
		unsigned char c = (unsigned char)text->p[(*i)++];
		if (isalnum(c))
			return tolower(c);
	}
	return 0;
}


/* Whether TEXT, folded to its letters and digits in lower case, is
 * (WHOLE) or contains WORD (lower-case letters and digits).  No copy is
 * made: an entry of any length is judged whole, padding and all. */
static bool folded_has(const struct pl *text, const char *word,
		       bool whole)
{
	for (size_t start = 0; start < text->l; start++) {
		size_t i = start;
		const char *w = word;

		if (!isalnum((unsigned char)text->p[start]))
			continue;
		while (*w && folded_next(text, &i) == *w)
			++w;
		if (!*w)
			return !whole || folded_next(text, &i) == 0;
		if (whole)
			return false;
	}
	return false;
}


static bool entry_is_autoanswer(const struct pl *entry)
{
	if (folded_has(entry, "ra", true))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(entry_keywords); i++) {
		if (folded_has(entry, entry_keywords[i], false))
			return true;
	}
	return false;
}


/* The next comma-separated entry of *REST (commas inside quotes or
 * angle brackets do not separate), without surrounding whitespace;
 * *REST moves past it.  False when none is left. */
static bool entry_next(struct pl *entry, struct pl *rest)
{
	const char *p = rest->p, *end = rest->p + rest->l;
	bool quoted = false, bracketed = false;

	if (!rest->l)
		return false;
	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			++p;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			bracketed = true;
		else if (!quoted && *p == '>')
			bracketed = false;
		else if (!quoted && !bracketed && *p == ',')
			break;
	}
	entry->p = rest->p;
	entry->l = (size_t)(p - rest->p);
	rest->p = p < end ? p + 1 : end;
	rest->l = (size_t)(end - rest->p);

	while (entry->l && isspace((unsigned char)entry->p[0])) {
		++entry->p;
		--entry->l;
	}
	while (entry->l && isspace((unsigned char)entry->p[entry->l - 1]))
		--entry->l;
	return true;
}


static bool line_has_autoanswer(const struct sip_hdr *hdr)
{
	struct pl rest = hdr->val, entry;

	while (entry_next(&entry, &rest)) {
		if (entry_is_autoanswer(&entry))
			return true;
	}
	return false;
}


int autoanswer_header_write(struct mbuf *mb, const struct sip_hdr *hdr)
{
	struct pl rest = hdr->val, entry;
	bool first = true;
	int err = 0;

	if (is_whole_header(hdr))
		return 0;
	/* a line with nothing to remove goes on as it came */
	if (!line_has_autoanswer(hdr))
		return mbuf_printf(mb, "%r: %r\r\n", &hdr->name, &hdr->val);
	while (!err && entry_next(&entry, &rest)) {
		if (!entry.l || entry_is_autoanswer(&entry))
			continue;
		err = first ? mbuf_printf(mb, "%r: %r", &hdr->name, &entry)
			    : mbuf_printf(mb, ", %r", &entry);
		first = false;
	}
	if (!err && !first)
		err = mbuf_write_str(mb, "\r\n");
	return err;
}


/* Length of the parameter at P (starting with its ';') up to the next
 * ';' or END. */
static size_t param_len(const char *p, const char *end)
{
	const char *q = p + 1;

	while (q < end && *q != ';')
		++q;
	return (size_t)(q - p);
}


static bool param_is_intercom(const char *p, size_t len)
{
	static const char name[] = "intercom";
	size_t n = sizeof(name) - 1;

	return len > n && 0 == strncasecmp(p + 1, name, n) &&
		(len == n + 1 || p[n + 1] == '=');
}


int autoanswer_uri_strip(char **urip)
{
	struct uri uri;
	struct pl pl;
	struct mbuf *mb;
	const char *p, *end, *copied;
	char *out = NULL;
	int err = 0;

	pl_set_str(&pl, *urip);
	if (uri_decode(&uri, &pl) || !pl_isset(&uri.params))
		return 0;

	mb = mbuf_alloc(strlen(*urip));
	if (!mb)
		return ENOMEM;
	copied = *urip;
	p = uri.params.p;
	end = uri.params.p + uri.params.l;
	while (!err && p < end) {
		size_t len = param_len(p, end);

		if (param_is_intercom(p, len)) {
			err = mbuf_write_mem(mb, (const uint8_t *)copied,
					     (size_t)(p - copied));
			copied = p + len;
		}
		p += len;
	}
	if (copied == *urip) {   /* none: nothing to change */
		mem_deref(mb);
		return err;
	}
	if (!err)
		err = mbuf_write_str(mb, copied);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, &out, mb->end);
	}
	mem_deref(mb);
	if (!err) {
		mem_deref(*urip);
		*urip = out;
	}
	return err;
}
