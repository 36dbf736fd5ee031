#!/usr/bin/env bash
# Click-to-call (locus.originate(), bridge and refer mode) with sipp as
# the phones, each a registered device.  In bridge mode locus calls the
# caller without SDP, calls the callee with the caller's offer and
# acknowledges the caller's 2xx with the callee's answer (RFC 3725 Flow
# I); bodies are compared byte for byte on the phones' own traces.
#  1. a BYE from the caller ends both legs; 2. one from the callee too;
#  3. the callee busy ends the caller's leg (ACK with an inactive answer,
#     BYE) with "486 Busy Here (callee)" in locus.calls;
#  4. a caller who does not answer within caller_timeout is cancelled;
#  5. auto_answer => true puts the auto-answer headers in the caller's
#     INVITE; locus.hangup() ends a connected call;
#  6. a callee that answers late: the caller's 2xx is acknowledged at
#     once with an inactive answer, then both are joined by re-INVITEs
#     (the caller's new offer to the callee, the answer back), bodies
#     byte for byte;
#  7. caller_device => a pub-gruu rings that device only;
#  8. refer mode: locus sends the caller a REFER to the callee and leaves
#     when her NOTIFY reports 200;
#  9. locus.originate() refuses what is no caller, callee or mode, and a
#     call hung up before any node took it ends untouched;
# 10. a session timer (RFC 4028) the caller's 2xx names and nobody
#     refreshes ends both legs when it runs out;
# 11. the caller's re-INVITE (hold) and INFO (DTMF) reach the callee,
#     bodies byte for byte, and the answers come back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
. "$(dirname "$0")/lib_ua.sh"

new_db
write_config
start_locus
device alice alice@example.com urn:uuid:00000000-0000-4000-8000-00000000000a
device bob bob@example.com urn:uuid:00000000-0000-4000-8000-00000000000b

log "1. Flow I; the caller hangs up"
uas alice u_caller_bye.xml
uas bob u_callee.xml
originate "'alice@example.com', 'sip:bob@example.com'"
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "BYE from the caller" ] ||
	fail "call 1: cause '$(call_cause "$CALL")'"
[ -z "$(recv_body alice '^INVITE' 1)" ] || fail "the caller's INVITE has a body"
msg_nth "${UAS_BASE[alice]}.msg" received '^INVITE' 1 | hdr_of From |
	grep -qF '<sip:bob@example.com>' ||
	fail "the caller's INVITE is not From the callee"
msg_nth "${UAS_BASE[bob]}.msg" received '^INVITE' 1 | hdr_of From |
	grep -qF '<sip:alice@example.com>' ||
	fail "the callee's INVITE is not From the caller"
answer_body alice INVITE 1 >"$WORK/a200"
recv_body bob '^INVITE' 1 >"$WORK/binv"
same_body "the caller's offer, in the callee's INVITE" "$WORK/a200" "$WORK/binv"
answer_body bob INVITE 1 >"$WORK/b200"
recv_body alice '^ACK' 1 >"$WORK/aack"
same_body "the callee's answer, in the caller's ACK" "$WORK/b200" "$WORK/aack"
[ "$(msg_count "${UAS_BASE[bob]}.msg" received '^BYE')" = 1 ] ||
	fail "the callee got no BYE"
msg_nth "${UAS_BASE[alice]}.msg" received '^INVITE' 1 | hdr_of Call-Info |
	grep -q . && fail "a call without auto_answer has Call-Info"

log "2. the callee hangs up"
uas alice u_caller.xml
uas bob u_callee_bye.xml
originate "'alice@example.com', 'sip:bob@example.com'"
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "BYE from the callee" ] ||
	fail "call 2: cause '$(call_cause "$CALL")'"

log "3. the callee is busy"
uas alice u_caller.xml
uas_reject bob 486 "Busy Here" "X-Why: busy"
originate "'alice@example.com', 'sip:bob@example.com'"
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "486 Busy Here (callee)" ] ||
	fail "call 3: cause '$(call_cause "$CALL")'"
recv_body alice '^ACK' 1 | grep -q '^a=inactive' ||
	fail "the caller's 2xx was not acknowledged with an inactive answer"
