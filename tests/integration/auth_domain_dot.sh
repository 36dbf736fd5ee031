#!/usr/bin/env bash
# Our domain in any spelling is ours (RFC 3261 §19.1.4; DNS: a trailing
# dot names the same domain): an INVITE From sip:alice@example.com. is
# challenged like one from sip:alice@example.com, and every challenge's
# realm is the domain as configured, the one the HA1s are computed with,
# so that alice can answer it.  A REGISTER to sip:example.com. for
# sip:alice@example.com. binds alice@example.com.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

new_db
AUTH_CONFIG='enabled = true;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"
RURI=sip:bob@example.com

for from in sip:alice@example.com. sip:alice@EXAMPLE.COM sip:alice@Example.Com.; do
	log "INVITE From $from: 407 with realm example.com, then routed"
	INV_FROM=$from invite_final $RURI
	expect_final "407 Proxy Authentication Required" "INVITE From $from"
	final_hdr "$INV_OUT" Proxy-Authenticate | grep -q 'realm="example.com"' ||
		fail "realm of the challenge: $(final_hdr "$INV_OUT" Proxy-Authenticate)"
	cp "$INV_OUT" "$WORK/pch"
	INV_FROM=$from invite_final $RURI \
		"$(digest_credentials Proxy-Authorization "$WORK/pch" SHA-256 \
		alice secret INVITE $RURI 00000001)"
	expect_final "404 Not Found" "authenticated INVITE From $from"
done

log "REGISTER sip:example.com. for sip:alice@example.com.: challenged, bound"
REG_RURI=sip:example.com. REG_TO=sip:alice@example.com. \
	sip_register "$WORK/ch" alice@example.com. cid-a 1
expect_status "$WORK/ch" "401 Unauthorized" "REGISTER for alice@example.com."
sip_hdr "$WORK/ch" WWW-Authenticate | grep -q 'realm="example.com"' ||
	fail "realm of the challenge: $(sip_hdr "$WORK/ch" WWW-Authenticate)"
REG_RURI=sip:example.com. REG_TO=sip:alice@example.com. \
	sip_register "$WORK/r1" alice@example.com. cid-a 2 \
	"Contact: <sip:alice@127.0.0.1:5999>" \
	"$(digest_credentials Authorization "$WORK/ch" SHA-256 alice secret \
	REGISTER sip:example.com. 00000001)"
expect_status "$WORK/r1" "200 OK" "authenticated REGISTER for alice@example.com."
[ "$(psql_q "SELECT aor FROM locus.location")" = alice@example.com ] ||
	fail "bindings: $(psql_q "SELECT aor FROM locus.location")"
log "ok"
