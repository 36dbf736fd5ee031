/* Is the device behind a NAT?  Decided once per Contact of a REGISTER
 * and stored with the binding: a NATed device is reached where its
 * REGISTER came from, any other at its Contact (README, "Registrar
 * behaviour").  Not every REGISTER comes from its device: a third party
 * may register it (RFC 3261 §10.2), and then the Contact is right and the
 * source is not. */
#ifndef LOCUS_REG_NAT_H
#define LOCUS_REG_NAT_H

#include <stdbool.h>
#include <re.h>
#include "config/config.h"

/*
 * Under NAT_AUTO a device is NATed when MSG (the REGISTER, as received)
 *  - came from another address than its top Via's sent-by, where the
 *    sent-by is an IP address (a host name is not compared);
 *  - came over UDP with rport in that Via from another port than the
 *    sent-by's (over TCP, TLS and WebSocket the source port of a
 *    connection is an ephemeral one whatever the NAT: RFC 3261 §18);
 *  - names a private or link-local address in CONTACT (RFC 1918, RFC
 *    6598, 169.254/16, fc00::/7, fe80::/10) and came from one that is
 *    neither.
 * NAT_ALWAYS: every device is; NAT_NEVER: none.
 */
bool reg_nat_detect(enum nat_policy policy, const struct sip_msg *msg,
		    const struct uri *contact);

/* Whether SA is a private or link-local address (see above). */
bool reg_nat_private(const struct sa *sa);

#endif
