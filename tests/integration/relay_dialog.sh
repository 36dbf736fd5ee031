#!/usr/bin/env bash
# A stamped Route is no ticket (relaying off): a request with a To tag is
# relayed only within a dialog locus record-routed (its Call-ID and both
# tags) and only to that dialog's other party, as last refreshed by a
# target refresh; anything else gets 403 and is not forwarded.  The
# in-dialog requests of the real call keep working, across a restart.
#
# The caller is mallory@evil.example, from outside and unauthenticated:
# anyone may ring a registered user.  Its Contact is a UA on 127.0.0.6
# (tests/tools/udpua.py, answers everything 200); the "foreign host" it
# would like to reach through locus is another one on 127.0.0.5, which
# must receive nothing.  bob's device B is a sipp.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device B bob@example.com urn:uuid:f0000000-0000-4000-8000-0000000000b1

udpua caller 127.0.0.6
udpua moved 127.0.0.7
udpua foreign 127.0.0.5
CALLER=sip:mallory@127.0.0.6:${UA_PORT[caller]}
MOVED=sip:mallory@127.0.0.7:${UA_PORT[moved]}
FOREIGN=sip:victim@127.0.0.5:${UA_PORT[foreign]}

# req OUT METHOD RURI ROUTE FROM TO [HEADER...]: one request of the
# dialog (Call-ID $DLG_CALLID) from a fresh port; waits for a final answer
# (at most 4 s) and leaves the responses in $WORK/OUT.
CSEQ=10
req() {
	local out=$1 method=$2 ruri=$3 route=$4 from=$5 to=$6 h
	shift 6
	CSEQ=$((CSEQ + 1))
	{
		echo "$method $ruri SIP/2.0"
		echo "Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=z9hG4bKrd$CSEQ$$;rport"
		echo "Route: $route"
		echo "Max-Forwards: 70"
		echo "From: $from"
		echo "To: $to"
		echo "Call-ID: ${CALLID:-$DLG_CALLID}"
		echo "CSeq: $CSEQ $method"
		for h in "$@"; do echo "$h"; done
		echo "Content-Length: 0"
		echo
	} | sip_send_text -n 1 -w 4000 >"$WORK/$out" || true
}

# refused OUT WHAT: the answer in $WORK/OUT is 403 Relaying Denied
refused() {
	[ "$(final_status "$WORK/$1")" = "SIP/2.0 403 Relaying Denied" ] ||
		fail "$2: expected 403 Relaying Denied, got '$(final_status "$WORK/$1")'"
	log "$2: 403"
}

# answered OUT WHAT: the answer in $WORK/OUT is a 200 (it was forwarded)
answered() {
	[ "$(final_status "$WORK/$1")" = "SIP/2.0 200 OK" ] ||
		fail "$2: expected it forwarded and answered 200, got '$(final_status "$WORK/$1")'"
	log "$2: forwarded"
}

# received_by NAME METHOD: how many METHOD requests udpua NAME got
received_by() {
	grep -c "^$2 " "$WORK/ua_$1.log" 2>/dev/null || true
}

