#!/usr/bin/env bash
# A 200 OK leaves only after the commit.  When the write fails the answer
# is 500 (statement refused) or 503 with Retry-After (connection lost),
# nothing is half-written, and memory is unchanged; locus reconnects.
. "$(dirname "$0")/lib.sh"

new_db
start_locus

contact() { echo "Contact: <sip:$1@127.0.0.1:5999>;expires=600"; }

# query_contacts AOR: how many Contacts a query REGISTER lists
query_contacts() {
	sip_register "$WORK/q" "$1" "query-$RANDOM" 1 || fail "no answer to a query"
	expect_status "$WORK/q" "200 OK" "query $1"
	sip_hdr "$WORK/q" Contact | grep -c . || true
}

log "a refused statement: 500, nothing stored, memory unchanged"
psql_q "CREATE FUNCTION locus_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN
		IF NEW.contact LIKE '%refuse%' THEN RAISE EXCEPTION 'refused by the test'; END IF;
		RETURN NEW;
	END \$\$"
psql_q "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON locus.location
	FOR EACH ROW EXECUTE FUNCTION locus_test_refuse()"

sip_register "$WORK/r" bad@example.com c1 1 "$(contact refuse)"
expect_status "$WORK/r" "500 Database Write Failed" "refused write"
[ "$(query_contacts bad@example.com)" = 0 ] || fail "memory holds a binding the database refused"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 0 ] || fail "a refused binding is in the table"

log "atomic: the second contact refused, the first not stored either"
sip_register "$WORK/r" two@example.com c2 1 "$(contact fine)" "$(contact refuse-me)"
expect_status "$WORK/r" "500 Database Write Failed" "half-refused REGISTER"
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = 'two@example.com'")" = 0 ] ||
	fail "half a REGISTER was stored"
[ "$(query_contacts two@example.com)" = 0 ] || fail "half a REGISTER is in memory"

log "the same request, acceptable, goes through afterwards"
sip_register "$WORK/r" two@example.com c2 2 "$(contact fine)" "$(contact also-fine)"
expect_status "$WORK/r" "200 OK" "acceptable REGISTER"
[ "$(query_contacts two@example.com)" = 2 ] || fail "expected 2 bindings in memory"

log "connection lost: 503 with Retry-After, then locus reconnects"
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
sip_register "$WORK/r" lost@example.com c3 1 "$(contact lost)"
expect_status "$WORK/r" "503 Database Unavailable" "REGISTER while disconnected"
sip_hdr "$WORK/r" Retry-After | grep -Eq '^[0-9]+$' || fail "503 without Retry-After"
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = 'lost@example.com'")" = 0 ] ||
	fail "a 503'd binding was stored"

for _ in $(seq 1 50); do
	grep -q "connection re-established" "$WORK/locus.log" && break
	sleep 0.1
done
grep -q "connection re-established" "$WORK/locus.log" || fail "locus did not reconnect within 5 s"
sip_register "$WORK/r" lost@example.com c3 2 "$(contact lost)"
expect_status "$WORK/r" "200 OK" "REGISTER after reconnecting"
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = 'lost@example.com'")" = 1 ] ||
	fail "binding missing after reconnect"
[ "$(query_contacts lost@example.com)" = 1 ] || fail "binding missing in memory after reconnect"
locus_alive || fail "locus died"
log "ok"
