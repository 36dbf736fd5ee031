/*
 * Counting every SIP message from its raw bytes (transport/wire.h).
 *
 * Cheap on purpose, as it runs for every message: a request's method is
 * its first token; a response's status class is the first digit of its
 * code and its method is the CSeq's, found by looking at the start of
 * each header line until the empty line.  CSeq has no compact form
 * (RFC 3261 §7.3.3); header names compare case-insensitively.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "transport/wire.h"

static const char sip_version[] = "SIP/2.0 ";


/* The method token at P (up to END): "INVITE" in "CSeq: 1 INVITE". */
static enum metrics_method method_at(const char *p, const char *end)
{
	const char *m = p;

	while (m < end && *m != ' ' && *m != '\t' && *m != '\r' && *m != '\n')
		++m;
	return metrics_method(p, (size_t)(m - p));
}


/* The method in the CSeq header of the message at P (length LEN). */
static enum metrics_method cseq_method(const char *p, size_t len)
{
	const char *end = p + len, *line = p;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *v = line + 4;

		if (line[0] == '\r' || line[0] == '\n')
			break;   /* the empty line: no CSeq */
		if (end - line > 4 && !strncasecmp(line, "CSeq", 4)) {
			while (v < end && (*v == ' ' || *v == '\t'))
				++v;
			if (v < end && *v == ':') {
				++v;
				while (v < end && (*v == ' ' || *v == '\t' ||
						   (*v >= '0' && *v <= '9')))
					++v;
				return method_at(v, end);
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return METRICS_OTHER;
}


bool wire_classify(const uint8_t *pkt, size_t len, struct wire_kind *k)
{
	const char *p = (const char *)pkt;
	const size_t vl = sizeof(sip_version) - 1;
	const char *sp, *eol;

	if (len > vl + 3 && !memcmp(p, sip_version, vl)) {
		char d = p[vl];

		if (d < '1' || d > '6')
			return false;
		k->request = false;
		k->sclass = (unsigned)(d - '0');
		k->method = cseq_method(p, len);
		return true;
	}
	/* "METHOD URI SIP/2.0" on the first line */
	sp = memchr(p, ' ', MIN(len, 32));
	eol = memchr(p, '\n', len);
	if (eol && eol > p && eol[-1] == '\r')
		--eol;
	if (!sp || sp == p || !eol || eol - p < (ptrdiff_t)vl + 2 ||
	    memcmp(eol - (vl - 1), sip_version, vl - 1) ||
	    *(eol - vl) != ' ')
		return false;
	k->request = true;
	k->sclass = 0;
	k->method = metrics_method(p, (size_t)(sp - p));
	return true;
}


void wire_count(bool tx, const uint8_t *pkt, size_t len)
{
	enum metrics_dir dir = tx ? METRICS_SENT : METRICS_RECEIVED;
	struct wire_kind k;

	if (!wire_classify(pkt, len, &k))
		return;
	if (k.request)
		++metrics.requests[dir][k.method];
	else
		++metrics.responses[dir][k.method][k.sclass - 1];
}
