#!/usr/bin/env bash
# Reliable provisional responses through locus (RFC 3262, RFC
# 3261 §16.7 step 5), with the field traces 180-ringing-100rel.sip and
# prack-with-sdp.sip as vectors:
#  - one device: its reliable 180 and two retransmissions of it (0.5 s and
#    1 s later) each reach the caller, byte for byte but for locus's Via;
#    the caller's PRACK (RAck, SDP body) is routed by the Record-Route set
#    to the device untouched, its 200 comes back; then 200, ACK, BYE;
#  - two devices of one AOR both ring reliably: two early dialogs at the
#    caller, each 180 intact; the caller PRACKs each and each PRACK reaches
#    its own device (one by its Contact, one by its temp-gruu); one device
#    answers, the other is CANCELled.
# The sipp screens of the fork case are printed at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device D 1001@127.0.0.1 urn:uuid:f0000000-0000-4000-8000-0000000000d1
device F1 ring@example.com urn:uuid:f0000000-0000-4000-8000-0000000000f1
device F2 ring@example.com urn:uuid:f0000000-0000-4000-8000-0000000000f2

log "one device: reliable 180 sent three times, PRACK, 200, ACK, BYE"
UAS_CONTACT="sip:1001@127.0.0.1:${DEV_PORT[D]}" uas D p_uas_100rel.xml
uac p_uac_100rel.xml -key ruri "sip:1001@127.0.0.1" || fail "100rel call"
uas_wait D
dev=${UAS_BASE[D]}.msg
n=$(msg_count "$dev" sent '^SIP/2.0 180 ')
[ "$n" = 3 ] || fail "the device sent its 180 $n times, not 3"
n=$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 180 ')
[ "$n" = 3 ] || fail "the caller got $n of the three copies of the 180"
for i in 1 2 3; do
	relayed_intact "$dev" '^SIP/2.0 180 ' "$i" "$UAC_BASE.msg" "180, copy $i"
done
# Require, RSeq, Server, Allow, Allow-Events and the SDP body are part of
# the comparison above; make sure they were there in the first place
msg_nth "$UAC_BASE.msg" received '^SIP/2.0 180 ' 1 >"$WORK/180.got"
for h in "Require: 100rel" "RSeq: 1" "Server: OBIHAI/OBi1062-5.1.11.5312" \
	"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, PRACK, NOTIFY" \
	"Allow-Events: hold,talk,dialog" "Content-Type: application/sdp"; do
	grep -qxF "$h"$'\r' "$WORK/180.got" || fail "the caller's 180 lacks '$h'"
done
grep -q '^a=rtpmap:101 telephone-event/8000' "$WORK/180.got" ||
	fail "the caller's 180 lost its body"
grep -q '^RSEQ 1$' "$UAC_BASE.log" || fail "the caller did not see RSeq 1"

n=$(msg_count "$dev" received '^PRACK ')
[ "$n" = 1 ] || fail "the device got $n PRACKs, not 1"
msg_nth "$dev" received '^PRACK ' 1 >"$WORK/prack.got"
msg_nth "$UAC_BASE.msg" sent '^PRACK ' 1 >"$WORK/prack.sent"
line=$(head -n 1 "$WORK/prack.got" | tr -d '\r')
[ "$line" = "PRACK sip:1001@127.0.0.1:${DEV_PORT[D]} SIP/2.0" ] ||
	fail "the PRACK reached the device as '$line'"
[ "$(hdr_of RAck <"$WORK/prack.got")" = "1 1 INVITE" ] || fail "PRACK: RAck changed"
cmp -s <(body_of <"$WORK/prack.got") <(body_of <"$WORK/prack.sent") ||
	fail "PRACK: body changed"
[ "$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 200 ')" = 3 ] ||
	fail "the caller did not get the 200s to its PRACK, INVITE and BYE"
grep -q "ANSWERED-BY ${DEV_INST[D]}" "$UAC_BASE.log" ||
	fail "100rel call: not answered by the device"
# locus neither adds nor removes 100rel
inv=$(msg_nth "$dev" received '^INVITE ' 1)
[ "$(hdr_of Supported <<<"$inv")" = "100rel" ] ||
	fail "INVITE at the device: Supported changed"
