#!/usr/bin/env bash
# Blind transfer to a GRUU (RFC 3515, RFC 5627 §4.2): caller C
# talks to B; B sends REFER (in the dialog, through locus) with
# Refer-To: <A's pub-gruu>; C gets it and answers 202, NOTIFYs, hangs up;
# then C's INVITE to that GRUU rings only device A while alice@ has two
# devices, A and A2.  The sipp screens of the two calls are printed at the
# end (the issue's closing note shows them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device A alice@example.com urn:uuid:f0000000-0000-4000-8000-0000000000a4
device A2 alice@example.com urn:uuid:f0000000-0000-4000-8000-0000000000a5
device B bob@example.com urn:uuid:f0000000-0000-4000-8000-0000000000b4

log "C calls B; B REFERs C to A's pub-gruu ${DEV_PUB[A]}"
uas B p_uas_refer.xml -key referto "${DEV_PUB[A]}"
silent A
silent A2
uac p_uac_transfer.xml -key ruri "sip:bob@example.com" || fail "C's call to B and the REFER"
refer_screen=$UAC_BASE.out
uas_wait B
silent_check A "C's call to B"
silent_check A2 "C's call to B"
referto=$(sed -n 's/^.*REFER-TO \(.*\)$/\1/p' "$UAC_BASE.log")
[ "$referto" = "${DEV_PUB[A]}" ] || fail "C got Refer-To '$referto'"
[ "$(msg_count "${UAS_BASE[B]}.msg" received '^SIP/2.0 202 ')" = 1 ] ||
	fail "B did not get C's 202"
[ "$(msg_count "${UAS_BASE[B]}.msg" received '^NOTIFY ')" = 1 ] ||
	fail "B did not get C's NOTIFY"

log "C calls the Refer-To URI: only A rings"
uas A p_uas_answer.xml
silent A2
uac uac_call.xml -key ruri "$referto" || fail "C's call to the Refer-To URI"
call_screen=$UAC_BASE.out
uas_wait A
silent_check A2 "C's call to the Refer-To URI"
a2_screen=${UAS_BASE[A2]}.out
grep -q "ANSWERED-BY ${DEV_INST[A]}" "$UAC_BASE.log" || fail "the transfer target was not answered by A"

# sipp's screens: the message lines and the call counts
screen() {
	sed -n '/Messages  Retrans/,/Test Terminated/p' "$1" | grep -v 'Test Terminated'
	grep -E '^  (Successful|Failed) call' "$1"
}
echo "---- sipp, C: call to B, REFER from B, 202, NOTIFY, BYE (p_uac_transfer.xml)"
screen "$refer_screen"
echo "---- sipp, C: INVITE to the Refer-To URI $referto (uac_call.xml)"
screen "$call_screen"
sed -n 's/^.*\(ANSWERED-BY .*\)$/\1/p' "$UAC_BASE.log"
echo "---- sipp, device A2 (alice@, the other instance) meanwhile (p_uas_silent.xml)"
screen "$a2_screen"
log "ok"
