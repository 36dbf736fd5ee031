#!/usr/bin/env bash
# What an attacker types goes into PostgreSQL as data, never as SQL:
# quotes, backslashes, %00 escapes and SQL in the AOR, the
# Contact and the User-Agent are stored and returned exactly; 10 kB of
# junk is refused with a 400 that names the header.  And bindings belong
# to (AOR, instance): bob registering with alice's instance id gets his
# own binding and GRUUs, alice's stay as they were (RFC 5626 §12).
. "$(dirname "$0")/lib.sh"

new_db
write_config
start_locus

log "SQL, quotes and backslashes are data"
ua="x'); DROP TABLE locus.location; -- \\\\ \\\" %00 end"
user="o'neil%00x"
contact="<sip:a'b%00%5Cc@127.0.0.1:5999>"
sip_register "$WORK/h1" "$user@example.com" cid-h 1 \
	"Contact: $contact" "User-Agent: $ua"
expect_status "$WORK/h1" "200 OK" "REGISTER with hostile strings"
got=$(psql_q "SELECT aor || '|' || contact || '|' || user_agent FROM locus.location")
want="$user@example.com|sip:a'b%00%5Cc@127.0.0.1:5999|$ua"
[ "$got" = "$want" ] || fail "stored '$got', sent '$want'"
[ "$(psql_q "SELECT count(*) FROM pg_tables WHERE schemaname = 'locus'
	AND tablename = 'location'")" = 1 ] || fail "locus.location is gone"
sip_hdr "$WORK/h1" Contact | grep -qF "<sip:a'b%00%5Cc@127.0.0.1:5999>" ||
	fail "the 200 OK does not return the Contact exactly: $(sip_hdr "$WORK/h1" Contact)"

log "a raw backslash and quotes in a Contact parameter: stored exactly"
sip_register "$WORK/h4" carol@example.com cid-k 1 \
	'Contact: <sip:a\b@127.0.0.1:5995>;x="q\"uo'"'"'te"'
expect_status "$WORK/h4" "200 OK" "backslash in Contact"
got=$(psql_q "SELECT contact || '|' || params FROM locus.location WHERE aor = 'carol@example.com'")
[ "$got" = 'sip:a\b@127.0.0.1:5995|;x="q\"uo'"'"'te"' ] ||
	fail "carol's contact stored as '$got'"
psql_q "DELETE FROM locus.location WHERE aor = 'carol@example.com'"

log "10 kB of junk: 400 naming the header, nothing stored"
junk=$(head -c 7500 /dev/urandom | base64 -w0 | head -c 10240)
sip_register "$WORK/h2" bob@example.com cid-j 1 \
	"Contact: <sip:bob@127.0.0.1:5998>" "User-Agent: $junk"
status=$(sip_status "$WORK/h2")
[[ $status == "SIP/2.0 400 "*User-Agent* ]] ||
	fail "10 kB User-Agent: expected a 400 naming User-Agent, got '$status'"
sip_register "$WORK/h3" "${junk:0:2000}@example.com" cid-j 2 \
	"Contact: <sip:bob@127.0.0.1:5998>"
[[ $(sip_status "$WORK/h3") == "SIP/2.0 400 "* ]] ||
	fail "2 kB AOR: expected 400, got '$(sip_status "$WORK/h3")'"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 1 ] ||
	fail "junk was stored"

log "bob registers with alice's instance id: two bindings, two pub-gruus"
inst='+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000a11c>";reg-id=1'
sip_register "$WORK/a1" alice@example.com cid-alice 1 \
	"Contact: <sip:alice@127.0.0.1:5997>;$inst" "Supported: gruu"
expect_status "$WORK/a1" "200 OK" "alice"
before=$(psql_q "SELECT contact, call_id, cseq FROM locus.location WHERE aor = 'alice@example.com'")
sip_register "$WORK/b1" bob@example.com cid-bob 1 \
	"Contact: <sip:bob@127.0.0.1:5996>;$inst" "Supported: gruu"
expect_status "$WORK/b1" "200 OK" "bob with alice's instance"
sip_hdr "$WORK/b1" Contact | grep -qF 'pub-gruu="sip:bob@example.com;gr=urn:uuid:00000000-0000-4000-8000-00000000a11c"' ||
	fail "bob's pub-gruu: $(sip_hdr "$WORK/b1" Contact)"
after=$(psql_q "SELECT contact, call_id, cseq FROM locus.location WHERE aor = 'alice@example.com'")
[ "$before" = "$after" ] || fail "alice's binding changed: '$before' -> '$after'"
[ "$(psql_q "SELECT string_agg(aor || ':' || generation, ',' ORDER BY aor)
	FROM locus.instance")" = "alice@example.com:1,bob@example.com:1" ] ||
	fail "instance rows: $(psql_q 'TABLE locus.instance')"
log "ok"
