#!/usr/bin/env bash
# Every refusal of a REGISTER with its status code and reason phrase
# (RFC 3261 §10.3, RFC 3327, RFC 5627 §5.1), and after each one the
# stored state in psql exactly as before: never a half-written binding,
# also when only one of several contacts is wrong.  All cases run; the
# failures are listed together at the end.
. "$(dirname "$0")/lib.sh"

MAX_CONTACTS=3 MIN_EXPIRES=60
new_db
start_locus
R=$WORK/resp
A=alice@example.com
INST=urn:uuid:00000000-0000-1000-8000-0000000000e1
GOOD="Contact: <sip:alice@127.0.0.1:5099>"     # valid, not yet bound
FAILURES=()

problem() {
	echo "FAIL: $*" >&2
	FAILURES+=("$*")
}

snapshot() {
	psql_q "SELECT * FROM locus.location ORDER BY aor, binding_key" &&
		psql_q "SELECT * FROM locus.instance ORDER BY aor, instance"
}

# refused WHAT "CODE REASON" AOR CALLID CSEQ [HEADER...]: the REGISTER
# must be answered with exactly that status line and change nothing in
# the database.  "~REGEX" instead of "CODE REASON": an anchored extended
# regex for the code and reason.  Cases that do not need alice's binding
# use an AOR of their own, so that a wrongly accepted one cannot change
# the outcome of the next.
refused() {
	local what=$1 want=$2; shift 2
	local before got
	before=$(snapshot)
	if ! sip_register "$R" "$@"; then
		problem "$what: no answer (expected $want)"
		return 0
	fi
	got=$(sip_status "$R")
	if [ "${want:0:1}" = "~" ]; then
		[[ $got =~ ^SIP/2\.0\ (${want:1})$ ]] ||
			problem "$what: expected '${want:1}', got '$got'"
	else
		[ "$got" = "SIP/2.0 $want" ] ||
			problem "$what: expected '$want', got '$got'"
	fi
	local after; after=$(snapshot)
	if [ "$after" != "$before" ]; then
		problem "$what: the stored state changed (psql, < before, > after):
$(diff <(echo "$before") <(echo "$after") | grep '^[<>]')"
	fi
}

log "a binding to defend"
sip_register "$R" $A base 10 "Supported: gruu" \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" \
	"Expires: 600" || fail "no answer"
expect_status "$R" "200 OK" "initial REGISTER"
TGRUU=$(sip_hdr "$R" Contact | sed -n 's/.*temp-gruu="\([^"]*\)".*/\1/p')
[ -n "$TGRUU" ] || fail "no temp-gruu in $(sip_hdr "$R" Contact)"
baseline=$(snapshot)

log "400: wildcard misuse"
refused "* with another Contact (two lines)" "400 Wildcard Contact Must Be Alone" \
	w1@example.com c-w1 1 "Contact: *" "$GOOD" "Expires: 0"
refused "* with another Contact (one line)" "400 Wildcard Contact Must Be Alone" \
	w2@example.com c-w2 1 "$GOOD, *" "Expires: 0"
refused "* without Expires" "400 Wildcard Contact Requires Expires: 0" \
	$A c-w3 1 "Contact: *"
refused "* with Expires: 3600" "400 Wildcard Contact Requires Expires: 0" \
	$A c-w4 1 "Contact: *" "Expires: 3600"
refused "* with another Contact, for alice" "400 Wildcard Contact Must Be Alone" \
	$A c-w5 1 "Contact: *" "$GOOD" "Expires: 0"

log "400: malformed Contact"
refused "Contact <>" "400 Malformed Contact" m1@example.com c-m1 1 "Contact: <>"
refused "Contact without scheme" "400 Malformed Contact" m2@example.com c-m2 1 "Contact: alice"
refused "Contact <sip:>" "400 Malformed Contact" m3@example.com c-m3 1 "Contact: <sip:>"
refused "Contact with unterminated <" "~400 Malformed Contact.*" \
	m4@example.com c-m4 1 "Contact: <sip:alice@127.0.0.1:5099"
refused "Contact with stray >" "~400 Malformed Contact.*" \
	m5@example.com c-m5 1 "Contact: sip:alice@127.0.0.1:5099>"
refused "Contact with unterminated display name" "~400 Malformed Contact.*" \
	m6@example.com c-m6 1 "Contact: \"Alice <sip:alice@127.0.0.1:5099>"
