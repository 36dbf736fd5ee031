#!/usr/bin/env bash
# Intercom with digest authentication on: the caller of an intercom call
# is the user the 407 gate authenticated, nobody else.
#  - alice (granted) dialling *6bob without credentials: 407; with them,
#    bob's device gets the INVITE with the auto-answer headers;
#  - mallory, authenticated but not granted: 403 Intercom Not Allowed;
#  - an INVITE with alice's From from a peer in auth.trusted is not
#    authenticated (the gate lets it through unchallenged), so nobody
#    vouches for its caller: 403, and bob's device gets nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

PEER=127.0.0.6
new_db
AUTH_CONFIG="enabled = true; trusted = [ \"$PEER\" ];" write_config
echo 'features = { intercom = "*6"; };' >>"$WORK/locus.conf"
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'pw-a')"
psql_q "SELECT locus.add_subscriber('mallory', 'example.com', 'pw-m')"
psql_q "SELECT locus.allow_intercom('alice', 'example.com')"
# bob's phone: a static binding (no REGISTER, so no credentials needed)
alloc_port "DEV_PORT[bob]"
DEV_INST[bob]=static
psql_q "SELECT locus.add_static_binding('bob@example.com',
	'sip:dev@127.0.0.1:${DEV_PORT[bob]}')"
start_locus
RURI='sip:*6bob@example.com'

log "alice without credentials: 407"
INV_FROM=sip:alice@example.com invite_final "$RURI"
expect_final "407 Proxy Authentication Required" "*6bob without credentials"
cp "$INV_OUT" "$WORK/challenge"

log "alice authenticated: bob's device gets the intercom INVITE"
uas_reject bob 486 "Busy Here" "X-Device: bob"
INV_FROM=sip:alice@example.com invite_final "$RURI" \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge" SHA-256 \
	alice pw-a INVITE "$RURI" 00000001)"
uas_wait bob
expect_final "486 Busy Here" "authenticated alice dialling *6bob"
inv=$(msg_nth "${UAS_BASE[bob]}.msg" received '^INVITE ' 1)
[ "$(head -n 1 <<<"$inv" | tr -d '\r')" = "INVITE sip:dev@127.0.0.1:${DEV_PORT[bob]} SIP/2.0" ] ||
	fail "authenticated alice: bob's device got '$(head -n 1 <<<"$inv")'"
[ "$(hdr_of Call-Info <<<"$inv")" = "<sip:example.com>;answer-after=0" ] ||
	fail "authenticated alice: Call-Info at bob's device '$(hdr_of Call-Info <<<"$inv")'"

log "mallory authenticated, not granted: 403"
INV_FROM=sip:mallory@example.com invite_final "$RURI"
cp "$INV_OUT" "$WORK/challenge-m"
silent bob
INV_FROM=sip:mallory@example.com invite_final "$RURI" \
	"$(digest_credentials Proxy-Authorization "$WORK/challenge-m" SHA-256 \
	mallory pw-m INVITE "$RURI" 00000001)"
expect_final "403 Intercom Not Allowed" "authenticated mallory dialling *6bob"
silent_check bob "authenticated mallory dialling *6bob"

log "alice's From from an auth.trusted peer, unauthenticated: 403"
silent bob
INV_SRC=$PEER INV_FROM=sip:alice@example.com invite_final "$RURI"
expect_final "403 Intercom Not Allowed" "*6bob from a trusted peer"
silent_check bob "*6bob from a trusted peer"
grep -q "intercom refused: a caller nobody vouches for may not call bob@example.com" \
	"$WORK/locus.log" || fail "no log line for the unvouched caller"

log "ok"
