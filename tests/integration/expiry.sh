#!/usr/bin/env bash
# Expired bindings leave memory on a timer and the database soon after;
# an expiry of 0 removes a binding at once.
. "$(dirname "$0")/lib.sh"

new_db
MIN_EXPIRES=1 start_locus

sip_register "$WORK/r" short@example.com e1 1 \
	"Contact: <sip:short@127.0.0.1:5999>;expires=2" \
	"Contact: <sip:long@127.0.0.1:5998>;expires=600"
expect_status "$WORK/r" "200 OK" "REGISTER"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 2 ] || fail "expected 2 rows"

sleep 3
sip_register "$WORK/q" short@example.com e-query 1
expect_status "$WORK/q" "200 OK" "query"
sip_hdr "$WORK/q" Contact | grep -q "short@" && fail "expired binding still listed"
sip_hdr "$WORK/q" Contact | grep -q "long@" || fail "live binding not listed"

for _ in $(seq 1 100); do
	[ "$(psql_q "SELECT count(*) FROM locus.location")" = 1 ] && break
	sleep 0.1
done
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 1 ] ||
	fail "expired row still in the database 13 s after expiry"
[ "$(psql_q "SELECT contact FROM locus.location")" = "sip:long@127.0.0.1:5998" ] ||
	fail "the wrong row was deleted"

sip_register "$WORK/r" short@example.com e1 2 "Contact: <sip:long@127.0.0.1:5998>;expires=0"
expect_status "$WORK/r" "200 OK" "removal"
[ "$(psql_q "SELECT count(*) FROM locus.location")" = 0 ] || fail "expires=0 did not remove the row"
log "ok"
