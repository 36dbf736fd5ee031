#!/usr/bin/env bash
# Response aggregation of a forked INVITE (RFC 3261 §16.7, §16.10,
# RFC 6026), two devices X and Y of one AOR:
#  - 486 + 603 -> 603; 603 while X rings -> 603 and X is CANCELled;
#  - 486 + 404 -> 486, whichever comes first;
#  - 401 + 407 -> the final carries both challenges (§16.7 step 7);
#  - 503 + 503 -> 500;
#  - CANCEL from the caller while both ring -> 200, CANCEL on both
#    branches, 487 upstream;
#  - 200 from both branches (the second crossing locus's CANCEL) -> both
#    200s reach the caller, which ACKs and BYEs each dialog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

AOR=sip:olga@example.com
new_db
start_locus
device X olga@example.com urn:uuid:f0000000-0000-4000-8000-0000000000c1
device Y olga@example.com urn:uuid:f0000000-0000-4000-8000-0000000000c2

# outcome WHAT "X-CODE X-REASON" "Y-CODE Y-REASON" Y-DELAY-MS "FINAL"
outcome() {
	log "$1"
	uas_reject X "${2%% *}" "${2#* }" "X-Outcome: x"
	uas_reject Y "${3%% *}" "${3#* }" "X-Outcome: y" -d "$4"
	invite_final "$AOR"
	uas_wait X
	uas_wait Y
	[ "$(final_status "$INV_OUT")" = "SIP/2.0 $5" ] ||
		soft_fail "$1: expected 'SIP/2.0 $5', got '$(final_status "$INV_OUT")'"
}

outcome "486 + 603 (later) -> 603" "486 Busy Here" "603 Decline" 1000 "603 Decline"
outcome "404 + 486 (later) -> 486" "404 Not Found" "486 Busy Here" 1000 "486 Busy Here"
outcome "486 + 404 (later) -> 486" "486 Busy Here" "404 Not Found" 1000 "486 Busy Here"

log "503 + 503 -> 500"
uas_reject X 503 "Service Unavailable" "Retry-After: 5"
uas_reject Y 503 "Service Unavailable" "Retry-After: 5" -d 200
invite_final "$AOR"
uas_wait X
uas_wait Y
case $(final_status "$INV_OUT") in
"SIP/2.0 500 "*) ;;
*) soft_fail "503 + 503: expected 500, got '$(final_status "$INV_OUT")'" ;;
esac

log "603 while X rings -> 603, X cancelled"
uas X p_uas_cancel.xml
uas_reject Y 603 "Decline" "X-Outcome: y" -d 300
invite_final "$AOR"
uas_wait X
uas_wait Y
[ "$(final_status "$INV_OUT")" = "SIP/2.0 603 Decline" ] ||
	soft_fail "603 while X rings: got '$(final_status "$INV_OUT")'"
[ "$(msg_count "${UAS_BASE[X]}.msg" received '^CANCEL ')" = 1 ] ||
	fail "603 while X rings: X got no CANCEL"

log "401 + 407 -> one final with both challenges"
www='Digest realm="x.example.com", nonce="x-nonce-1", algorithm=MD5, qop="auth"'
pxy='Digest realm="y.example.com", nonce="y-nonce-2", algorithm=SHA-256, qop="auth"'
uas_reject X 401 "Unauthorized" "WWW-Authenticate: $www"
uas_reject Y 407 "Proxy Authentication Required" "Proxy-Authenticate: $pxy"
invite_final "$AOR"
uas_wait X
uas_wait Y
case $(final_status "$INV_OUT") in
"SIP/2.0 401 Unauthorized" | "SIP/2.0 407 Proxy Authentication Required") ;;
*) soft_fail "401 + 407: final is '$(final_status "$INV_OUT")'" ;;
esac
[ "$(final_hdr "$INV_OUT" WWW-Authenticate)" = "$www" ] ||
	soft_fail "401 + 407: WWW-Authenticate of X missing or changed: '$(final_hdr "$INV_OUT" WWW-Authenticate)'"
[ "$(final_hdr "$INV_OUT" Proxy-Authenticate)" = "$pxy" ] ||
	soft_fail "401 + 407: Proxy-Authenticate of Y missing or changed: '$(final_hdr "$INV_OUT" Proxy-Authenticate)'"

log "CANCEL while both ring -> 487 upstream, CANCEL on both branches"
uas X p_uas_cancel.xml
uas Y p_uas_cancel.xml
uac p_uac_cancel.xml -key ruri "$AOR" || fail "CANCEL while both ring"
uas_wait X
uas_wait Y
for d in X Y; do
	[ "$(msg_count "${UAS_BASE[$d]}.msg" received '^CANCEL ')" = 1 ] ||
		fail "CANCEL while both ring: device $d got no CANCEL"
done
[ "$(msg_count "$UAC_BASE.msg" received '^SIP/2.0 487 ')" = 1 ] ||
	fail "CANCEL while both ring: the caller did not get one 487"

log "200 from both branches -> both reach the caller"
uas X p_uas_answer.xml -d 200
uas Y p_uas_cross200.xml
uac p_uac_both200.xml -key ruri "$AOR" || fail "200 from both branches"
uas_wait X
uas_wait Y
a1=$(sed -n 's/^.*ANSWER1 \([^ ]*\) .*$/\1/p' "$UAC_BASE.log")
a2=$(sed -n 's/^.*ANSWER2 \([^ ]*\) .*$/\1/p' "$UAC_BASE.log")
t1=$(sed -n 's/^.*ANSWER1 .*;tag=\(.*\)$/\1/p' "$UAC_BASE.log")
t2=$(sed -n 's/^.*ANSWER2 .*;tag=\(.*\)$/\1/p' "$UAC_BASE.log")
[ "$a1" = "${DEV_INST[X]}" ] && [ "$a2" = "${DEV_INST[Y]}" ] ||
	fail "200 from both branches: answers from '$a1' and '$a2'"
[ -n "$t1" ] && [ -n "$t2" ] && [ "$t1" != "$t2" ] ||
	fail "200 from both branches: To tags '$t1' and '$t2'"
for d in X Y; do
	for m in ACK BYE; do
		[ "$(msg_count "${UAS_BASE[$d]}.msg" received "^$m ")" = 1 ] ||
			fail "200 from both branches: device $d did not get its $m"
	done
done
soft_done
log "ok"
