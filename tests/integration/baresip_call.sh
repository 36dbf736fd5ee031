#!/usr/bin/env bash
# Real softphones call through locus.  Three baresip 1.0.0
# instances register with GRUUs: alice, a second device of alice
# (alice2), and bob.
#  1. alice dials sip:bob@example.com; bob answers; both establish.  bob's
#     200 OK to the INVITE carries his pub-gruu as Contact (RFC 5627 §4.4),
#     so alice's BYE is addressed to that GRUU: locus must route it to
#     bob's registered address (RFC 5627 §6.1).
#  2. bob dials alice's pub-gruu: only that device rings (RFC 5627 §6.1:
#     a GRUU reaches the one instance), never alice2; alice answers, then
#     hangs up, and her BYE reaches bob through his GRUU again.
#  3. alice de-registers; bob dials her pub-gruu again: 480 (RFC 5627
#     §5.3), and still nothing reaches alice2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"

LOG_LEVEL=debug
new_db
write_config
start_locus

bs_new alice alice auto
bs_new alice2 alice manual
bs_new bob bob auto
for ua in alice alice2 bob; do bs_start "$ua"; done
for ua in alice alice2 bob; do
	bs_wait_registered "$ua"
	bs_pub_gruu "$ua"
	[ "$BS_PUB_GRUU" = "sip:${BS_USER[$ua]}@example.com;gr=urn:uuid:${BS_UUID[$ua]}" ] ||
		fail "$ua: uastat pub-gruu '$BS_PUB_GRUU'"
done
alice_gruu="sip:alice@example.com;gr=urn:uuid:${BS_UUID[alice]}"
bob_gruu="sip:bob@example.com;gr=urn:uuid:${BS_UUID[bob]}"
L=127.0.0.1:$LOCUS_PORT
A=127.0.0.1:${BS_PORT[alice]} A2=127.0.0.1:${BS_PORT[alice2]} B=127.0.0.1:${BS_PORT[bob]}
[ "$(psql_q "SELECT received FROM locus.bindings WHERE instance = 'urn:uuid:${BS_UUID[bob]}'")" = "$B" ] ||
	fail "bob's binding does not record his address $B"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'alice@example.com'")" = 2 ] ||
	fail "alice's two devices are not both bound"

# established UA: waits for CALL_ESTABLISHED at UA (10 s).
established() {
	bs_wait_event "$1" CALL_ESTABLISHED ||
		fail "$1 reported no CALL_ESTABLISHED within 10 s; its events: $(bs_events "$1" | tr '\n' ' ')"
}
# closed UA: waits for CALL_CLOSED at UA (10 s).
closed() {
	bs_wait_event "$1" CALL_CLOSED ||
		fail "$1 reported no CALL_CLOSED within 10 s; its events: $(bs_events "$1" | tr '\n' ' ')"
}

log "1. alice dials sip:bob@example.com"
for ua in alice alice2 bob; do bs_mark "$ua"; done
bs_cmd alice dial sip:bob@example.com
established bob
established alice
# The 200 OK bob sent to locus for the INVITE, and locus's relay of it.
ok=$(locus_msgs received "$B" "$L" 'SIP/2.0 200 ' '^CSeq: [0-9]+ INVITE$') ||
	fail "locus.log: no 200 OK to the INVITE from bob ($B)"
echo "$ok" | grep -Eq "^Contact: <$bob_gruu>" ||
	fail "bob's 200 OK does not carry Contact: <$bob_gruu>: $(echo "$ok" | grep -i '^contact:')"
locus_msgs sent "$L" "$A" 'SIP/2.0 200 ' '^CSeq: [0-9]+ INVITE$' \
	"^Contact: <$bob_gruu>" >/dev/null ||
	fail "locus.log: the 200 OK with bob's GRUU was not relayed to alice ($A)"
