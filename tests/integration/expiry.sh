#!/usr/bin/env bash
# Expired bindings leave memory on a timer and the database soon after;
# an expiry of 0 removes a binding at once.  The rows go by their keys:
# one whose expiry another writer moved on meanwhile (unnotified here)
# stays.  locus.location has no index but its primary key, so that a
# refresh changes nothing indexed.
. "$(dirname "$0")/lib.sh"

new_db
MIN_EXPIRES=1 start_locus

[ "$(psql_q "SELECT string_agg(indexdef, '; ') FROM pg_indexes
             WHERE schemaname = 'locus' AND tablename = 'location'")" = \
  "CREATE UNIQUE INDEX location_pkey ON locus.location USING btree (aor, binding_key)" ] ||
	fail "locus.location has other indexes: $(psql_q "SELECT string_agg(indexdef, '; ')
	      FROM pg_indexes WHERE schemaname = 'locus' AND tablename = 'location'")"

# moved expires with short, in memory; its row is moved on in psql
sip_register "$WORK/r" short@example.com e1 1 \
	"Contact: <sip:short@127.0.0.1:5999>;expires=2" \
	"Contact: <sip:long@127.0.0.1:5998>;expires=600" \
	"Contact: <sip:moved@127.0.0.1:5997>;expires=2"
expect_status "$WORK/r" "200 OK" "REGISTER"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 3 ] || fail "expected 3 rows"
psql_q "SET locus.quiet = on;
        UPDATE locus.location SET expires = now() + interval '600 s'
         WHERE contact = 'sip:moved@127.0.0.1:5997'" >/dev/null

sleep 3
sip_register "$WORK/q" short@example.com e-query 1
expect_status "$WORK/q" "200 OK" "query"
sip_hdr "$WORK/q" Contact | grep -q "short@" && fail "expired binding still listed"
sip_hdr "$WORK/q" Contact | grep -q "long@" || fail "live binding not listed"

left() {
	psql_q "SELECT string_agg(contact, ' ' ORDER BY contact) FROM locus.location"
}
for _ in $(seq 1 100); do
	[ "$(left)" = "sip:long@127.0.0.1:5998 sip:moved@127.0.0.1:5997" ] && break
	sleep 0.1
done
case $(left) in
*short@*) fail "expired row still in the database 13 s after expiry" ;;
"sip:long@127.0.0.1:5998 sip:moved@127.0.0.1:5997") ;;
*) fail "the wrong row was deleted: left $(left)" ;;
esac
# moved expired in memory with short, in the same sweep: kept
grep -q "expiry: removed 1 expired binding(s)" "$WORK/locus.log" ||
	fail "no sweep removed exactly short's row: $(grep 'expiry:' "$WORK/locus.log")"
psql_q "DELETE FROM locus.location WHERE contact = 'sip:moved@127.0.0.1:5997'" >/dev/null

sip_register "$WORK/r" short@example.com e1 2 "Contact: <sip:long@127.0.0.1:5998>;expires=0"
expect_status "$WORK/r" "200 OK" "removal"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 0 ] || fail "expires=0 did not remove the row"
log "ok"
