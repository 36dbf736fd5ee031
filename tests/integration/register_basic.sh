#!/usr/bin/env bash
# RFC 3261 §10.3 basics over UDP (raw REGISTERs with sipsend), each state
# change checked in the 200 OK and in psql:
#  - +sip.instance without Supported: gruu: echoed with reg-id, no GRUUs;
#  - a new Call-ID for an (AOR, instance) bumps the generation, the same
#    Call-ID does not (RFC 5627 §5.1);
#  - a query (no Contact) lists every current binding with its remaining
#    expires;
#  - "Contact: *" with Expires: 0 removes them all;
#  - expiry: the Contact's expires parameter beats the Expires header,
#    values above max_expires are clamped, no value means default_expires;
#  - Path (with Supported: path) is stored in order and echoed (RFC 3327).
. "$(dirname "$0")/lib.sh"

MAX_EXPIRES=3600 DEFAULT_EXPIRES=1800
new_db
start_locus
R=$WORK/resp
INST=urn:uuid:00000000-0000-1000-8000-0000000000a1
A=alice@example.com

# within SLACK seconds below WANT (never above): a remaining lifetime.
near() {
	local got=$1 want=$2 what=$3
	[[ $got =~ ^-?[0-9]+$ ]] || fail "$what: not a number: '$got'"
	[ "$got" -le "$want" ] && [ "$got" -ge $((want - 5)) ] ||
		fail "$what: $got, expected $want (or a few seconds less)"
}
# remaining seconds of a binding in psql (rounded down)
db_remaining() {
	psql_q "SELECT floor(extract(epoch FROM expires - now()))::int
		  FROM locus.bindings WHERE aor = '$1' AND contact = '$2'"
}

log "instance without Supported: gruu"
sip_register "$R" $A cid-1 1 \
	"Contact: <sip:alice@127.0.0.1:5071>;+sip.instance=\"<$INST>\";reg-id=1" \
	"Expires: 600" || fail "no answer to the first REGISTER"
expect_status "$R" "200 OK" "REGISTER with an instance"
[ "$(sip_hdr "$R" Contact | wc -l)" = 1 ] || fail "expected one Contact: $(sip_hdr "$R" Contact)"
c=$(sip_hdr "$R" Contact)
case $c in *"+sip.instance=\"<$INST>\""*) ;; *) fail "instance not echoed: $c";; esac
case $c in *";reg-id=1"*) ;; *) fail "reg-id not echoed: $c";; esac
case $c in *gruu*|*";gr"*) fail "GRUU given without Supported: gruu: $c";; esac
[ "$(psql_q "SELECT generation FROM locus.instance WHERE aor = '$A'")" = 1 ] ||
	fail "generation after the first REGISTER is not 1"

log "new Call-ID bumps the generation, same Call-ID keeps it"
sip_register "$R" $A cid-2 1 \
	"Contact: <sip:alice@127.0.0.1:5071>;+sip.instance=\"<$INST>\";reg-id=1" \
	"Expires: 600" || fail "no answer"
expect_status "$R" "200 OK" "REGISTER with a new Call-ID"
[ "$(psql_q "SELECT generation FROM locus.instance WHERE aor = '$A'")" = 2 ] ||
	fail "new Call-ID did not move the generation to 2"
sip_register "$R" $A cid-2 2 \
	"Contact: <sip:alice@127.0.0.1:5071>;+sip.instance=\"<$INST>\";reg-id=1" \
	"Expires: 600" || fail "no answer"
expect_status "$R" "200 OK" "refresh with the same Call-ID"
[ "$(psql_q "SELECT generation FROM locus.instance WHERE aor = '$A'")" = 2 ] ||
	fail "same Call-ID changed the generation"
[ "$(psql_q "SELECT count(*) || ' ' || min(call_id) || ' ' || min(cseq)
	     FROM locus.bindings WHERE aor = '$A'")" = "1 cid-2 2" ] ||
	fail "the refresh did not replace the instance's binding (count call_id cseq:" \
	     "$(psql_q "SELECT count(*), min(call_id), min(cseq) FROM locus.bindings")"

log "query lists both bindings"
sip_register "$R" $A cid-3 1 "Contact: <sip:alice@127.0.0.1:5072>" \
	"Expires: 300" || fail "no answer"
expect_status "$R" "200 OK" "second contact"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$A'")" = 2 ] ||
	fail "psql does not show two bindings"
before=$(psql_q "SELECT * FROM locus.location ORDER BY binding_key")
sip_register "$R" $A cid-query 1 || fail "no answer to the query"
expect_status "$R" "200 OK" "query"
[ "$(sip_hdr "$R" Contact | wc -l)" = 2 ] ||
	fail "query does not list exactly two contacts: $(sip_hdr "$R" Contact)"
