/* The fast paths of compat/sip_decode.c's decoders: libre's header
 * decoders, written out for the inputs whose result is plain to see.  See
 * sip_scan.c. */
#ifndef LOCUS_COMPAT_SIP_SCAN_H
#define LOCUS_COMPAT_SIP_SCAN_H

#include <re.h>

/* Returned when libre's own decoder must decide: the input is not one
 * whose result the scanner can vouch for (nothing was written then). */
enum { SCAN_UNSURE = -1 };

/* Each returns what libre 1.1.0's function of the same name without
 * "scan_" (uri_decode(), msg_param_decode(), sip_addr_decode(),
 * sip_via_decode(), sip_cseq_decode(), msg_ctype_decode()) returns, and
 * fills in the same, or SCAN_UNSURE.  scan_addr() decodes the URI with
 * uri_decode(), scan_via() the branch with msg_param_decode(). */
int scan_uri(struct uri *uri, const struct pl *pl);
int scan_param(const struct pl *pl, const char *name, struct pl *val);
int scan_addr(struct sip_addr *addr, const struct pl *pl);
int scan_via(struct sip_via *via, const struct pl *pl);
int scan_cseq(struct sip_cseq *cseq, const struct pl *pl);
int scan_ctype(struct msg_ctype *ctype, const struct pl *pl);

#endif
