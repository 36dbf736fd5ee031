#!/usr/bin/env bash
# proxy.relay = true: a request for a domain that is not ours is forwarded
# by its Request-URI (with relaying off it gets 403, see
# proxy_gruu_validity.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
PROXY_RELAY=true start_locus
grep -q "relay = true" "$WORK/locus.conf" || fail "relay not configured"

# V is a device of a foreign domain: not registered here, reached by its
# address in the Request-URI.
alloc_port "DEV_PORT[V]"
DEV_INST[V]=foreign
uas_reject V 486 "Busy Here" "X-Outcome: relayed"
invite_final "sip:vera@127.0.0.1:${DEV_PORT[V]}"
uas_wait V
expect_final "486 Busy Here" "relayed INVITE"
inv=$(msg_nth "${UAS_BASE[V]}.msg" received '^INVITE ' 1)
[ "$(head -n 1 <<<"$inv" | tr -d '\r')" = "INVITE sip:vera@127.0.0.1:${DEV_PORT[V]} SIP/2.0" ] ||
	fail "relayed INVITE has another Request-URI: $(head -n 1 <<<"$inv")"
hdr_of Record-Route <<<"$inv" | grep -q "127.0.0.1:$LOCUS_PORT;lr" ||
	fail "relayed INVITE is not record-routed"
soft_done
