/* SIP URI helpers shared by the registrar and the proxy: URI
 * equivalence (RFC 3261 §19.1.4), well-formedness, AOR keys, and the
 * +sip.instance value of a Contact (RFC 5626 §4.1). */
#ifndef LOCUS_URI_H
#define LOCUS_URI_H

#include <stdbool.h>
#include <re.h>

/* Strips one level of double quotes and, inside, one level of <>:
 * "\"<urn:uuid:x>\"" -> "urn:uuid:x".  Used for +sip.instance. */
void sipuri_instance_unquote(struct pl *out, const struct pl *in);

/*
 * libre's uri_decode() finds a URI inside almost anything.  True only when
 * RAW (the text uri_decode() read into U) is a whole, well-formed URI: an
 * RFC 3986 scheme, no spaces, quotes or angle brackets, and for SIP/SIPS
 * a host that is a name, an IPv4 address or a bracketed IPv6 address.
 */
bool sipuri_wellformed(const struct pl *raw, const struct uri *u);

#define SIPURI_INSTANCE_MAX 256

/*
 * An instance ID locus accepts: 1 to SIPURI_INSTANCE_MAX characters that
 * may stand unescaped in a URI parameter value (RFC 3261 §25.1 paramchar),
 * so that pub-gruu "sip:AOR;gr=INSTANCE" needs no escaping and cannot break
 * a header.  urn:uuid and urn:gsma:imei instances qualify.
 */
bool sipuri_instance_wellformed(const struct pl *inst);

/* Moves the slices of U from the text at FROM to a copy of it at TO. */
void sipuri_rebase(struct uri *u, const char *from, const char *to);

/* True for the schemes locus can route to. */
bool sipuri_is_sip(const struct uri *uri);

/*
 * URI equivalence of RFC 3261 §19.1.4 for SIP/SIPS URIs: scheme, user and
 * password case-sensitive (an escaped unreserved character equals the
 * character, an escaped reserved one does not), host case-insensitive,
 * port compared as written, parameters present in both must match,
 * user/ttl/method/maddr/transport must match when present in either, and
 * URI headers must be the same in both, in any order (a Contact may carry
 * some: RFC 4475 §3.1.4.14).
 */
bool sipuri_equal(const struct uri *a, const struct uri *b);

/*
 * Canonical AOR key of a SIP URI: "user@host" with the host lower-cased
 * and without a trailing dot (a fully qualified name: the same domain),
 * and the user part's case kept (it is case-sensitive) but its escapes
 * made canonical (RFC 3261 §10.3 step 5, §19.1.4).  Returns
 * EINVAL when the URI has no user or no host.
 */
int sipuri_aor_key(char **keyp, const struct uri *uri);

/*
 * The domain of AOR, a key of sipuri_aor_key(): what follows its last '@'
 * ("alice@example.com" -> "example.com"), all of AOR when it has none.
 * It is also the realm of the AOR's credentials.
 */
const char *sipuri_aor_domain(const char *aor);

#endif