log "bob's 200 OK: $(echo "$ok" | grep '^Contact:')"
callid=$(echo "$ok" | sed -n 's/^Call-ID: //p' | head -n 1)
[ -n "$callid" ] || fail "no Call-ID in bob's 200 OK"
locus_msgs sent "$L" "$A2" 'INVITE ' >/dev/null &&
	fail "an INVITE reached alice2 ($A2) though nobody called alice"

log "alice hangs up: the BYE goes to bob's GRUU, locus routes it to $B"
bs_cmd alice hangup
closed bob
closed alice
locus_msgs received "$A" "$L" 'BYE ' "^Call-ID: $callid\$" >/dev/null ||
	fail "locus.log: alice's BYE ($callid) did not come through locus"
bye=$(locus_msgs sent "$L" "$B" 'BYE ' "^Call-ID: $callid\$") ||
	fail "locus.log: locus did not send alice's BYE ($callid) to bob's registered address $B"
log "BYE out to bob: $(echo "$bye" | sed -n '1p;2p')"
locus_msgs received "$B" "$L" 'SIP/2.0 200 ' "^Call-ID: $callid\$" '^CSeq: [0-9]+ BYE$' \
	>/dev/null || fail "locus.log: no 200 OK from bob to the BYE"

log "2. bob dials alice's pub-gruu $alice_gruu"
for ua in alice alice2 bob; do bs_mark "$ua"; done
bs_cmd bob dial "$alice_gruu"
established alice
established bob
inv=$(locus_msgs sent "$L" '*' 'INVITE ' "^From: .*<sip:bob@example.com>") ||
	fail "locus.log: locus forwarded no INVITE from bob"
inv2=$(printf '%s\n' "$inv" | awk '/^----$/{exit} {print}')
callid2=$(printf '%s\n' "$inv" | sed -n 's/^Call-ID: //p' | sort -u)
[ "$(printf '%s\n' "$callid2" | wc -l)" = 1 ] ||
	fail "bob's INVITEs carry several Call-IDs: $callid2"
locus_msgs sent "$L" "$A" 'INVITE ' "^Call-ID: $callid2\$" >/dev/null ||
	fail "locus.log: bob's INVITE to alice's GRUU did not go to alice's device $A"
if locus_msgs sent "$L" "$A2" 'INVITE ' "^Call-ID: $callid2\$"; then
	fail "bob's INVITE to alice's GRUU also went to alice2 ($A2), her other device"
fi
log "INVITE to alice's GRUU out to: $(printf '%s\n' "$inv2" | sed -n '1p')"
ev=$(bs_events alice2)
[ -z "$ev" ] || fail "alice2 saw events during a call to alice's GRUU: $ev"
bs_cmd alice2 listcalls
printf '%s\n' "$BS_DATA" | grep -q 'sip:' &&
	fail "alice2 has a call: $BS_DATA"

log "alice hangs up: her BYE goes to bob's GRUU"
bs_cmd alice hangup
closed alice
closed bob
locus_msgs sent "$L" "$B" 'BYE ' "^Call-ID: $callid2\$" >/dev/null ||
	fail "locus.log: alice's BYE ($callid2) did not reach bob's registered address $B"

log "3. alice de-registers; bob dials her pub-gruu: 480, alice2 stays quiet"
bs_stop alice
for ua in alice2 bob; do bs_mark "$ua"; done
bs_cmd bob dial "$alice_gruu"
closed bob
case $BS_EVENT in
*'"param":"480 '*) ;;
*) fail "bob's call to the GRUU of an unregistered device: expected 480, got: $BS_EVENT" ;;
esac
if locus_msgs sent "$L" "$A2" 'INVITE '; then
	fail "an INVITE to alice's GRUU reached alice2 ($A2), her other device"
fi
ev=$(bs_events alice2)
[ -z "$ev" ] || fail "alice2 saw events during a call to alice's GRUU: $ev"

for ua in alice2 bob; do bs_stop "$ua"; done
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = 0 ] ||
	fail "bindings left after the phones de-registered: $(psql_q 'table locus.bindings')"
log "ok"
