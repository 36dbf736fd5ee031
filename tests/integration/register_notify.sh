#!/usr/bin/env bash
# Which of locus's commits notify the other nodes (channel locus_change):
#  - a node alone notifies nothing for its REGISTERs (every notification
#    wakes each LISTEN session of the database, the node's own included,
#    and nobody else needs it);
#  - while another node runs (here a psql session holding its share of
#    the node lock, as every node's writer does), each REGISTER's commit
#    notifies its AOR, and a psql change notifies as before;
#  - once the other node is gone, REGISTERs notify nothing again, while
#    psql changes still do (the running node follows them).
# A listener in psql reads the notifications; the bindings themselves are
# checked in the database each time.
. "$(dirname "$0")/lib.sh"

new_db
start_locus
R=$WORK/resp

# The psql session: listens, and plays the other node on demand.  Its
# output is read after a marker query, which psql answers after printing
# every notification received before it.
mkfifo "$WORK/psql.in"
psql -h "$PG_DIR/run" -U locus -d "$DB" -qtAX <"$WORK/psql.in" \
	>"$WORK/psql.out" 2>&1 &
PSQL_PID=$!
exec 7>"$WORK/psql.in"
psql_stop() {
	exec 7>&-
	wait "$PSQL_PID" 2>/dev/null || true
}
trap 'status=$?; psql_stop; (exit $status); cleanup' EXIT

MARKS=0
# session SQL: runs SQL in the psql session and waits for it (at most 5 s).
session() {
	MARKS=$((MARKS + 1))
	echo "$1" >&7
	echo "SELECT 'mark-$MARKS';" >&7
	for _ in $(seq 1 100); do
		grep -q "^mark-$MARKS\$" "$WORK/psql.out" && return 0
		sleep 0.05
	done
	fail "the psql session did not answer: $(tail -n 5 "$WORK/psql.out")"
}

# notified: GOT, the payloads of locus_change received since the last
# call, one a line (not in a subshell: it counts what it has seen).
SEEN=0
notified() {
	session "SELECT 1;"
	GOT=$(grep -o 'notification "locus_change" with payload "[^"]*"' "$WORK/psql.out" |
		tail -n +"$((SEEN + 1))" | sed 's/.*payload "\(.*\)"/\1/' || true)
	SEEN=$(grep -c 'notification "locus_change"' "$WORK/psql.out" || true)
}

# register AOR PORT: a new binding for AOR, answered 200 and in the
# database.
register() {
	sip_register "$R" "$1" "cid-$1" 1 "Contact: <sip:u@127.0.0.1:$2>" \
		"Expires: 600" || fail "no answer to the REGISTER of $1"
	expect_status "$R" "200 OK" "REGISTER of $1"
	[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = '$1'")" = 1 ] ||
		fail "$1 has no binding in the database after its 200 OK"
}

session "LISTEN locus_change;"

log "a node alone: its REGISTERs notify nothing"
register alone1@example.com 5071
register alone2@example.com 5072
notified
[ -z "$GOT" ] || fail "a node alone notified: $GOT"

log "another node runs: each REGISTER notifies its AOR"
session "SELECT pg_advisory_lock_shared(hashtext('locus.node'));"
register other1@example.com 5073
notified
[ "$GOT" = other1@example.com ] ||
	fail "with another node running, the REGISTER notified '$GOT', expected other1@example.com"

log "the other node gone: REGISTERs notify nothing, psql changes still do"
session "SELECT pg_advisory_unlock_shared(hashtext('locus.node'));"
register alone3@example.com 5074
notified
[ -z "$GOT" ] || fail "alone again, the node notified: $GOT"
psql_q "DELETE FROM locus.location WHERE aor = 'alone1@example.com'" >/dev/null
notified
[ "$GOT" = alone1@example.com ] ||
	fail "a DELETE in psql notified '$GOT', expected alone1@example.com"
sip_register "$WORK/q" alone1@example.com q-1 1 >/dev/null || fail "no answer to a query"
for _ in $(seq 1 100); do
	[ -z "$(sip_hdr "$WORK/q" Contact)" ] && break
	sleep 0.01
	sip_register "$WORK/q" alone1@example.com "q-$RANDOM" 1 >/dev/null || true
done
[ -z "$(sip_hdr "$WORK/q" Contact)" ] ||
	fail "locus still lists alone1's binding 1 s after the DELETE in psql"
log "ok"
