#!/usr/bin/env bash
# A transport change in the path (RFC 5658, RFC 3261 §16.6 step
# 4, §16.12): the caller uses TCP (sipp -t t1), device T registered over
# UDP.  At T the INVITE carries two Record-Route entries, the UDP side
# (towards T) first, then the TCP side with ;transport=tcp; the 200 and
# the ACK pass; the caller's BYE, sent over TCP with both entries as Route,
# is routed to T over UDP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device T tess@example.com urn:uuid:f0000000-0000-4000-8000-0000000000e8

uas T p_uas_answer.xml
uac uac_call.xml -t t1 -key ruri "sip:tess@example.com" || fail "TCP caller, UDP device"
uas_wait T
grep -q "ANSWERED-BY ${DEV_INST[T]}" "$UAC_BASE.log" || fail "not answered by T"

dev=${UAS_BASE[T]}.msg
inv=$(msg_nth "$dev" received '^INVITE ' 1)
rr=$(hdr_of Record-Route <<<"$inv")
# each entry carries locus's dialog stamp for the callee's requests (ls=u
# and 32 hex digits), the same
want="<sip:127.0.0.1:$LOCUS_PORT;lr;ls=STAMP>
<sip:127.0.0.1:$LOCUS_PORT;transport=tcp;lr;ls=STAMP>"
[ "$(sed -E 's/;ls=u[0-9a-f]{32}>/;ls=STAMP>/' <<<"$rr")" = "$want" ] &&
	[ "$(grep -o 'ls=[0-9a-f]*' <<<"$rr" | sort -u | wc -l)" = 1 ] ||
	soft_fail "Record-Route at T (want the UDP, then the TCP entry):
$rr"
# the caller's Via says TCP; the one locus added says UDP
[ "$(hdr_of Via <<<"$inv" | head -n 1 | cut -d' ' -f1)" = SIP/2.0/UDP ] ||
	fail "locus's Via at T is not UDP: $(hdr_of Via <<<"$inv" | head -n 1)"
[ "$(hdr_of Via <<<"$inv" | sed -n 2p | cut -d' ' -f1)" = SIP/2.0/TCP ] ||
	fail "the caller's Via at T is not TCP: $(hdr_of Via <<<"$inv" | sed -n 2p)"

for m in ACK BYE; do
	req=$(msg_nth "$dev" received "^$m " 1)
	[ -n "$req" ] || fail "T got no $m"
	[ "$(head -n 1 <<<"$req" | tr -d '\r')" = "$m sip:dev@127.0.0.1:${DEV_PORT[T]} SIP/2.0" ] ||
		fail "$m reached T as '$(head -n 1 <<<"$req")'"
	[ -z "$(hdr_of Route <<<"$req")" ] || fail "$m reached T with Route: $(hdr_of Route <<<"$req")"
done
# the caller sent its BYE over TCP
grep -q '^TCP message sent' <(grep -B3 '^BYE ' "$UAC_BASE.msg") ||
	fail "the caller's BYE did not go over TCP"
grep -q "received TCP .* -> 127.0.0.1:$LOCUS_PORT " "$WORK/locus.log" ||
	fail "locus logged nothing received over TCP"
[ "$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 200 ')" = 2 ] ||
	fail "the caller did not get the 200 to its INVITE and to its BYE"
soft_done
log "ok"