near "$(contact_expires "$R" "<sip:alice@127.0.0.1:5071>")" 600 "query: instance contact"
near "$(contact_expires "$R" "<sip:alice@127.0.0.1:5072>")" 300 "query: plain contact"
sip_hdr "$R" Contact | grep -F "<sip:alice@127.0.0.1:5071>" | grep -F "+sip.instance=\"<$INST>\"" >/dev/null ||
	fail "query: instance contact listed without its instance"
[ "$(psql_q "SELECT * FROM locus.location ORDER BY binding_key")" = "$before" ] ||
	fail "the query changed the stored bindings"

log "Contact: * with Expires: 0 removes all"
sip_register "$R" $A cid-wild 7 "Contact: *" "Expires: 0" || fail "no answer"
expect_status "$R" "200 OK" "wildcard removal"
[ -z "$(sip_hdr "$R" Contact)" ] || fail "200 to * still lists: $(sip_hdr "$R" Contact)"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$A'")" = 0 ] ||
	fail "psql still shows bindings after Contact: *"
sip_register "$R" $A cid-query 2 || fail "no answer to the query"
expect_status "$R" "200 OK" "query after removal"
[ -z "$(sip_hdr "$R" Contact)" ] || fail "query after * lists: $(sip_hdr "$R" Contact)"

log "expiry: parameter beats header, clamping, default"
B=carol@example.com
sip_register "$R" $B cid-e 1 \
	"Contact: <sip:carol@127.0.0.1:5081>;expires=120" \
	"Contact: <sip:carol@127.0.0.1:5082>" \
	"Contact: <sip:carol@127.0.0.1:5083>;expires=99999" \
	"Expires: 900" || fail "no answer"
expect_status "$R" "200 OK" "expiry REGISTER"
near "$(contact_expires "$R" "<sip:carol@127.0.0.1:5081>")" 120 "expires param under Expires: 900"
near "$(contact_expires "$R" "<sip:carol@127.0.0.1:5082>")" 900 "Expires header alone"
near "$(contact_expires "$R" "<sip:carol@127.0.0.1:5083>")" 3600 "expires=99999 clamped to max_expires"
near "$(db_remaining $B sip:carol@127.0.0.1:5081)" 120 "psql expires, param"
near "$(db_remaining $B sip:carol@127.0.0.1:5082)" 900 "psql expires, header"
near "$(db_remaining $B sip:carol@127.0.0.1:5083)" 3600 "psql expires, clamped"
sip_register "$R" $B cid-e 2 "Contact: <sip:carol@127.0.0.1:5084>" \
	"Expires: 86400" || fail "no answer"
expect_status "$R" "200 OK" "Expires header above max"
near "$(contact_expires "$R" "<sip:carol@127.0.0.1:5084>")" 3600 "Expires: 86400 clamped"
near "$(db_remaining $B sip:carol@127.0.0.1:5084)" 3600 "psql expires, header clamped"
sip_register "$R" $B cid-e 3 "Contact: <sip:carol@127.0.0.1:5085>" || fail "no answer"
expect_status "$R" "200 OK" "no expiry given"
near "$(contact_expires "$R" "<sip:carol@127.0.0.1:5085>")" 1800 "default_expires"
near "$(db_remaining $B sip:carol@127.0.0.1:5085)" 1800 "psql expires, default"
# expires=0 as a parameter removes that one binding despite Expires: 600
sip_register "$R" $B cid-e 4 "Contact: <sip:carol@127.0.0.1:5081>;expires=0" \
	"Expires: 600" || fail "no answer"
expect_status "$R" "200 OK" "expires=0 parameter"
sip_hdr "$R" Contact | grep -F "<sip:carol@127.0.0.1:5081>" >/dev/null &&
	fail "expires=0 parameter under Expires: 600 did not remove the binding"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$B'")" = 4 ] ||
	fail "psql: expected 4 bindings of $B after removing one"

log "Path stored in order and echoed"
P1="<sip:p1.example.net;lr>" P2="<sip:p2.example.net:5070;lr>" P3="<sip:p3.example.net;transport=tcp;lr>"
sip_register "$R" dave@example.com cid-p 1 "Supported: path" \
	"Path: $P1" "Path: $P2, $P3" \
	"Contact: <sip:dave@192.0.2.7:5060>" "Expires: 600" || fail "no answer"
expect_status "$R" "200 OK" "REGISTER with Path"
echoed=$(sip_hdr "$R" Path | paste -sd, | sed 's/, */, /g')
[ "$echoed" = "$P1, $P2, $P3" ] || fail "200 Path: '$echoed', expected '$P1, $P2, $P3'"
stored=$(psql_q "SELECT array_length(path, 1) || ' ' || array_to_string(path, ' ')
		   FROM locus.bindings WHERE aor = 'dave@example.com'")
[ "$stored" = "3 $P1 $P2 $P3" ] || fail "psql path: '$stored', expected '3 $P1 $P2 $P3'"

locus_alive || fail "locus died"
log "ok"
