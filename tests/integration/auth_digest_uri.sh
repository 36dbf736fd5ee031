#!/usr/bin/env bash
# Credentials are for one Request-URI (RFC 3261 §22.4, RFC 7616 §3.4.6):
# a digest uri that is not the Request-URI, compared as URIs are (RFC
# 3261 §19.1.4), gets 400 "Digest URI Does Not Match Request-URI", on
# REGISTER (401 path) and through the proxy (407 path); an equivalent
# spelling of the Request-URI passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

new_db
AUTH_CONFIG='enabled = true;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"
A=alice@example.com
CONTACT="Contact: <sip:alice@127.0.0.1:5999>"
BAD="400 Digest URI Does Not Match Request-URI"

sip_register "$WORK/ch" $A cid-a 1 "$CONTACT"
expect_status "$WORK/ch" "401 Unauthorized" "REGISTER without credentials"
# creds NC URI [ALG]: alice's REGISTER credentials computed for URI
creds() {
	digest_credentials Authorization "$WORK/ch" "${3:-SHA-256}" alice \
		secret REGISTER "$2" "$1"
}

log "REGISTER sip:example.com with credentials for another URI: 400"
sip_register "$WORK/r1" $A cid-a 2 "$CONTACT" \
	"$(creds 00000001 sip:elsewhere.example.org)"
expect_status "$WORK/r1" "$BAD" "credentials for sip:elsewhere.example.org"
sip_register "$WORK/r2" $A cid-a 3 "$CONTACT" \
	"$(creds 00000002 sip:example.com:5060 MD5)"
expect_status "$WORK/r2" "$BAD" "credentials for sip:example.com:5060"
sip_register "$WORK/r3" $A cid-a 4 "$CONTACT" \
	"$(creds 00000003 'sip:example.com;transport=tcp')"
expect_status "$WORK/r3" "$BAD" "credentials for sip:example.com;transport=tcp"
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = '$A'")" = 0 ] ||
	fail "a binding was stored with credentials for another URI"

log "an equivalent spelling of the Request-URI: 200"
sip_register "$WORK/r4" $A cid-a 5 "$CONTACT" "$(creds 00000004 sip:EXAMPLE.COM)"
expect_status "$WORK/r4" "200 OK" "credentials for sip:EXAMPLE.COM"
REG_RURI='sip:example.com;transport=udp' sip_register "$WORK/r5" $A cid-a 6 \
	"$CONTACT" "$(creds 00000005 'sip:Example.com;TRANSPORT=UDP')"
expect_status "$WORK/r5" "200 OK" "credentials with the parameter in capitals"

log "INVITE sip:bob@example.com with credentials for sip:carol@example.com: 400"
INV_FROM=sip:$A invite_final sip:bob@example.com
expect_final "407 Proxy Authentication Required" "INVITE without credentials"
cp "$INV_OUT" "$WORK/pch"
INV_FROM=sip:$A invite_final sip:bob@example.com \
	"$(digest_credentials Proxy-Authorization "$WORK/pch" SHA-256 alice \
	secret INVITE sip:carol@example.com 00000001)"
expect_final "$BAD" "INVITE credentials for carol"
INV_FROM=sip:$A invite_final sip:bob@example.com \
	"$(digest_credentials Proxy-Authorization "$WORK/pch" SHA-256 alice \
	secret INVITE 'sip:bob@example.com?subject=x' 00000002)"
expect_final "$BAD" "INVITE credentials for a URI with a header"

log "with credentials for the Request-URI itself: routed (bob: 404)"
INV_FROM=sip:$A invite_final sip:bob@example.com \
	"$(digest_credentials Proxy-Authorization "$WORK/pch" SHA-256 alice \
	secret INVITE sip:bob@example.com 00000003)"
expect_final "404 Not Found" "INVITE with credentials for its Request-URI"
log "ok"
