#!/usr/bin/env bash
# Call parking (features.park) with sipp as the phones.
#  1. a call to a free slot (701, as a transferee's INVITE, with
#     Referred-By) is answered by locus with an inactive answer and shows
#     in locus.parked; a call to the taken slot retrieves it: the parked
#     party is re-INVITEd with the retriever's offer and the retriever gets
#     the parked party's answer (bodies byte for byte); the slot is free
#     again and the row says 'retrieved'; a BYE from either ends both;
#  2. unretrieved, the park times out and locus calls the parker (the
#     Referred-By URI) without SDP, re-INVITEs the parked party with the
#     parker's offer and acknowledges the parker with the answer: the row
#     says 'calling parker', then 'returned';
#  3. the auto number parks in the first free slot and tells the parker
#     which with a MESSAGE; locus.unpark() ends the parked call;
#  4. an INVITE without SDP cannot be parked (488), one that requires an
#     extension gets 420, a slot out of range is nobody's (404), and with
#     no parker the timeout ends the park.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
. "$(dirname "$0")/lib_ua.sh"

new_db
write_config
echo 'features = { park = { slots = "701-703"; auto = "70"; timeout = 3; }; };' \
	>>"$WORK/locus.conf"
start_locus
device bob bob@example.com urn:uuid:00000000-0000-4000-8000-00000000000b

log "1. parked in 701 by bob, retrieved by carol"
caller_bg alice u_parkee.xml -key slot 701 -key refby "Referred-By: <sip:bob@example.com>"
park_wait 701 parked
[ "$(psql_q "SELECT parked || ' ' || parked_by FROM locus.parked WHERE slot = '701'")" = \
	"sip:alice@example.com sip:bob@example.com" ] ||
	fail "locus.parked: $(psql_q 'TABLE locus.parked')"
msg_nth "${UAS_BASE[alice]}.msg" received '^SIP/2.0 200' 1 | body_of |
	grep -q '^a=inactive' || fail "the parked call's answer is not inactive"
caller_bg carol u_retriever.xml -key slot 701
uas_wait carol
uas_wait alice
park_wait 701 retrieved
msg_nth "${UAS_BASE[carol]}.msg" sent '^INVITE' 1 | body_of >"$WORK/cinv"
recv_body alice '^INVITE' 1 >"$WORK/ainv"
same_body "the retriever's offer, in the re-INVITE to the parked party" \
	"$WORK/cinv" "$WORK/ainv"
answer_body alice INVITE 1 >"$WORK/a200"
msg_nth "${UAS_BASE[carol]}.msg" received '^SIP/2.0 200' 1 | body_of >"$WORK/c200"
same_body "the parked party's answer, to the retriever" "$WORK/a200" "$WORK/c200"
[ -n "$(psql_q "SELECT ended_at FROM locus.parked WHERE slot = '701'")" ] ||
	fail "the retrieved park has no ended_at"

log "2. nobody retrieves it: the parker is called back"
uas bob u_caller_bye.xml -d 1500
caller_bg alice u_parkee.xml -key slot 702 -key refby "Referred-By: <sip:bob@example.com>"
park_wait 702 parked
park_wait 702 "calling parker" 6
park_wait 702 returned
uas_wait bob
uas_wait alice
[ -z "$(recv_body bob '^INVITE' 1)" ] || fail "the call back to the parker has SDP"
answer_body bob INVITE 1 >"$WORK/b200"
recv_body alice '^INVITE' 1 >"$WORK/ainv"
same_body "the parker's offer, in the re-INVITE to the parked party" \
	"$WORK/b200" "$WORK/ainv"
answer_body alice INVITE 1 >"$WORK/a200"
recv_body bob '^ACK' 1 >"$WORK/back"
same_body "the parked party's answer, in the ACK to the parker" \
	"$WORK/a200" "$WORK/back"

log "3. the auto number; locus.unpark()"
uas bob u_message.xml
caller_bg alice u_parkee_bye.xml -key slot 70 -key refby "Referred-By: <sip:bob@example.com>"
park_wait 701 parked
uas_wait bob
grep -qx "TEXT Parked at 701" "${UAS_BASE[bob]}.log" ||
	fail "the parker was not told: $(cat "${UAS_BASE[bob]}.log")"
msg_nth "${UAS_BASE[bob]}.msg" received '^MESSAGE' 1 | hdr_of Content-Type |
	grep -qx 'text/plain' || fail "the MESSAGE is not text/plain"
[ "$(psql_q "SELECT locus.unpark(701)")" = t ] || fail "locus.unpark(701) said f"
uas_wait alice
park_wait 701 ended
[ "$(psql_q "SELECT cause FROM locus.parked WHERE slot = '701' ORDER BY since DESC LIMIT 1")" = \
	"locus.unpark()" ] || fail "unparked: $(psql_q 'TABLE locus.parked')"
[ "$(psql_q "SELECT locus.unpark('701')")" = f ] || fail "locus.unpark of a free slot said t"

log "4. no SDP, no slot, no parker"
invite_final "sip:703@example.com"
expect_final "488 Not Acceptable Here: Parking Needs an SDP Offer" "an INVITE without SDP to a slot"
invite_final "sip:703@example.com" "Require: 100rel"
expect_final "420 Bad Extension" "an INVITE to a slot that requires 100rel"
[ "$(final_hdr "$INV_OUT" Unsupported)" = 100rel ] ||
	fail "420 without Unsupported: 100rel"
invite_final "sip:704@example.com"
case $(final_status "$INV_OUT") in
"SIP/2.0 404 "*|"SIP/2.0 480 "*) ;;
*) fail "an INVITE to 704, no slot: $(final_status "$INV_OUT")" ;;
esac
caller_bg alice u_parkee_bye.xml -key slot 703 -key refby "X-Parker: none"
park_wait 703 parked
park_wait 703 ended 6
uas_wait alice
case $(psql_q "SELECT cause FROM locus.parked WHERE slot = '703' ORDER BY since LIMIT 1") in
"408 Nobody Retrieved It, and No Parker to Call Back") ;;
*) fail "the unclaimed park: $(psql_q 'TABLE locus.parked')" ;;
esac
log "5. a Referred-By that is not one of our users is no parker"
# locus would call it back as itself, past the gate: a gateway's premium
# number, with a parameter asking for auto-answer
caller_bg alice u_parkee_bye.xml -key slot 703 \
	-key refby "Referred-By: <sip:+19005550100@gw.example.net;intercom=true>"
park_wait 703 parked
park_wait 703 ended 6
uas_wait alice
case $(psql_q "SELECT cause FROM locus.parked WHERE slot = '703' ORDER BY since DESC LIMIT 1") in
"408 Nobody Retrieved It, and No Parker to Call Back") ;;
*) fail "a foreign Referred-By was called back: $(psql_q 'TABLE locus.parked')" ;;
esac
[ "$(psql_q "SELECT count(*) FROM locus.parked WHERE ended_at IS NULL")" = 0 ] ||
	fail "parks left over: $(psql_q 'TABLE locus.parked')"
log "ok"
