#!/usr/bin/env bash
# In-dialog requests addressed to a GRUU (RFC 5627 §6, RFC 3261
# §16.4), devices A and B of one AOR:
#  - A answers with its temp-gruu as Contact; the caller's ACK and BYE go
#    to locus with Request-URI = that temp-gruu and no Route: they reach A
#    (at its registered Contact), never B;
#  - the field trace ack-to-gruu.sip: A answers with its pub-gruu as
#    Contact, the ACK and BYE carry Request-URI = pub-gruu and a Route
#    naming locus with ;lr and an extra parameter (did=...): locus removes
#    its own Route, looks the GRUU up and sends them to A.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
# the instance of the device in the trace
device A alice@example.com urn:uuid:fbd61308-01db-4f37-bc8c-0be1cd33cd8f
device B alice@example.com urn:uuid:f0000000-0000-4000-8000-0000000000b2

# check_at_a WHAT: A got the ACK and the BYE of the call at its Contact,
# without any Route header left.
check_at_a() {
	local m line
	for m in ACK BYE; do
		[ "$(msg_count "${UAS_BASE[A]}.msg" received "^$m ")" = 1 ] ||
			fail "$1: A did not get exactly one $m"
		line=$(msg_nth "${UAS_BASE[A]}.msg" received "^$m " 1 | head -n 1 | tr -d '\r')
		[ "$line" = "$m sip:dev@127.0.0.1:${DEV_PORT[A]} SIP/2.0" ] ||
			fail "$1: $m reached A as '$line'"
		[ -z "$(msg_nth "${UAS_BASE[A]}.msg" received "^$m " 1 | hdr_of Route)" ] ||
			fail "$1: $m reached A with a Route header"
	done
}

log "ACK and BYE to A's temp-gruu, no Route"
UAS_CONTACT=${DEV_TMP[A]} uas A p_uas_answer.xml
silent B
uac p_uac_gruu_dialog.xml -key ruri "${DEV_PUB[A]}" -key target "${DEV_TMP[A]}" \
	-key routehdr "X-No-Route: 1" || fail "dialog by temp-gruu"
uas_wait A
silent_check B "dialog by temp-gruu"
check_at_a "dialog by temp-gruu"

log "ack-to-gruu.sip: ACK and BYE to A's pub-gruu, Route = locus;lr;did=..."
UAS_CONTACT=${DEV_PUB[A]} uas A p_uas_answer.xml
silent B
uac p_uac_gruu_dialog.xml -key ruri "${DEV_PUB[A]}" -key target "${DEV_PUB[A]}" \
	-key routehdr "Route: <sip:127.0.0.1:$LOCUS_PORT;lr;did=7ca.7d91344>" ||
	fail "dialog by pub-gruu (trace pattern)"
uas_wait A
silent_check B "dialog by pub-gruu (trace pattern)"
check_at_a "dialog by pub-gruu (trace pattern)"

log "ack-to-gruu.sip itself (its domain and locus's address substituted)"
silent B
mark=$(wc -l <"$WORK/locus.log")
# the field trace of a pjsip-style ACK to a GRUU, verbatim but for the
# domain and locus's address (crlf: the trace has CRLF line endings)
crlf >"$WORK/ack-to-gruu.sip" <<TRACE
ACK sip:alice@example.com;gr=urn:uuid:fbd61308-01db-4f37-bc8c-0be1cd33cd8f SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5066;rport;branch=z9hG4bKPj762eec6221574c13a201e4b55717e1b8
Max-Forwards: 70
From: "bob" <sip:bob@example.com>;tag=c72cfe7516434b8d864918366a4bdc69
To: <sip:alice@example.com>;tag=2b45621a6a35482e97a16046c2e0ef74
Call-ID: 7457248f27d4475fbf5d062106e4af1d
CSeq: 24702 ACK
Route: <sip:127.0.0.1:$LOCUS_PORT;lr;did=7ca.7d91344>
Content-Length: 0

TRACE
"$BUILD/sipsend" -s -w 500 127.0.0.1 "$LOCUS_PORT" "$WORK/ack-to-gruu.sip" >/dev/null &&
	fail "the trace's ACK got an answer"
sleep 0.5
silent_check B "the trace's ACK"
sent=$(locus_sent_to "${DEV_PORT[A]}" "$mark")
[ "$sent" = "ACK sip:dev@127.0.0.1:${DEV_PORT[A]} SIP/2.0" ] ||
	fail "the trace's ACK: locus sent A '${sent:-nothing}'"
log "ok"
