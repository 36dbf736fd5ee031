/* Checks and helpers for SIP messages that libre leaves to its users. */
#ifndef LOCUS_SIPMSG_H
#define LOCUS_SIPMSG_H

#include <stdbool.h>
#include <re.h>

/*
 * libre parses but does not validate: a request may arrive without To,
 * From, Call-ID or CSeq.  Returns NULL when REQ has what RFC 3261 §8.1.1
 * requires of every request, else a reason phrase naming what is wrong,
 * for a 400 response.
 */
const char *sipmsg_request_problem(const struct sip_msg *req);

/* True if option-tag TAG (case-insensitive) is listed in header ID. */
bool sipmsg_has_option(const struct sip_msg *msg, enum sip_hdrid id,
		       const char *tag);

/*
 * Prints, comma-separated, every option-tag of header ID (Require or
 * Proxy-Require) that is not in the NULL-terminated list KNOWN.  Prints
 * nothing when all are known.  Use as "%H" with struct sipmsg_options.
 */
struct sipmsg_options {
	const struct sip_msg *msg;
	enum sip_hdrid id;
	const char *const *known;
};
int  sipmsg_unknown_options_print(struct re_printf *pf,
				  const struct sipmsg_options *opts);
bool sipmsg_has_unknown_option(const struct sipmsg_options *opts);

/* True if P[0..LEN) is well-formed UTF-8 without NUL or other C0
 * controls (tab allowed): what may be stored in a PostgreSQL text column
 * and echoed in a header. */
bool sipmsg_text_ok(const char *p, size_t len);

/* "Sat, 21 Nov 2026 12:34:56 GMT" (RFC 3261 §20.17, RFC 1123). "%H". */
int  sipmsg_date_print(struct re_printf *pf, const time_t *when);

#endif
