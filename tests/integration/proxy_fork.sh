#!/usr/bin/env bash
# Target selection (RFC 3261 §16.6, RFC 5627 §5.3), two devices
# A and B of one AOR (two instances), each registered from its own port:
#  - an INVITE to the AOR rings both; A answers, B (still ringing) gets a
#    CANCEL and answers it 200 and its INVITE 487, which stays at locus;
#  - an INVITE to A's pub-gruu, then to A's temp-gruu, rings only A (the
#    Request-URI at A is its registered Contact);
#  - A answers 486 to its pub-gruu: the caller gets that 486, B is never
#    tried;
#  - A gets a second flow (same instance, reg-id 2, its own port): a
#    request to the pub-gruu goes to the newest flow alone; its 486 ends
#    the request; after its 430 or 408 the older flow is tried; B never.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device A alice@example.com urn:uuid:f0000000-0000-4000-8000-00000000000a
device B alice@example.com urn:uuid:f0000000-0000-4000-8000-00000000000b

log "INVITE to the AOR: both ring, A answers, B is cancelled"
uas A p_uas_answer.xml -d 300
uas B p_uas_cancel.xml
uac uac_call.xml -key ruri "sip:alice@example.com" || fail "call to the AOR"
uas_wait A
uas_wait B
grep -q "ANSWERED-BY ${DEV_INST[A]}" "$UAC_BASE.log" ||
	fail "call to the AOR: not answered by A"
for d in A B; do
	[ "$(msg_count "${UAS_BASE[$d]}.msg" received '^INVITE ')" = 1 ] ||
		fail "call to the AOR: device $d did not get exactly one INVITE"
done
[ "$(msg_count "${UAS_BASE[B]}.msg" received '^CANCEL ')" = 1 ] ||
	fail "call to the AOR: B got no CANCEL"
[ "$(msg_count "${UAS_BASE[B]}.msg" sent '^SIP/2.0 487 ')" = 1 ] ||
	fail "call to the AOR: B did not answer 487"
[ "$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 (487|[3-6][0-9][0-9]) ')" = 0 ] ||
	fail "call to the AOR: B's 487 reached the caller after A's 200"

for gruu in pub tmp; do
	if [ $gruu = pub ]; then uri=${DEV_PUB[A]}; else uri=${DEV_TMP[A]}; fi
	log "INVITE to A's $gruu-gruu rings only A"
	uas A p_uas_answer.xml
	silent B
	uac uac_call.xml -key ruri "$uri" || fail "call to A's $gruu-gruu"
	uas_wait A
	silent_check B "call to A's $gruu-gruu"
	grep -q "ANSWERED-BY ${DEV_INST[A]}" "$UAC_BASE.log" ||
		fail "call to A's $gruu-gruu: not answered by A"
	line=$(msg_nth "${UAS_BASE[A]}.msg" received '^INVITE ' 1 | head -n 1 | tr -d '\r')
	[ "$line" = "INVITE sip:dev@127.0.0.1:${DEV_PORT[A]} SIP/2.0" ] ||
		fail "call to A's $gruu-gruu: Request-URI at A is '$line', not its Contact"
done

log "A answers 486 to its pub-gruu: 486 upstream, B never tried"
uas_reject A 486 "Busy Here" "X-Outcome: busy"
silent B
invite_final "${DEV_PUB[A]}"
uas_wait A
silent_check B "486 from A's pub-gruu"
expect_final "486 Busy Here" "486 from A's pub-gruu"

log "A's second flow (reg-id 2) is the newest: it alone gets the pub-gruu's INVITE"
device A2 alice@example.com "${DEV_INST[A]}" 2
[ "${DEV_PUB[A2]}" = "${DEV_PUB[A]}" ] || fail "A's second flow has another pub-gruu"
uas_reject A2 486 "Busy Here" "X-Outcome: busy on flow 2"
silent A
silent B
invite_final "${DEV_PUB[A]}"
uas_wait A2
silent_check A "486 from A's newest flow"
silent_check B "486 from A's newest flow"
expect_final "486 Busy Here" "486 from A's newest flow"

for code in "430 Flow Failed" "408 Request Timeout"; do
	log "$code from A's newest flow: the older flow is tried, B is not"
	uas_reject A2 "${code%% *}" "${code#* }" "X-Outcome: flow 2"
	uas A p_uas_answer.xml
	silent B
	uac uac_call.xml -key ruri "${DEV_PUB[A]}" || fail "$code from A's newest flow: call failed"
	uas_wait A2
	uas_wait A
	silent_check B "$code from A's newest flow"
	grep -q "ANSWERED-BY ${DEV_INST[A]}" "$UAC_BASE.log" ||
		fail "$code from A's newest flow: not answered by A's older flow"
done
log "ok"