refused "Contact with empty host" "~400 Malformed Contact.*" \
	m7@example.com c-m7 1 "Contact: <sip:alice@>"
refused "Contact with unterminated IPv6 reference" "~400 Malformed Contact.*" \
	m8@example.com c-m8 1 "Contact: <sip:alice@[::1>"
refused "Contact with bad parameters" "400 Malformed Contact Parameters" \
	m9@example.com c-m9 1 "$GOOD;=x"
refused "Contact q=2" "400 Malformed Contact q Value" m10@example.com c-m10 1 "$GOOD;q=2"
refused "empty +sip.instance" "400 Empty +sip.instance" \
	m11@example.com c-m11 1 "$GOOD;+sip.instance=\"\""
refused "reg-id 0" "400 Malformed reg-id" \
	m12@example.com c-m12 1 "$GOOD;+sip.instance=\"<urn:uuid:1>\";reg-id=0"
refused "same contact twice" "400 Duplicate Contact" m13@example.com c-m13 1 "$GOOD" "$GOOD"
refused "malformed Contact for alice" "400 Malformed Contact" $A c-m14 1 "Contact: <>"

log "400: bad expires values"
refused "Expires: abc" "400 Malformed Expires Header" e1@example.com c-e1 1 "$GOOD" "Expires: abc"
refused "Expires: -1" "400 Malformed Expires Header" e2@example.com c-e2 1 "$GOOD" "Expires: -1"
refused "expires=abc" "400 Malformed Expires Value" e3@example.com c-e3 1 "$GOOD;expires=abc"
refused "expires=1.5" "400 Malformed Expires Value" e4@example.com c-e4 1 "$GOOD;expires=1.5"
refused "expires= (empty)" "400 Malformed Expires Value" e5@example.com c-e5 1 "$GOOD;expires="
refused "Expires: abc for alice" "400 Malformed Expires Header" $A c-e6 1 \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" "Expires: abc"

log "420: Require of an unknown extension, Path without Supported: path"
refused "Require: foo" "420 Bad Extension" $A c-r1 1 "$GOOD" "Require: foo"
[ "$(sip_hdr "$R" Unsupported)" = foo ] ||
	problem "Require: foo: Unsupported is '$(sip_hdr "$R" Unsupported)', expected 'foo'"
refused "Require: gruu, foo" "420 Bad Extension" $A c-r2 1 "$GOOD" "Require: gruu, foo"
[ "$(sip_hdr "$R" Unsupported)" = foo ] ||
	problem "Require: gruu, foo: Unsupported is '$(sip_hdr "$R" Unsupported)', expected 'foo'"
refused "Path without Supported: path" "420 Bad Extension: Path Without Supported: path" \
	$A c-r3 1 "$GOOD" "Path: <sip:edge.example.net;lr>"
[ "$(sip_hdr "$R" Unsupported)" = path ] ||
	problem "Path without Supported: Unsupported is '$(sip_hdr "$R" Unsupported)', expected 'path'"

log "423: interval too brief"
refused "expires=10" "423 Interval Too Brief" $A c-i1 1 "$GOOD;expires=10"
[ "$(sip_hdr "$R" Min-Expires)" = 60 ] ||
	problem "423 to expires=10: Min-Expires is '$(sip_hdr "$R" Min-Expires)', expected 60"
refused "Expires: 10" "423 Interval Too Brief" $A c-i2 1 "$GOOD" "Expires: 10"
[ "$(sip_hdr "$R" Min-Expires)" = 60 ] ||
	problem "423 to Expires: 10: Min-Expires is '$(sip_hdr "$R" Min-Expires)', expected 60"

log "403: contacts that would loop, non-SIP contacts"
refused "Contact equal to the AOR" "403 Contact Equals the AOR" \
	$A c-l1 1 "Contact: <sip:alice@example.com>"
refused "Contact is our temp-gruu" "403 Contact Is a GRUU of This Domain" \
	$A c-l2 1 "Contact: <$TGRUU>"
refused "Contact is another AOR's pub-gruu" "403 Contact Is a GRUU of This Domain" \
	$A c-l3 1 "Contact: <sip:bob@example.com;gr=urn:uuid:00000000-0000-1000-8000-0000000000b0>"
# equal to the AOR by RFC 3261 §19.1.4 as well (gr is ignored there)
refused "Contact is the AOR's own pub-gruu" \
	"~403 (Contact Is a GRUU of This Domain|Contact Equals the AOR)" \
	$A c-l4 1 "Contact: <sip:alice@example.com;gr=$INST>"
