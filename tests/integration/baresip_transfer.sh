#!/usr/bin/env bash
# Blind transfer to a GRUU with real softphones.  Four baresip
# 1.0.0 instances register with GRUUs: alice, bob (manual answer), carol
# and carol2, a second device of carol's.  What is asserted comes from the
# phones' own ctrl_tcp events; locus's log (debug) adds where the
# messages went.
#  1. alice dials sip:bob@example.com; bob sees CALL_INCOMING, accepts;
#     both report CALL_ESTABLISHED; bob hangs up; both CALL_CLOSED.
#  2. alice calls bob again; bob transfers her (REFER, RFC 3515) to
#     carol's pub-gruu.  The transfer command is given the URI in angle
#     brackets: baresip puts its argument into Refer-To as it is, and
#     without the brackets ";gr=..." would be a header parameter of
#     Refer-To instead of part of the URI (RFC 3261 §20: a URI with
#     parameters must be in <>).  alice reports TRANSFER to that GRUU and
#     dials it; carol's device reports CALL_ESTABLISHED with alice, and
#     alice with the GRUU; alice's NOTIFY tells bob the transfer worked
#     (his CALL_CLOSED "Call transfered").  carol2 must not ring: an INVITE
#     to a GRUU reaches the one instance (RFC 5627 §6.1), and carol2
#     reports no event at all.
#  3. alice hangs up on carol; everybody de-registers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"

LOG_LEVEL=debug
new_db
write_config
start_locus
L=127.0.0.1:$LOCUS_PORT

bs_new alice alice auto
bs_new bob bob manual
bs_new carol carol auto
# auto: were the INVITE to carol's GRUU forked to carol2, she would answer
# it and the events would show it.
bs_new carol2 carol auto
phones=(alice bob carol carol2)
for ua in "${phones[@]}"; do bs_start "$ua"; done
for ua in "${phones[@]}"; do
	bs_wait_registered "$ua"
	bs_pub_gruu "$ua"
	[ "$BS_PUB_GRUU" = "sip:${BS_USER[$ua]}@example.com;gr=urn:uuid:${BS_UUID[$ua]}" ] ||
		fail "$ua: uastat pub-gruu '$BS_PUB_GRUU'"
done
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'carol@example.com'")" = 2 ] ||
	fail "carol's two devices are not both bound"
carol_gruu="sip:carol@example.com;gr=urn:uuid:${BS_UUID[carol]}"
A=127.0.0.1:${BS_PORT[alice]} B=127.0.0.1:${BS_PORT[bob]}
C=127.0.0.1:${BS_PORT[carol]} C2=127.0.0.1:${BS_PORT[carol2]}

# ev UA TYPE WHAT: waits (10 s) for an event of TYPE at UA.
ev() {
	bs_wait_event "$1" "$2" ||
		fail "$3: $1 reported no $2 within 10 s; its events: $(bs_events "$1" | tr '\n' ' ')"
}
# peer WANT WHAT: the event in BS_EVENT has peeruri WANT.
peer() {
	case $BS_EVENT in *"\"peeruri\":\"$1\""*) ;;
	*) fail "$2: expected peer $1: $BS_EVENT" ;; esac
}
# quiet UA WHAT: UA reported no event since its mark and has no call.
quiet() {
	local e; e=$(bs_events "$1")
	[ -z "$e" ] || fail "$2: $1 reported events: $(echo "$e" | tr '\n' ' ')"
	bs_cmd "$1" listcalls
	! printf '%s\n' "$BS_DATA" | grep -q 'sip:' || fail "$2: $1 has a call: $BS_DATA"
}

# carol2's mark stays here: she must report nothing in the whole test.
bs_mark carol2
log "1. alice dials sip:bob@example.com; bob accepts"
for ua in alice bob carol; do bs_mark "$ua"; done
bs_cmd alice dial sip:bob@example.com
ev bob CALL_INCOMING "alice's call"
peer sip:alice@example.com "bob's incoming call"
bs_cmd bob accept
ev bob CALL_ESTABLISHED "alice's call"
ev alice CALL_ESTABLISHED "alice's call"
peer sip:bob@example.com "alice's call"
log "bob hangs up"
bs_cmd bob hangup
ev bob CALL_CLOSED "bob's hang-up"
ev alice CALL_CLOSED "bob's hang-up"

log "2. alice calls bob again; bob transfers her to <$carol_gruu>"
for ua in alice bob carol; do bs_mark "$ua"; done
bs_cmd alice dial sip:bob@example.com
ev bob CALL_INCOMING "alice's second call"
bs_cmd bob accept
ev bob CALL_ESTABLISHED "alice's second call"
ev alice CALL_ESTABLISHED "alice's second call"
call1=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$BS_EVENT")
bs_mark alice
bs_cmd bob transfer "<$carol_gruu>"
ev alice TRANSFER "the transfer"
case $BS_EVENT in *"\"param\":\"<$carol_gruu>\""*) ;;
*) fail "alice was not referred to <$carol_gruu>: $BS_EVENT" ;; esac
ev carol CALL_ESTABLISHED "the transferred call"
peer sip:alice@example.com "carol's call"
ev alice CALL_ESTABLISHED "the transferred call"
peer "$carol_gruu" "alice's call to the Refer-To URI"
ev bob CALL_CLOSED "the transfer"
case $BS_EVENT in *'"param":"Call transfered"'*) ;;
*) fail "bob's call did not end by the transfer: $BS_EVENT" ;; esac
# after bob's BYE, alice's first call ends
ev alice CALL_CLOSED "the transfer"
case $BS_EVENT in *"\"id\":\"$call1\""*) ;;
*) fail "alice's call to bob ($call1) did not end, another did: $BS_EVENT" ;; esac

# On the wire: the Refer-To bob sent and locus relayed to alice.
refer=$(locus_msgs received "$B" "$L" 'REFER ') || fail "locus.log: no REFER from bob"
grep -qxF "Refer-To: <$carol_gruu>" <<<"$refer" ||
	fail "bob's REFER: $(grep -i '^Refer-To:' <<<"$refer"), expected Refer-To: <$carol_gruu>"
locus_msgs sent "$L" "$A" 'REFER ' "^Refer-To: <${carol_gruu//./\\.}>\$" >/dev/null ||
	fail "locus.log: bob's REFER was not relayed to alice at $A"
locus_msgs sent "$L" "$C" "INVITE " '^From: <sip:alice@example\.com>' >/dev/null ||
	fail "locus.log: alice's INVITE to carol's GRUU did not go to carol's device $C"
if locus_msgs sent "$L" "$C2" 'INVITE '; then
	fail "an INVITE reached carol2 ($C2), though alice called carol's other device's GRUU"
fi
quiet carol2 "the calls and the transfer to carol's GRUU"

log "3. alice hangs up on carol"
bs_mark alice; bs_mark carol
bs_cmd alice hangup
ev alice CALL_CLOSED "alice's hang-up"
ev carol CALL_CLOSED "alice's hang-up"
quiet carol2 "alice's hang-up"

for ua in "${phones[@]}"; do bs_stop "$ua"; done
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = 0 ] ||
	fail "bindings left after the phones de-registered: $(psql_q 'TABLE locus.bindings')"
log "ok"