[ -z "$(psql_q "SELECT answered_at FROM locus.calls WHERE id = $CALL")" ] ||
	fail "call 3 has an answered_at"

log "4. the caller does not answer within caller_timeout"
uas alice p_uas_cancel.xml
silent bob
originate "'alice@example.com', 'sip:bob@example.com', caller_timeout => 1"
uas_wait alice
call_wait "$CALL" ended
silent_check bob "a caller who never answered"
case $(call_cause "$CALL") in
"408 Request Timeout (caller did not answer within caller_timeout)") ;;
*) fail "call 4: cause '$(call_cause "$CALL")'" ;;
esac

log "5. auto_answer; locus.hangup() ends the connected call"
uas alice u_caller.xml
uas bob u_callee.xml
originate "'alice@example.com', 'sip:bob@example.com', auto_answer => true"
call_wait "$CALL" connected
[ "$(psql_q "SELECT locus.hangup($CALL)")" = t ] || fail "locus.hangup() said f"
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "locus.hangup()" ] ||
	fail "call 5: cause '$(call_cause "$CALL")'"
[ "$(psql_q "SELECT locus.hangup($CALL)")" = f ] ||
	fail "locus.hangup() of an ended call said t"
inv=$(msg_nth "${UAS_BASE[alice]}.msg" received '^INVITE' 1)
hdr_of Call-Info <<<"$inv" | grep -qxF '<sip:example.com>;answer-after=0' ||
	fail "auto_answer: no Call-Info answer-after=0: $(hdr_of Call-Info <<<"$inv")"
hdr_of Alert-Info <<<"$inv" |
	grep -qxF '<http://127.0.0.1/intercom>;info=alert-autoanswer;delay=0' ||
	fail "auto_answer: no Alert-Info alert-autoanswer"
[ -n "$(psql_q "SELECT answered_at FROM locus.calls WHERE id = $CALL")" ] ||
	fail "call 5 has no answered_at"

log "6. the callee answers late: inactive answer, then the join"
uas alice u_caller_join.xml
uas bob u_callee_join.xml -d 3000
originate "'alice@example.com', 'sip:bob@example.com'"
call_wait "$CALL" "calling callee"
call_wait "$CALL" connected 8
psql_q "SELECT locus.hangup($CALL)" >/dev/null
uas_wait alice
uas_wait bob
recv_body alice '^ACK' 1 | grep -q '^a=inactive' ||
	fail "the caller's first 2xx was not acknowledged inactive"
answer_body alice INVITE 1 >"$WORK/a200"
recv_body bob '^INVITE' 1 >"$WORK/binv"
same_body "the caller's first offer, to the callee" "$WORK/a200" "$WORK/binv"
[ -z "$(recv_body alice '^INVITE' 2)" ] || fail "the re-INVITE to the caller has a body"
answer_body alice INVITE 2 >"$WORK/a200b"
recv_body bob '^INVITE' 2 >"$WORK/binvb"
same_body "the caller's new offer, in the re-INVITE to the callee" \
	"$WORK/a200b" "$WORK/binvb"
answer_body bob INVITE 2 >"$WORK/b200b"
recv_body alice '^ACK' 2 >"$WORK/aackb"
same_body "the callee's answer, in the caller's second ACK" "$WORK/b200b" "$WORK/aackb"

log "7. caller_device: only that device of hers rings"
device carol carol@example.com urn:uuid:00000000-0000-4000-8000-00000000000c
device carol2 carol@example.com urn:uuid:00000000-0000-4000-8000-0000000000c2
uas carol u_caller.xml
silent carol2
uas bob u_callee.xml
originate "'carol@example.com', 'sip:bob@example.com', caller_device => '${DEV_PUB[carol]}'"
call_wait "$CALL" connected
psql_q "SELECT locus.hangup($CALL)" >/dev/null
uas_wait carol
uas_wait bob
silent_check carol2 "a call to carol's other device's GRUU"

log "8. refer mode"
uas alice u_caller_refer.xml
originate "'alice@example.com', 'sip:bob@example.com', mode => 'refer'"
uas_wait alice
call_wait "$CALL" connected
grep -qF "REFER-TO <sip:bob@example.com>" "${UAS_BASE[alice]}.log" ||
	fail "refer mode: the REFER's Refer-To: $(grep REFER-TO "${UAS_BASE[alice]}.log")"