log "the call: mallory (outside, unauthenticated) rings bob"
uas B p_uas_refresh.xml
INV_FROM=sip:mallory@evil.example INV_CONTACT=$CALLER invite_final "sip:bob@example.com"
expect_final "200 OK" "mallory's call to bob"
DLG_CALLID=$(final_hdr "$INV_OUT" Call-ID)
MALLORY=$(final_hdr "$INV_OUT" From)
BOB=$(final_hdr "$INV_OUT" To)
CALLER_TAG=${MALLORY##*;tag=}
BOB_TAG=${BOB##*;tag=}
DOWN=$(final_hdr "$INV_OUT" Record-Route)     # the caller's route set
UP=$(msg_nth "${UAS_BASE[B]}.msg" received '^INVITE ' 1 | hdr_of Record-Route)
BDEV=sip:dev@127.0.0.1:${DEV_PORT[B]}
[[ $DOWN =~ \;ls=d[0-9a-f]{32}\> ]] || fail "the caller's 200 has no stamp for its requests: $DOWN"
[[ $UP =~ \;ls=u[0-9a-f]{32}\> ]] || fail "bob's INVITE has no stamp for his requests: $UP"
req ack1 ACK "$BDEV" "$DOWN" "$MALLORY" "$BOB"

log "the caller's route set leads to bob and nowhere else"
req r1 INVITE "$FOREIGN" "$DOWN" "<sip:alice@example.com>;tag=$CALLER_TAG" "$BOB" \
	"Contact: <$CALLER>"
refused r1 "INVITE to a foreign host in mallory's dialog, From alice"
req r2 MESSAGE "$FOREIGN" "$DOWN" "$MALLORY" "$BOB" "Content-Type: text/plain"
refused r2 "MESSAGE to a foreign host in mallory's dialog"
CALLID="other-$$@evil.example" req r3 INVITE "$FOREIGN" "$DOWN" "$MALLORY" "$BOB" \
	"Contact: <$CALLER>"
refused r3 "the stamp under another Call-ID"
req r4 INFO "$BDEV" "$DOWN" "$MALLORY" "<sip:bob@example.com>;tag=not-bobs"
refused r4 "the stamp with another To tag, to bob's device"
req r5 INFO "$BDEV" "$DOWN" "<sip:mallory@evil.example>;tag=not-mallorys" "$BOB"
refused r5 "the stamp with another From tag, to bob's device"
req r6 INFO "$BDEV" "$UP" "$MALLORY" "$BOB"
refused r6 "bob's route set used by the caller"
req r7 INFO "$BDEV" "<sip:127.0.0.1:$LOCUS_PORT;lr;ls=d0123456789abcdef0123456789abcdef>" \
	"$MALLORY" "$BOB"
refused r7 "a forged stamp"

log "bob's route set leads to the caller and nowhere else"
req u1 INFO "$FOREIGN" "$UP" "$BOB" "$MALLORY"
refused u1 "bob's route set to a foreign host"
req u2 INFO "$CALLER" "$UP" "<sip:bob@example.com>;tag=not-bobs" "$MALLORY"
refused u2 "bob's route set with a From tag that is not bob's"
req u3 INFO "$CALLER" "$UP" "$BOB" "$MALLORY"
answered u3 "bob's INFO to the caller"
[ "$(received_by caller INFO)" = 1 ] || fail "the caller's UA got $(received_by caller INFO) INFOs, not 1"

log "a target refresh moves the caller: bob's requests follow it, not the old target"
req reinv INVITE "$BDEV" "$DOWN" "$MALLORY" "$BOB" "Contact: <$MOVED>"
answered reinv "mallory's re-INVITE with a new Contact"
req ack2 ACK "$BDEV" "$DOWN" "$MALLORY" "$BOB"
req u4 INFO "$CALLER" "$UP" "$BOB" "$MALLORY"
refused u4 "bob's INFO to the caller's old target"
req cue INFO "$BDEV" "$DOWN" "$MALLORY" "$BOB"
answered cue "mallory's INFO to bob"
uas_wait B   # then bob hangs up: BYE to the refreshed target
grep -q "REFRESHED $MOVED" "${UAS_BASE[B]}.log" || fail "bob did not see the refresh"
[ "$(received_by moved BYE)" = 1 ] || fail "the moved caller got $(received_by moved BYE) BYEs from bob, not 1"

log "the foreign host received nothing"
[ ! -s "$WORK/ua_foreign.log" ] || fail "the foreign host got: $(head -n 3 "$WORK/ua_foreign.log")"

log "a second call outlives a restart of locus"
uas B p_uas_answer.xml
INV_FROM=sip:mallory@evil.example INV_CONTACT=$CALLER invite_final "sip:bob@example.com"
expect_final "200 OK" "the second call"
DLG_CALLID=$(final_hdr "$INV_OUT" Call-ID)
MALLORY=$(final_hdr "$INV_OUT" From)
BOB=$(final_hdr "$INV_OUT" To)
DOWN=$(final_hdr "$INV_OUT" Record-Route)
UP=$(msg_nth "${UAS_BASE[B]}.msg" received '^INVITE ' 1 | hdr_of Record-Route)
req ack3 ACK "$BDEV" "$DOWN" "$MALLORY" "$BOB"
stop_locus
start_locus_again
req u5 INFO "$CALLER" "$UP" "$BOB" "$MALLORY"
answered u5 "bob's INFO to the caller after the restart"
req u6 INFO "$FOREIGN" "$UP" "$BOB" "$MALLORY"
refused u6 "bob's route set to a foreign host after the restart"
req r8 INVITE "$FOREIGN" "$DOWN" "$MALLORY" "$BOB" "Contact: <$CALLER>"
refused r8 "the caller's route set to a foreign host after the restart"
req bye BYE "$BDEV" "$DOWN" "$MALLORY" "$BOB"
answered bye "mallory's BYE to bob after the restart"
uas_wait B
[ ! -s "$WORK/ua_foreign.log" ] || fail "the foreign host got: $(head -n 3 "$WORK/ua_foreign.log")"
log "ok"
