#!/usr/bin/env bash
# Intercom with a real softphone: JsSIP 3.13 in headless Chromium
# (tests/browser), registered over SIP WebSocket and set to answer by
# itself only when an INVITE carries Call-Info ;answer-after=0, as
# JsSIP-based softphones implement intercom.  alice, allowed by a grant
# and JsSIP too, calls bob:
#  - with the code (*6bob): bob's JsSIP sees answer-after=0 and
#    answers by itself; alice's call is accepted;
#  - without it (bob), writing nothing special: bob's JsSIP lets it ring
#    and answers nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_browser.sh"

new_db
WS_PORT=$(free_port)
write_config
echo 'features = { intercom = "*6"; };' >>"$WORK/locus.conf"
psql_q "SELECT locus.allow_intercom('alice', 'example.com')"
start_locus
WS=ws://127.0.0.1:$WS_PORT

log "bob's JsSIP registers, answering by itself only on answer-after=0"
br_start bob "--ws=$WS" --uri=sip:bob@example.com --auto-answer \
	--until=none --timeout=60000
br_wait bob registered 15 || fail "bob's JsSIP did not register within 15 s"

log "alice's JsSIP calls *6bob: bob's answers by itself"
br_mark bob
br_start alice "--ws=$WS" --uri=sip:alice@example.com \
	"--call=sip:*6bob@example.com" --until=none --timeout=60000
br_wait bob newRTCSession 15 || fail "*6bob: bob's JsSIP got no INVITE within 15 s"
[ "$(br_get call_info)" = "<sip:example.com>;answer-after=0" ] ||
	fail "*6bob: bob's JsSIP saw Call-Info '$(br_get call_info)'"
[[ $(br_get ruri) != *'*6'* ]] || fail "*6bob: the code reached bob: $(br_get ruri)"
br_wait bob auto_answer 5 || fail "*6bob: bob's JsSIP made no auto-answer decision"
[ "$(br_get answer)" = true ] || fail "*6bob: bob's JsSIP did not decide to answer"
br_wait bob session_accepted 15 || fail "*6bob: bob's JsSIP did not answer"
br_wait alice session_accepted 15 ||
	fail "*6bob: alice's call was not accepted (JsSIP's 200 did not reach her)"
grep -q "intercom call: alice@example.com -> bob@example.com" "$WORK/locus.log" ||
	fail "*6bob: no log line naming the intercom call"
br_stop alice

log "alice's JsSIP calls bob without the code: bob's only rings"
br_mark bob
br_start alice2 "--ws=$WS" --uri=sip:alice@example.com \
	--call=sip:bob@example.com --until=none --timeout=60000
br_wait bob newRTCSession 15 || fail "bob: bob's JsSIP got no INVITE within 15 s"
[ -z "$(br_get call_info)" ] || fail "bob: bob's JsSIP saw Call-Info '$(br_get call_info)'"
br_wait bob auto_answer 5 || fail "bob: bob's JsSIP made no auto-answer decision"
[ "$(br_get answer)" = false ] || fail "bob: bob's JsSIP decided to answer"
br_wait alice2 session_progress 15 || fail "bob: alice heard no ringing"
# it rang; bob's JsSIP must not have answered by the time alice gives up
br_stop alice2
! br_wait bob session_accepted 1 ||
	fail "bob: bob's JsSIP answered a call without the code"
br_stop bob
log "ok"