msg_nth "${UAS_BASE[alice]}.msg" received '^REFER' 1 | hdr_of Referred-By |
	grep -q . || fail "refer mode: the REFER has no Referred-By"
[ "$(call_cause "$CALL")" = "200 OK (NOTIFY of the REFER)" ] ||
	fail "call 8: cause '$(call_cause "$CALL")'"

log "9. what locus.originate() refuses"
for args in "'alice', 'sip:bob@example.com'" \
	"'alice@example.com', 'bob@example.com'" \
	"'alice@example.com', 'sip:bob@example.com', mode => 'park'" \
	"'alice@example.com', 'sip:bob@example.com', caller_timeout => 0"; do
	if out=$(psql_q "SELECT locus.originate($args)" 2>&1); then
		fail "locus.originate($args) was accepted: $out"
	fi
	grep -q 'ERROR: ' <<<"$out" || fail "locus.originate($args): $out"
done
# hung up before any node took it: it ends in the database, untouched
id=$(psql_q "WITH c AS (SELECT locus.originate('alice@example.com', 'sip:bob@example.com') AS id) SELECT locus.hangup(id)::text || ' ' || id FROM c")
case $id in "true "*) id=${id#true } ;; *) fail "originate and hangup at once: $id" ;; esac
call_wait "$id" ended
[ -z "$(psql_q "SELECT node FROM locus.calls WHERE id = $id")" ] ||
	fail "a call hung up at once was taken by a node"
log "10. a session timer nobody refreshes"
sed 's|^      Contact: <\[contact\]>$|&\n      Session-Expires: 2;refresher=uas|' \
	"$SIPP_DIR/u_caller.xml" >"$WORK/u_caller_timer.xml"
uas alice "$WORK/u_caller_timer.xml"
uas bob u_callee.xml
originate "'alice@example.com', 'sip:bob@example.com'"
call_wait "$CALL" connected
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
[ "$(call_cause "$CALL")" = "408 Session Timer Expired (caller)" ] ||
	fail "call 10: cause '$(call_cause "$CALL")'"

log "11. hold and DTMF, relayed"
uas alice u_caller_hold.xml
uas bob u_callee_hold.xml
originate "'alice@example.com', 'sip:bob@example.com'"
call_wait "$CALL" connected
for _ in $(seq 1 40); do
	[ "$(msg_count "${UAS_BASE[bob]}.msg" received '^INFO')" = 1 ] && break
	sleep 0.05
done
sleep 0.2
psql_q "SELECT locus.hangup($CALL)" >/dev/null
uas_wait alice
uas_wait bob
msg_nth "${UAS_BASE[alice]}.msg" sent '^INVITE' 1 | body_of >"$WORK/ahold"
recv_body bob '^INVITE' 2 >"$WORK/bhold"
same_body "the caller's hold offer, relayed" "$WORK/ahold" "$WORK/bhold"
answer_body bob INVITE 2 >"$WORK/bans"
msg_nth "${UAS_BASE[alice]}.msg" received '^SIP/2.0 200' 1 | body_of >"$WORK/aans"
grep -q 'CSeq: 2 INVITE' <(msg_nth "${UAS_BASE[alice]}.msg" received '^SIP/2.0 200' 1) ||
	fail "the caller's first 200 is not the re-INVITE's"
same_body "the callee's answer to the hold, relayed" "$WORK/bans" "$WORK/aans"
msg_nth "${UAS_BASE[alice]}.msg" sent '^INFO' 1 | body_of >"$WORK/ainfo"
recv_body bob '^INFO' 1 >"$WORK/binfo"
same_body "the DTMF INFO, relayed" "$WORK/ainfo" "$WORK/binfo"
msg_nth "${UAS_BASE[bob]}.msg" received '^INFO' 1 | hdr_of Content-Type |
	grep -qx 'application/dtmf-relay' || fail "the INFO lost its Content-Type"

[ "$(psql_q "SELECT count(*) FROM locus.calls WHERE state <> 'ended' AND NOT (mode = 'refer' AND state = 'connected')")" = 0 ] ||
	fail "calls left over: $(psql_q 'TABLE locus.calls')"
log "ok"
