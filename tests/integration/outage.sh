#!/usr/bin/env bash
# Outages, with a real PostgreSQL stop and start (a cluster of
# this test's own):
#  - server stopped: REGISTERs get 503 with Retry-After, never 200;
#    routing goes on from memory; locus runs on and logs a few clear
#    lines, not a flood;
#  - server back: locus reconnects by itself, reloads what changed
#    meanwhile (a static binding added with psql), and REGISTERs succeed
#    again within 5 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

private_pg
new_db
start_locus
device A alice@example.com urn:uuid:00000000-0000-4000-8000-0000000000a1

log "PostgreSQL stopped"
pg_server stop
mark=$(wc -l <"$WORK/locus.log")
t0=$(date +%s)
for i in 1 2 3 4 5 6; do
	sip_register "$WORK/r" bob@example.com "down-$$" "$i" \
		"Contact: <sip:bob@127.0.0.1:5999>" || true
	expect_status "$WORK/r" "503 Database Unavailable" "REGISTER $i while the database is down"
	sip_hdr "$WORK/r" Retry-After | grep -Eq '^[0-9]+$' || fail "503 without Retry-After"
	sleep 0.5
done

log "routing goes on from memory"
uas_reject A 486 "Busy Here" "X-Outcome: from-memory"
invite_final "sip:alice@example.com"
uas_wait A
expect_final "486 Busy Here" "INVITE while the database is down"

sleep $((8 - ($(date +%s) - t0)))
lines=$(tail -n +"$mark" "$WORK/locus.log" | grep -c -E ' (warn|error) ' || true)
log "$lines warning/error line(s) in 8 s of outage:"
tail -n +"$mark" "$WORK/locus.log" | grep -E ' (warn|error) ' | sed 's/^/   /'
[ "$lines" -le 8 ] || fail "a flood of $lines log lines in 8 s of outage"
locus_alive || fail "locus died during the outage"

log "PostgreSQL back; a static binding added meanwhile"
pg_server start
t1=$(date +%s%N)
alloc_port PP
psql_q "SELECT locus.add_static_binding('pbx@example.com', 'sip:pbx@127.0.0.1:$PP')" >/dev/null
ok=
for i in $(seq 1 50); do
	if sip_register "$WORK/r" bob@example.com "up-$$" "$i" \
		"Contact: <sip:bob@127.0.0.1:5999>" &&
	   [ "$(sip_status "$WORK/r")" = "SIP/2.0 200 OK" ]; then
		ok=1
		break
	fi
	sip_status "$WORK/r" | grep -q 503 || fail "while reconnecting: $(sip_status "$WORK/r")"
	sleep 0.1
done
[ -n "$ok" ] || fail "REGISTERs did not succeed within 5 s of PostgreSQL's start"
log "REGISTER succeeded $(( ($(date +%s%N) - t1) / 1000000 )) ms after PostgreSQL started"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'bob@example.com'")" = 1 ] ||
	fail "bob's binding not stored after the outage"

DEV_PORT[P]=$PP; DEV_INST[P]=pbx
until_contact pbx@example.com ":$PP>" 5 ||
	fail "the static binding added meanwhile is not in memory"
uas_reject P 603 "Decline" "X-Outcome: static"
invite_final "sip:pbx@example.com"
uas_wait P
expect_final "603 Decline" "INVITE to the binding added during the outage"
grep -E "connection re-established|reloading [0-9]+ AOR" "$WORK/locus.log" | sed 's/^/   /'
grep -q "connection re-established" "$WORK/locus.log" || fail "no reconnect logged"
log "ok"
