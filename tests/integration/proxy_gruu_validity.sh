#!/usr/bin/env bash
# GRUU validity at the proxy (RFC 5627 §5.3, §6; RFC 3261 §16.5):
#  - a bogus gr= value and a temp-gruu with one character changed -> 404;
#    unknown AOR -> 404; known AOR without bindings -> 480; foreign
#    domain -> 403; none of them reaches a device;
#  - A deregisters (same Call-ID, higher CSeq, Expires 0): its pub-gruu
#    -> 480 and its temp-gruu -> 404, and neither falls back to B, the
#    other device of the AOR;
#  - A registers again with a new Call-ID: its old temp-gruu -> 404, the
#    new one and the pub-gruu ring A; B refreshes with a new Call-ID while
#    registered: its old temp-gruu -> 404, the new one rings B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device A alice@example.com urn:uuid:f0000000-0000-4000-8000-0000000000a1
device B alice@example.com urn:uuid:f0000000-0000-4000-8000-0000000000b1
device C carol@example.com urn:uuid:f0000000-0000-4000-8000-0000000000c1

# expect_invite RURI "CODE REASON" WHAT
expect_invite() {
	invite_final "$1"
	[ "$(final_status "$INV_OUT")" = "SIP/2.0 $2" ] ||
		soft_fail "$3: INVITE $1: expected '$2', got '$(final_status "$INV_OUT")'"
}

# one character of the token changed (base64url stays base64url)
tmp=${DEV_TMP[A]}
token=${tmp#sip:tgruu.}
token=${token%%@*}
c=${token:12:1}
if [ "$c" = A ]; then c2=B; else c2=A; fi
tampered="sip:tgruu.${token:0:12}$c2${token:13}@${tmp#*@}"
[ "$tampered" != "$tmp" ] && [ ${#tampered} = ${#tmp} ] || fail "tampering went wrong"

log "while A and B are registered: bogus and unknown URIs reach nobody"
silent A
silent B
expect_invite "sip:alice@example.com;gr=urn:uuid:nope" "404 Unknown GRUU" "bogus gr"
expect_invite "sip:alice@example.com;gr" "404 Unknown GRUU" "empty gr"
expect_invite "$tampered" "404 Unknown GRUU" "temp-gruu with one character changed"
expect_invite "sip:nobody@example.com" "404 Not Found" "unknown AOR"
expect_invite "sip:alice@elsewhere.example.net" "403 Relaying Denied" "foreign domain"
silent_check A "bogus and unknown URIs"
silent_check B "bogus and unknown URIs"

log "A deregisters: pub-gruu 480, temp-gruu 404, B never rings"
old_tmp_a=${DEV_TMP[A]}
pub_a=${DEV_PUB[A]}
device_register A 0
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE instance = '<${DEV_INST[A]}>' OR instance = '${DEV_INST[A]}'")" = 0 ] ||
	fail "A's binding is still in the database after its deregistration"
silent A
silent B
expect_invite "$pub_a" "480 Temporarily Unavailable" "pub-gruu of deregistered A"
expect_invite "$old_tmp_a" "404 GRUU No Longer Valid" "temp-gruu of deregistered A"
silent_check A "GRUUs of deregistered A"
silent_check B "GRUUs of deregistered A"

log "known AOR without bindings: 480"
device_register C 0
silent C
expect_invite "sip:carol@example.com" "480 Temporarily Unavailable" "AOR without bindings"
expect_invite "${DEV_PUB[C]}" "480 Temporarily Unavailable" "pub-gruu of the AOR without bindings"
expect_invite "${DEV_TMP[C]}" "404 GRUU No Longer Valid" "temp-gruu of the AOR without bindings"
silent_check C "AOR without bindings"

log "A registers again with a new Call-ID: the old temp-gruu is gone"
device_new_callid A
device_register A 3600
[ "${DEV_PUB[A]}" = "$pub_a" ] || fail "A's pub-gruu changed: ${DEV_PUB[A]}"
[ -n "${DEV_TMP[A]}" ] && [ "${DEV_TMP[A]}" != "$old_tmp_a" ] ||
	fail "A got no new temp-gruu"
silent A
silent B
expect_invite "$old_tmp_a" "404 GRUU No Longer Valid" "old temp-gruu of A (new Call-ID)"
silent_check A "old temp-gruu of A"
silent_check B "old temp-gruu of A"
for uri in "${DEV_TMP[A]}" "$pub_a"; do
	uas A p_uas_answer.xml
	silent B
	uac uac_call.xml -key ruri "$uri" || fail "call to $uri after A registered again"
	uas_wait A
	silent_check B "call to $uri"
	grep -q "ANSWERED-BY ${DEV_INST[A]}" "$UAC_BASE.log" || fail "$uri: not answered by A"
done

log "B refreshes with a new Call-ID while registered: its old temp-gruu is gone"
old_tmp_b=${DEV_TMP[B]}
device_new_callid B
device_register B 3600
[ -n "${DEV_TMP[B]}" ] && [ "${DEV_TMP[B]}" != "$old_tmp_b" ] || fail "B got no new temp-gruu"
silent A
silent B
expect_invite "$old_tmp_b" "404 GRUU No Longer Valid" "old temp-gruu of B (new Call-ID)"
silent_check A "old temp-gruu of B"
silent_check B "old temp-gruu of B"
uas B p_uas_answer.xml
silent A
uac uac_call.xml -key ruri "${DEV_TMP[B]}" || fail "call to B's new temp-gruu"
uas_wait B
silent_check A "call to B's new temp-gruu"
grep -q "ANSWERED-BY ${DEV_INST[B]}" "$UAC_BASE.log" || fail "B's new temp-gruu: not answered by B"
soft_done
log "ok"
