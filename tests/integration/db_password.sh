#!/usr/bin/env bash
# The password a database.conninfo may hold never reaches the log.
#  1. Start-up, nothing listens at the server's address: locus refuses to
#     start and says which host, port, database and user it tried - as a
#     key/value conninfo and as a URI - but not the password; a URI that
#     libpq cannot parse is refused without quoting it.
#  2. Running: both connections (the pipeline and LISTEN) are cut, the
#     database refuses new ones for a while, then takes them again: the
#     loss, the failed attempts and the reconnection are all logged, the
#     password nowhere.
. "$(dirname "$0")/lib.sh"

LOG_LEVEL=debug
new_db
write_config
cp "$WORK/locus.conf" "$WORK/good.conf"

# set_conninfo TEXT: database.conninfo of locus.conf becomes TEXT
set_conninfo() {
	sed -i "s|conninfo = \"[^\"]*\"|conninfo = \"$1\"|" "$WORK/locus.conf"
}

# refused WHAT PATTERN: locus must exit 1, its output match PATTERN (an
# extended regexp) and not hold the password
refused() {
	local status=0
	timeout 20 "$BUILD/locus" -f "$WORK/locus.conf" >"$WORK/out" 2>&1 || status=$?
	[ $status -eq 1 ] || fail "$1: exit status $status, expected 1: $(cat "$WORK/out")"
	! grep -q SEKRIT "$WORK/out" || fail "$1: the password is in the log: $(cat "$WORK/out")"
	grep -Eq "$2" "$WORK/out" || fail "$1: message not as expected: $(cat "$WORK/out")"
	log "$1: $(grep -E "$2" "$WORK/out" | head -n 1)"
}

log "1. start-up, nothing listens there: the server named, not the password"
closed=$(free_port)
set_conninfo "host=127.0.0.1 port=$closed dbname=$DB user=locus password=SEKRIT"
refused "key/value conninfo" \
	"cannot connect to the database \(host 127\.0\.0\.1, port $closed, database $DB, user locus\): .*refused"
set_conninfo "postgresql://locus:SEKRIT@127.0.0.1:$closed/$DB"
refused "URI conninfo" \
	"cannot connect to the database \(host 127\.0\.0\.1, port $closed, database $DB, user locus\)"
set_conninfo "postgresql://locus:SEKRIT@[::1:$closed/$DB"
refused "unparsable URI" "database\.conninfo is not valid: .*IPv6"
set_conninfo "host=127.0.0.1 password=SEK RIT"
refused "unparsable key/value conninfo" "database\.conninfo is not valid: missing \"=\""

log "2. running: connections cut, refused for a while, then taken again"
cp "$WORK/good.conf" "$WORK/locus.conf"
# the fixture trusts its socket: the password is sent nowhere, but it is
# in the conninfo every connection is made with
set_conninfo "host=$PG_DIR/run dbname=$DB user=locus password=SEKRIT"
start_locus
allow_connections() {
	psql -h "$PG_DIR/run" -U locus -d postgres -qtAX -v ON_ERROR_STOP=1 \
		-c "ALTER DATABASE \"$DB\" WITH ALLOW_CONNECTIONS $1" >/dev/null
}
allow_connections false
psql -h "$PG_DIR/run" -U locus -d postgres -qtAX -v ON_ERROR_STOP=1 \
	-c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	    WHERE datname = '$DB'" >/dev/null
for what in "database: connection lost" "sync: LISTEN connection lost" \
	"database: still unreachable" "sync: reconnect failed"; do
	for _ in $(seq 1 50); do
		grep -q "$what" "$WORK/locus.log" && break
		sleep 0.1
	done
	grep -q "$what" "$WORK/locus.log" || fail "no '$what' in the log within 5 s"
done
sip_register "$WORK/r" pw@example.com pw-1 1 "Contact: <sip:pw@127.0.0.1:5999>"
expect_status "$WORK/r" "503 Database Unavailable" "REGISTER while refused"
allow_connections true
for _ in $(seq 1 50); do
	grep -q "connection re-established" "$WORK/locus.log" && break
	sleep 0.1
done
grep -q "connection re-established" "$WORK/locus.log" ||
	fail "locus did not reconnect within 5 s of the database taking connections"
sip_register "$WORK/r" pw@example.com pw-1 2 "Contact: <sip:pw@127.0.0.1:5999>"
expect_status "$WORK/r" "200 OK" "REGISTER after reconnecting"
stop_locus
! grep -q SEKRIT "$WORK/locus.log" ||
	fail "the password is in the log: $(grep SEKRIT "$WORK/locus.log")"
log "ok"