[ -z "$(hdr_of Require <<<"$inv")" ] ||
	fail "INVITE at the device: locus added a Require"
one_screen=$UAC_BASE.out
one_dev_screen=${UAS_BASE[D]}.out

log "fork: two devices ring reliably, each PRACK reaches its own device"
# F1's Contact is a plain URI (the PRACK is forwarded by it), F2's its
# temp-gruu (locus resolves it to F2's registered Contact)
UAS_CONTACT="sip:1001@127.0.0.1:${DEV_PORT[F1]}" \
	uas F1 p_uas_100rel_answer.xml -key rseq 39965
UAS_CONTACT="${DEV_TMP[F2]}" uas F2 p_uas_100rel_cancel.xml -key rseq 1
uac p_uac_100rel_fork.xml -key ruri "sip:ring@example.com" ||
	fail "100rel fork call"
uas_wait F1
uas_wait F2
n=$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 180 ')
[ "$n" = 2 ] || fail "fork: the caller got $n 180s, not 2"
declare -A prack_ruri=(
	[F1]="PRACK sip:1001@127.0.0.1:${DEV_PORT[F1]} SIP/2.0"
	[F2]="PRACK sip:dev@127.0.0.1:${DEV_PORT[F2]} SIP/2.0"
)
declare -A rack=([F1]="39965 1 INVITE" [F2]="1 1 INVITE")
declare -A tags=()
for d in F1 F2; do
	msgf=${UAS_BASE[$d]}.msg
	relayed_intact "$msgf" '^SIP/2.0 180 ' 1 "$UAC_BASE.msg" "fork: 180 of $d"
	tags[$d]=$(msg_nth "$msgf" sent '^SIP/2.0 180 ' 1 | hdr_of To |
		sed -n 's/.*;tag=//p')
	[ -n "${tags[$d]}" ] || fail "fork: no To tag in $d's 180"
	n=$(msg_count "$msgf" received '^PRACK ')
	[ "$n" = 1 ] || fail "fork: $d got $n PRACKs, not 1"
	prack=$(msg_nth "$msgf" received '^PRACK ' 1)
	[ "$(hdr_of To <<<"$prack" | sed -n 's/.*;tag=//p')" = "${tags[$d]}" ] ||
		fail "fork: the PRACK at $d is for another early dialog: $(hdr_of To <<<"$prack")"
	[ "$(head -n 1 <<<"$prack" | tr -d '\r')" = "${prack_ruri[$d]}" ] ||
		fail "fork: the PRACK reached $d as '$(head -n 1 <<<"$prack")'"
	[ "$(hdr_of RAck <<<"$prack")" = "${rack[$d]}" ] ||
		fail "fork: the PRACK at $d has RAck $(hdr_of RAck <<<"$prack")"
done
[ "${tags[F1]}" != "${tags[F2]}" ] || fail "fork: both early dialogs have one To tag"
grep -q "ANSWERED-BY ${DEV_INST[F1]}" "$UAC_BASE.log" || fail "fork: not answered by F1"
for m in ACK BYE; do
	[ "$(msg_count "${UAS_BASE[F1]}.msg" received "^$m ")" = 1 ] ||
		fail "fork: F1 got no $m"
done
[ "$(msg_count "${UAS_BASE[F2]}.msg" received '^CANCEL ')" = 1 ] ||
	fail "fork: F2 was not CANCELled"

screen() {
	sed -n '/Messages  Retrans/,/Test Terminated/p' "$1" | grep -v 'Test Terminated'
	grep -E '^  (Successful|Failed) call' "$1"
}
echo "---- sipp, caller: one device, reliable 180 x3 (p_uac_100rel.xml)"
screen "$one_screen"
echo "---- sipp, device D (p_uas_100rel.xml)"
screen "$one_dev_screen"
echo "---- sipp, caller: fork to two reliable devices (p_uac_100rel_fork.xml)"
screen "$UAC_BASE.out"
sed -n 's/^.*\(EARLY[12] .*\|ANSWERED-BY .*\)$/\1/p' "$UAC_BASE.log"
echo "---- sipp, device F1 (p_uas_100rel_answer.xml)"
screen "${UAS_BASE[F1]}.out"
echo "---- sipp, device F2 (p_uas_100rel_cancel.xml)"
screen "${UAS_BASE[F2]}.out"
log "ok"
