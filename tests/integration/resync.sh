#!/usr/bin/env bash
# After its LISTEN connection was cut, locus reloads every AOR (the
# resync, location/sync.c), a slice of 500 at a time: AORs changed,
# added or removed while no notification could reach it are as in the
# database afterwards, across several slices of both of its passes (the
# database's AORs, then memory's).  The changes are made with
# locus.quiet on, so that only the resync can find them.
. "$(dirname "$0")/lib.sh"

new_db
start_locus

log "1200 static bindings k1..k1200, notified: in memory"
psql_q "SELECT count(locus.add_static_binding('k' || i || '@example.com',
               'sip:k' || i || '@127.0.0.1:' || (20000 + i)))
        FROM generate_series(1, 1200) i" >/dev/null
until_contact k1200@example.com ":21200>" 10 || fail "k1200 not loaded"
until_contact k1@example.com ":20001>" 10 || fail "k1 not loaded"

log "unnotified: k1..k600 removed, q1..q700 added, k900 moved"
psql_q "SET locus.quiet = on;
        DELETE FROM locus.location
         WHERE aor IN (SELECT 'k' || i || '@example.com'
                       FROM generate_series(1, 600) i);
        SELECT count(locus.add_static_binding('q' || i || '@example.com',
               'sip:q' || i || '@127.0.0.1:' || (30000 + i)))
        FROM generate_series(1, 700) i;
        UPDATE locus.location SET contact = 'sip:k900@127.0.0.1:29999'
         WHERE aor = 'k900@example.com'" >/dev/null
# memory knows nothing of it yet
until_contact k1@example.com ":20001>" 1 || fail "k1 left memory unnotified"

log "the LISTEN connection cut: resync"
mark=$(wc -l <"$WORK/locus.log")
[ "$(psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = '$DB' AND query = 'LISTEN locus_change'")" = 1 ] ||
	fail "no LISTEN session to cut"
for _ in $(seq 1 200); do
	tail -n +"$mark" "$WORK/locus.log" | grep -q "sync: resync done" && break
	sleep 0.1
done
done_line=$(tail -n +"$mark" "$WORK/locus.log" | grep "sync: resync done") ||
	fail "no resync within 20 s"
log "${done_line#* info  }"
grep -q "1300 AOR(s) reloaded from the database, 600 gone" <<<"$done_line" ||
	fail "the resync counted otherwise"

no_contact() {   # no_contact AOR: memory has no binding for it
	sip_register "$WORK/q" "$1" "q-$RANDOM" 1 >/dev/null || fail "no answer for $1"
	expect_status "$WORK/q" "200 OK" "query of $1"
	[ -z "$(sip_hdr "$WORK/q" Contact)" ] || fail "$1 still bound: $(sip_hdr "$WORK/q" Contact)"
}
for i in 1 2 299 300 301 599 600; do no_contact "k$i@example.com"; done
for i in 601 602 1100 1199 1200; do
	until_contact "k$i@example.com" ":$((20000 + i))>" 1 || fail "k$i lost"
done
until_contact k900@example.com ":29999>" 1 || fail "k900 not moved"
for i in 1 2 499 500 501 699 700; do
	until_contact "q$i@example.com" ":$((30000 + i))>" 1 || fail "q$i not loaded"
done
log "ok"
