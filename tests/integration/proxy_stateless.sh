#!/usr/bin/env bash
# Requests of a record-routed dialog that need no transaction (BYE, INFO,
# PRACK, MESSAGE) are forwarded statelessly (RFC 3261 §16.11), their
# responses relayed by Via:
#  - each retransmission goes on, with the same branch (a hash of the
#    received one, "z9hG4bKsl..."), and the answer comes back each time;
#  - another transaction gets another branch;
#  - a response to such a branch goes upstream only with our stamp ("lt")
#    on its top Via: a forged one reaches nobody;
#  - the caller's BYE reaches the device and its 200 the caller.
# The caller is a raw sender whose Contact is a UA on 127.0.0.6
# (tests/tools/udpua.py, answers everything 200); bob's device B is a
# sipp; a UA on 127.0.0.5 stands for a victim of forged responses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device B bob@example.com urn:uuid:f0000000-0000-4000-8000-0000000000c1

udpua caller 127.0.0.6
udpua victim 127.0.0.5
CALLER=sip:mallory@127.0.0.6:${UA_PORT[caller]}

# top_vias NAME METHOD: the top Via of every METHOD udpua NAME received
top_vias() {
	awk -v m="$2" '
		start && index($0, m " ") == 1 { want = 1 }
		want && /^Via:/ { sub(/\r$/, ""); print; want = 0 }
		{ start = ($0 == "----") }
		BEGIN { start = 1 }' "$WORK/ua_$1.log"
}

# send OUT TEXT-FILE: TEXT-FILE to locus from a fresh port; waits for a
# final answer (at most 3 s), the responses in $WORK/OUT
send() {
	sip_send_text -n 1 -w 3000 <"$WORK/$2" >"$WORK/$1" || true
}

log "the call: mallory rings bob's device"
uas B p_uas_answer.xml
INV_FROM=sip:mallory@evil.example INV_CONTACT=$CALLER invite_final "sip:bob@example.com"
expect_final "200 OK" "mallory's call to bob"
CALLID=$(final_hdr "$INV_OUT" Call-ID)
MALLORY=$(final_hdr "$INV_OUT" From)
BOB=$(final_hdr "$INV_OUT" To)
DOWN=$(final_hdr "$INV_OUT" Record-Route)
UP=$(msg_nth "${UAS_BASE[B]}.msg" received '^INVITE ' 1 | hdr_of Record-Route)
BDEV=sip:dev@127.0.0.1:${DEV_PORT[B]}
[[ $UP =~ \;ls=u[0-9a-f]{32}\> ]] || fail "bob's INVITE has no stamp: $UP"

# indialog FILE METHOD RURI ROUTE FROM TO CSEQ BRANCH: one request of the
# call, its Via fixed (a retransmission is the same text sent again)
indialog() {
	cat >"$WORK/$1" <<EOF
$2 $3 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5999;branch=$8;rport
Route: $4
Max-Forwards: 70
From: $5
To: $6
Call-ID: $CALLID
CSeq: $7 $2
Content-Length: 0

EOF
}
indialog ack ACK "$BDEV" "$DOWN" "$MALLORY" "$BOB" 1 "z9hG4bKsa$$"
"$BUILD/sipsend" -w 300 127.0.0.1 "$LOCUS_PORT" - < <(crlf <"$WORK/ack") >/dev/null || true

log "bob's INFO to the caller, sent twice (a retransmission): both go on"
indialog info INFO "$CALLER" "$UP" "$BOB" "$MALLORY" 20 "z9hG4bKsi$$"
send info1.out info
send info2.out info
for out in info1 info2; do
	[ "$(final_status "$WORK/$out.out")" = "SIP/2.0 200 OK" ] ||
		fail "$out: the caller's 200 did not come back: '$(final_status "$WORK/$out.out")'"
done
mapfile -t VIAS < <(top_vias caller INFO)
[ "${#VIAS[@]}" = 2 ] || fail "the caller got ${#VIAS[@]} INFOs, not 2"
[[ ${VIAS[0]} =~ ^Via:\ SIP/2\.0/UDP\ 127\.0\.0\.1:$LOCUS_PORT\;branch=(z9hG4bKsl[0-9a-f]{32})\;rport\;lh=[0-9a-f]+\;lt=([0-9a-f]{16})$ ]] ||
	fail "locus's Via on the INFO is not a stateless one: ${VIAS[0]}"
BRANCH=${BASH_REMATCH[1]}
STAMP=${BASH_REMATCH[2]}
[ "${VIAS[1]}" = "${VIAS[0]}" ] ||
	fail "the retransmission went on with another Via: ${VIAS[1]} (first: ${VIAS[0]})"

log "another INFO transaction: another branch"
indialog info3 INFO "$CALLER" "$UP" "$BOB" "$MALLORY" 21 "z9hG4bKsj$$"
send info3.out info3
[ "$(final_status "$WORK/info3.out")" = "SIP/2.0 200 OK" ] ||
	fail "the second INFO was not answered: '$(final_status "$WORK/info3.out")'"
mapfile -t VIAS < <(top_vias caller INFO)
[ "${#VIAS[@]}" = 3 ] || fail "the caller got ${#VIAS[@]} INFOs, not 3"
[[ ${VIAS[2]} == *"branch=z9hG4bKsl"* && ${VIAS[2]} != *"$BRANCH"* ]] ||
	fail "the second INFO transaction reused the branch: ${VIAS[2]}"

# response OUT LT: a 200 to the first INFO from the caller's side, with
# locus's stateless Via stamped LT on top and the victim's below it
response() {
	cat >"$WORK/$1.sip" <<EOF
SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:$LOCUS_PORT;branch=$BRANCH;rport;lt=$2
Via: SIP/2.0/UDP 127.0.0.5:${UA_PORT[victim]};branch=z9hG4bKsi$$
From: $BOB
To: $MALLORY
Call-ID: $CALLID
CSeq: 20 INFO
Content-Length: 0

EOF
	"$BUILD/sipsend" -w 300 127.0.0.1 "$LOCUS_PORT" - < <(crlf <"$WORK/$1.sip") \
		>/dev/null || true
}

log "a response to the stateless branch with a forged stamp goes nowhere"
response forged 0123456789abcdef
sleep 0.5
[ ! -s "$WORK/ua_victim.log" ] ||
	fail "the forged response was relayed: $(head -n 3 "$WORK/ua_victim.log")"
log "... and with locus's stamp it is relayed (as the caller's 200s were)"
response stamped "$STAMP"
for _ in $(seq 1 20); do
	[ -s "$WORK/ua_victim.log" ] && break
	sleep 0.1
done
grep -q "^SIP/2.0 200 OK" "$WORK/ua_victim.log" ||
	fail "the stamped response was not relayed by its Via"

log "mallory hangs up: the BYE reaches bob's device, its 200 mallory"
indialog bye BYE "$BDEV" "$DOWN" "$MALLORY" "$BOB" 2 "z9hG4bKsb$$"
send bye.out bye
[ "$(final_status "$WORK/bye.out")" = "SIP/2.0 200 OK" ] ||
	fail "mallory's BYE: '$(final_status "$WORK/bye.out")'"
uas_wait B
via=$(msg_nth "${UAS_BASE[B]}.msg" received '^BYE ' 1 | hdr_of Via | head -n 1)
[[ $via == *"branch=z9hG4bKsl"* ]] || fail "the BYE did not go statelessly: $via"
log "ok"
