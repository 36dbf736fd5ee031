#!/usr/bin/env bash
# Click-to-call with real softphones: baresip 1.0.0 (answermode=auto) and
# Linphone (linphone-daemon --auto-answer), each registered with locus.
# locus calls the caller's phone without SDP (it offers in its 200), then
# the callee's with that offer (bridge mode), or sends the caller a REFER
# to the callee (refer mode).  What is asserted is what the phones
# themselves report (baresip's ctrl_tcp events, Linphone's call states),
# and locus.calls.
#  1. bridge: baresip calls out to Linphone; locus.hangup() ends both;
#  2. bridge: Linphone calls out to baresip; the callee hangs up;
#  3. refer: baresip is referred to Linphone, calls it, and locus leaves;
#  4. refer: Linphone is referred to baresip.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"
. "$(dirname "$0")/lib_linphone.sh"
. "$(dirname "$0")/lib_ua.sh"

LOG_LEVEL=debug
new_db
write_config
start_locus

bs_new alice alice auto
ld_new bob bob udp
bs_start alice
ld_start bob auto
bs_wait_registered alice
ld_wait_registered bob

# ev UA TYPE WHAT / lev UA STATE WHAT: waits (10 s) for a baresip event
# or a Linphone call state.
ev() {
	bs_wait_event "$1" "$2" ||
		fail "$3: $1 reported no $2 within 10 s; its events: $(bs_events "$1" | tr '\n' ' ')"
}
lev() {
	ld_wait_event "$1" "LinphoneCall$2" ||
		fail "$3: $1 reported no LinphoneCall$2 within 10 s; its events: $(ld_events "$1" | tr '\n' ' ')"
}

log "1. bridge: baresip (alice) to Linphone (bob)"
bs_mark alice; ld_mark bob
originate "'alice@example.com', 'sip:bob@example.com'"
ev alice CALL_ESTABLISHED "alice's leg"
lev bob StreamsRunning "bob's leg"
call_wait "$CALL" connected
bs_mark alice; ld_mark bob
psql_q "SELECT locus.hangup($CALL)" >/dev/null
ev alice CALL_CLOSED "locus.hangup()"
lev bob End "locus.hangup()"
call_wait "$CALL" ended

log "2. bridge: Linphone (bob) to baresip (alice); alice hangs up"
bs_mark alice; ld_mark bob
originate "'bob@example.com', 'sip:alice@example.com'"
lev bob StreamsRunning "bob's leg"
ev alice CALL_ESTABLISHED "alice's leg"
call_wait "$CALL" connected
bs_mark alice; ld_mark bob
bs_cmd alice hangup
ev alice CALL_CLOSED "alice's hang-up"
lev bob End "alice's hang-up"
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "BYE from the callee" ] ||
	fail "call 2: cause '$(call_cause "$CALL")'"

log "3. refer: baresip (alice) is referred to Linphone (bob)"
bs_mark alice; ld_mark bob
originate "'alice@example.com', 'sip:bob@example.com', mode => 'refer'"
ev alice TRANSFER "the REFER"
case $BS_EVENT in *'sip:bob@example.com'*) ;;
*) fail "alice was not referred to bob: $BS_EVENT" ;; esac
lev bob StreamsRunning "alice's own call to bob"
call_wait "$CALL" connected
bs_cmd alice listcalls
[ "$(printf '%s\n' "$BS_DATA" | grep -c 'sip:')" = 1 ] ||
	fail "alice has other calls than the one to bob: $BS_DATA"
locus_msgs received "*" "*" 'INVITE sip:bob@example\.com' '^From: <sip:alice@example\.com>' >/dev/null ||
	fail "locus.log: no INVITE from alice's phone to bob"
bs_mark alice; ld_mark bob
ld_cmd bob terminate
ev alice CALL_CLOSED "bob's hang-up"

log "4. refer: Linphone (bob) is referred to baresip (alice)"
bs_mark alice; ld_mark bob
originate "'bob@example.com', 'sip:alice@example.com', mode => 'refer'"
lev bob Refered "the REFER"
ev alice CALL_ESTABLISHED "bob's own call to alice"
call_wait "$CALL" connected
bs_mark alice; ld_mark bob
bs_cmd alice hangup
lev bob End "alice's hang-up"

bs_stop alice
ld_stop bob
log "ok"
