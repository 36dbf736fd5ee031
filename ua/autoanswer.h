/* The headers that make a device answer a call by itself, in the dialect
 * most devices understand (the intercom feature's default): Call-Info
 * answer-after=0 and Alert-Info info=alert-autoanswer;delay=0 (Yealink,
 * Snom, Gigaset, Grandstream, Obihai, AudioCodes, baresip).  The one
 * place ua/ writes them: a device configured for another dialect gets
 * what the intercom feature would send once it is asked here. */
#ifndef LOCUS_UA_AUTOANSWER_H
#define LOCUS_UA_AUTOANSWER_H

#include <re.h>

/* "Call-Info: <sip:DOMAIN>;answer-after=0\r\nAlert-Info: ...\r\n" */
int autoanswer_print(struct re_printf *pf, const char *domain);

#endif
