#!/usr/bin/env bash
# locus's own legs and its gate (auth.enabled): the INVITEs locus sends
# for a click-to-call, From and To in our domain, pass the proxy's gate
# without credentials, because they carry locus's origin stamp on the
# Route naming locus; a request that only claims to be locus's does not:
# an INVITE with a made-up stamp, or with a real one (read off locus's
# debug log) on a request with another Request-URI or From, gets 407.  INVITEs to a park slot pass
# the same gate as any call.  The phones are static bindings (no
# REGISTER, no credentials of their own).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
. "$(dirname "$0")/lib_ua.sh"

AUTH_CONFIG="enabled = true;"
new_db
write_config
echo 'features = { park = { slots = "701-709"; }; };' >>"$WORK/locus.conf"
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')" >/dev/null
alloc_port "DEV_PORT[alice]"
alloc_port "DEV_PORT[bob]"
DEV_INST[alice]=none DEV_INST[bob]=none
psql_q "SELECT locus.add_static_binding('alice@example.com', 'sip:alice@127.0.0.1:${DEV_PORT[alice]}')" >/dev/null
psql_q "SELECT locus.add_static_binding('bob@example.com', 'sip:bob@127.0.0.1:${DEV_PORT[bob]}')" >/dev/null
sleep 0.3   # the bindings reach memory by NOTIFY

log "locus's own legs pass the gate"
uas alice u_caller.xml
uas bob u_callee.xml
originate "'alice@example.com', 'sip:bob@example.com'"
call_wait "$CALL" connected
psql_q "SELECT locus.hangup($CALL)" >/dev/null
uas_wait alice
uas_wait bob
grep -q '^SIP/2.0 407' "$WORK/locus.log" && fail "a leg of locus's was challenged"

log "a made-up origin stamp, and a real one on another request"
stamp=$(grep -m 1 -o ';lo=[0-9a-f]*' "$WORK/locus.log" | cut -d= -f2)
[ ${#stamp} = 40 ] || fail "no origin stamp in locus.log: '$stamp'"
for lo in 0000000000000000000000000000000000000000 "$stamp"; do
	invite_final "sip:bob@example.com" "Route: <sip:127.0.0.1:$LOCUS_PORT;lr;lo=$lo>"
	expect_final "407 Proxy Authentication Required" "an INVITE with lo=$lo"
done
# the stamp was made for an INVITE to alice From bob: From another
INV_FROM="sip:carol@example.com" invite_final "sip:alice@example.com" \
	"Route: <sip:127.0.0.1:$LOCUS_PORT;lr;lo=$stamp>"
expect_final "407 Proxy Authentication Required" "the stamp of another INVITE"

log "an INVITE to a park slot passes the same gate"
INV_FROM="sip:alice@example.com" invite_final "sip:701@example.com"
expect_final "407 Proxy Authentication Required" "an INVITE to 701 without credentials"
[ "$(psql_q "SELECT count(*) FROM locus.parked")" = 0 ] || fail "parked without credentials"
log "ok"