refused "Contact tel: with +sip.instance" "403 Contact Is Not a SIP URI" \
	$A c-l5 1 "Contact: <tel:+123>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-0000000000e2>\""

log "404: domains not served"
REG_RURI=sip:example.org refused "R-URI domain not ours" "404 Domain Not Served Here" \
	$A c-d1 1 "$GOOD"
REG_RURI=sip:example.com refused "To domain not ours" "404 AOR Domain Not Served Here" \
	alice@example.org c-d2 1 "$GOOD"

log "500: stale CSeq on the same Call-ID"
refused "same Call-ID, same CSeq" "~500 .*CSeq.*" $A base 10 \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" "Expires: 900"
refused "same Call-ID, lower CSeq" "~500 .*CSeq.*" $A base 9 \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" "Expires: 900"
refused "same Call-ID, lower CSeq, removal" "~500 .*CSeq.*" $A base 9 \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" "Expires: 0"
refused "same Call-ID, lower CSeq, wildcard" "~500 .*CSeq.*" $A base 5 \
	"Contact: *" "Expires: 0"
refused "stale CSeq next to a new contact" "~500 .*CSeq.*" $A base 10 \
	"$GOOD" "Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1"

log "one valid and one invalid contact: neither is stored"
refused "valid + equal to the AOR" "403 Contact Equals the AOR" \
	$A c-h1 1 "$GOOD" "Contact: <sip:alice@example.com>"
refused "valid + too brief" "423 Interval Too Brief" \
	$A c-h2 1 "$GOOD" "Contact: <sip:alice@127.0.0.1:5098>;expires=10"
refused "valid + malformed" "400 Malformed Contact" \
	$A c-h3 1 "$GOOD" "Contact: <>"
refused "valid + tel: with an instance" "403 Contact Is Not a SIP URI" \
	$A c-h4 1 "$GOOD" "Contact: <tel:+123>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-0000000000e3>\""
refused "refresh + malformed" "400 Malformed Contact q Value" $A base 11 \
	"Contact: <sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" \
	"Contact: <sip:alice@127.0.0.1:5098>;q=7" "Expires: 900"

log "403: more than max_contacts (3)"
B=bob@example.com
refused "4 contacts in one REGISTER" "403 Too Many Contacts (max 3)" $B c-x1 1 \
	"Contact: <sip:bob@127.0.0.1:5001>" "Contact: <sip:bob@127.0.0.1:5002>" \
	"Contact: <sip:bob@127.0.0.1:5003>" "Contact: <sip:bob@127.0.0.1:5004>"
sip_register "$R" $B c-x2 1 "Contact: <sip:bob@127.0.0.1:5001>" \
	"Contact: <sip:bob@127.0.0.1:5002>" "Contact: <sip:bob@127.0.0.1:5003>" ||
	fail "no answer"
expect_status "$R" "200 OK" "3 contacts (the maximum)"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$B'")" = 3 ] ||
	fail "psql does not show bob's 3 bindings"
refused "a 4th contact later" "403 Too Many Contacts (max 3)" $B c-x3 1 \
	"Contact: <sip:bob@127.0.0.1:5004>"
refused "a 4th contact with a refresh" "403 Too Many Contacts (max 3)" $B c-x2 2 \
	"Contact: <sip:bob@127.0.0.1:5001>" "Contact: <sip:bob@127.0.0.1:5005>"

log "alice's binding is what it was, in psql and in memory"
[ "$(psql_q "SELECT * FROM locus.location WHERE aor = '$A' ORDER BY binding_key")
$(psql_q "SELECT * FROM locus.instance WHERE aor = '$A'")" = "$baseline" ] ||
	problem "alice's stored state differs from before the refusals"
sip_register "$R" $A c-q 1 || fail "no answer to the query"
expect_status "$R" "200 OK" "query"
[ "$(sip_hdr "$R" Contact | sed 's/;expires=[0-9]*//')" = \
  "<sip:alice@127.0.0.1:5061>;+sip.instance=\"<$INST>\";reg-id=1" ] ||
	problem "query lists: $(sip_hdr "$R" Contact)"

locus_alive || fail "locus died"
if [ ${#FAILURES[@]} -gt 0 ]; then
	echo "---- ${#FAILURES[@]} failure(s):" >&2
	printf '  %s\n' "${FAILURES[@]%%$'\n'*}" >&2
	exit 1
fi
log "ok"
