#!/usr/bin/env bash
# Digest authentication of requests through the proxy (RFC 3261 §22.3):
# an initial request whose From is one of our users gets 407 (SHA-256 and
# MD5 challenges) until it carries that user's credentials; someone
# else's From with them → 403; requests from other domains are never
# challenged, nor are requests of a dialog locus record-routed, but a To
# tag alone makes no dialog: without locus's stamp in its Route such a
# request is challenged like an initial one (relay_dialog.sh has the
# stamped case).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

new_db
AUTH_CONFIG='enabled = true; fail_limit = 3; fail_window = 3600;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('caller', 'example.com', 'pw1')"
psql_q "SELECT locus.add_subscriber('bob', 'example.com', 'pw2')"
RURI=sip:bob@example.com

log "INVITE from our user without credentials: 407, SHA-256 first"
invite_final $RURI
expect_final "407 Proxy Authentication Required" "INVITE without credentials"
mapfile -t ch < <(final_hdr "$INV_OUT" Proxy-Authenticate)
[ ${#ch[@]} = 2 ] && [[ ${ch[0]} == *algorithm=SHA-256* ]] &&
	[[ ${ch[1]} == *algorithm=MD5* ]] || fail "challenges: ${ch[*]}"
[[ ${ch[0]} == *'realm="example.com"'* ]] || fail "realm: ${ch[0]}"
cp "$INV_OUT" "$WORK/challenge"

log "with the caller's credentials: routed (bob is not registered: 404)"
invite_final $RURI "$(digest_credentials Proxy-Authorization \
	"$WORK/challenge" SHA-256 caller pw1 INVITE $RURI 00000001)"
expect_final "404 Not Found" "authenticated INVITE"
invite_final $RURI "$(digest_credentials Proxy-Authorization \
	"$WORK/challenge" MD5 caller pw1 INVITE $RURI 00000002)"
expect_final "404 Not Found" "authenticated INVITE, MD5"

log "wrong password: challenged again"
invite_final $RURI "$(digest_credentials Proxy-Authorization \
	"$WORK/challenge" SHA-256 caller nope INVITE $RURI 00000003)"
expect_final "407 Proxy Authentication Required" "wrong password"

log "the caller's credentials under bob's From: 403"
INV_FROM=sip:bob@example.com invite_final $RURI \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge" SHA-256 \
	caller pw1 INVITE $RURI 00000004)"
expect_final "403 Forbidden: From Does Not Match Credentials" "From spoofing"

log "a call from another domain is not challenged"
INV_FROM=sip:someone@elsewhere.example invite_final $RURI
expect_final "404 Not Found" "INVITE from a foreign domain"

log "an OPTIONS from our user is challenged too"
sip_send_text -n 1 >"$WORK/options" <<MSG
OPTIONS $RURI SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=o1
To: <$RURI>
Call-ID: opt-@TAG@
CSeq: 1 OPTIONS
Content-Length: 0

MSG
expect_status "$WORK/options" "407 Proxy Authentication Required" "OPTIONS"

log "a BYE with a To tag but no stamp of ours is challenged like an initial request"
sip_send_text -n 1 >"$WORK/bye" <<MSG
BYE $RURI SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=b1
To: <$RURI>;tag=b2
Call-ID: bye-@TAG@
CSeq: 2 BYE
Content-Length: 0

MSG
expect_status "$WORK/bye" "407 Proxy Authentication Required" \
	"BYE with a made-up To tag"

log "an INVITE from our user with a made-up To tag is an initial request: 407"
sip_send_text -n 1 >"$WORK/totag" <<MSG
INVITE $RURI SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=i1
To: <$RURI>;tag=made-up
Call-ID: totag-@TAG@
CSeq: 1 INVITE
Contact: <sip:caller@@LOCAL_IP@:@LOCAL_PORT@>
Content-Length: 0

MSG
expect_status "$WORK/totag" "407 Proxy Authentication Required" \
	"INVITE with a made-up To tag"

log "someone else's GRUU as Contact: 403; one's own passes (RFC 5627 §10.2)"
UUID=urn:uuid:00000000-0000-4000-8000-0000000000b0
INV_CONTACT="sip:bob@example.com;gr=$UUID" invite_final $RURI \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge" SHA-256 \
	caller pw1 INVITE $RURI 00000005)"
expect_final "403 Forbidden: Contact Is Another User's GRUU" "bob's GRUU"
INV_CONTACT="sip:caller@example.com;gr=$UUID" invite_final $RURI \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge" SHA-256 \
	caller pw1 INVITE $RURI 00000006)"
expect_final "404 Not Found" "the caller's own GRUU"
INV_FROM="sip:caller@EXAMPLE.com." INV_CONTACT="sip:caller@example.com;gr=$UUID" \
	invite_final $RURI "$(digest_credentials Proxy-Authorization \
	"$WORK/challenge" SHA-256 caller pw1 INVITE $RURI 0000000e)"
expect_final "404 Not Found" "the caller's own GRUU, From spelled EXAMPLE.com."

log "bob's temp-gruu as Contact: 403 too"
BOB_CONTACT='Contact: <sip:bob@127.0.0.1:5996>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000000b1>";reg-id=1'
sip_register "$WORK/bc" bob@example.com cid-bob 1 "$BOB_CONTACT" "Supported: gruu"
sip_register "$WORK/br" bob@example.com cid-bob 2 "$BOB_CONTACT" "Supported: gruu" \
	"$(digest_credentials Authorization "$WORK/bc" SHA-256 bob pw2 REGISTER \
	sip:example.com 00000001)"
expect_status "$WORK/br" "200 OK" "bob's REGISTER"
tgruu=$(sip_hdr "$WORK/br" Contact | sed -n 's/.*temp-gruu="\([^"]*\)".*/\1/p')
[[ $tgruu == sip:tgruu.*@example.com\;gr ]] || fail "bob's temp-gruu: '$tgruu'"
INV_CONTACT="$tgruu" invite_final $RURI \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge" SHA-256 \
	caller pw1 INVITE $RURI 00000007)"
expect_final "403 Forbidden: Contact Is Another User's GRUU" "bob's temp-gruu"

log "past auth.fail_limit failures (3, one above): 403, even with the password"
for nc in 00000008 0000000b; do
	invite_final $RURI "$(digest_credentials Proxy-Authorization \
		"$WORK/challenge" SHA-256 caller guess$nc INVITE $RURI $nc)"
	expect_final "407 Proxy Authentication Required" "wrong password $nc"
done
for nc in 0000000c 0000000d; do
	invite_final $RURI "$(digest_credentials Proxy-Authorization \
		"$WORK/challenge" SHA-256 caller pw1 INVITE $RURI $nc)"
	expect_final "403 Forbidden: Too Many Failed Authentications" \
		"attempt after the limit"
done
[ "$(grep -c "auth: src:127.0.0.1 refused" "$WORK/locus.log")" = 1 ] ||
	fail "expected one log line for the blocked source"
log "ok"
