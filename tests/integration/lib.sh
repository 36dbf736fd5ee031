# Shared by the integration tests (sourced).  Each test gets:
#   - a work directory $WORK, removed at exit;
#   - its own database in the fixture's PostgreSQL (new_db);
#   - locus on free loopback ports (start_locus), stopped at exit;
#   - helpers to drive sipp and sipsend and to query psql.
# Nothing listens beyond 127.0.0.1; every wait is bounded.
set -euo pipefail

TOP=${LOCUS_SOURCE_DIR:?set by ctest}
BUILD=${LOCUS_BUILD_DIR:?set by ctest}
PG_DIR=${LOCUS_PG_DIR:?set by ctest}
export PGOPTIONS="-c client_min_messages=warning"
SIPP_DIR=$TOP/tests/integration/sipp
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/locus-$TEST_NAME.XXXXXX")
LOCUS_PID=
DB=
PORTS_HELD=()

cleanup() {
	local status=$?
	stop_locus
	for p in "${PORTS_HELD[@]}"; do rmdir "/tmp/locus-ports/$p" 2>/dev/null || true; done
	if [ $status -ne 0 ] && [ -f "$WORK/locus.log" ]; then
		echo "---- last lines of locus.log"
		tail -n 40 "$WORK/locus.log"
	fi
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
	exit $status
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

log() {
	echo "== $*"
}

# A loopback port that is free for both UDP and TCP, reserved for this
# test (mkdir is atomic) so that parallel tests never pick the same one.
free_port() {
	local port hex
	mkdir -p /tmp/locus-ports
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 40000))
		hex=$(printf ':%04X ' "$port")
		if grep -q "$hex" /proc/net/tcp /proc/net/udp /proc/net/tcp6 \
			/proc/net/udp6 2>/dev/null; then
			continue
		fi
		if mkdir "/tmp/locus-ports/$port" 2>/dev/null; then
			PORTS_HELD+=("$port")
			echo "$port"
			return 0
		fi
	done
	fail "no free port found"
}

psql_q() {
	psql -h "$PG_DIR/run" -U locus -d "$DB" -qtAX -v ON_ERROR_STOP=1 -c "$1"
}

# A fresh database with the schema loaded.
new_db() {
	DB="t_${TEST_NAME//[^a-zA-Z0-9]/_}_$$"
	psql -h "$PG_DIR/run" -U locus -d postgres -qX \
		-c "DROP DATABASE IF EXISTS \"$DB\"" -c "CREATE DATABASE \"$DB\"" >/dev/null
	psql -h "$PG_DIR/run" -U locus -d "$DB" -qX -v ON_ERROR_STOP=1 \
		-f "$TOP/sql/schema.sql" >/dev/null
}

# write_config [extra registrar settings...]: locus.conf for this test.
# Picks LOCUS_PORT (UDP and TCP on 127.0.0.1) unless already set.
write_config() {
	LOCUS_PORT=${LOCUS_PORT:-$(free_port)}
	local registrar="min_expires = ${MIN_EXPIRES:-60}; default_expires = ${DEFAULT_EXPIRES:-3600}; max_expires = ${MAX_EXPIRES:-3600}; max_contacts = ${MAX_CONTACTS:-16};"
	cat >"$WORK/locus.conf" <<CONF
domains   = [ "example.com", "127.0.0.1" ];
listen    = ( { transport = "udp"; address = "127.0.0.1:$LOCUS_PORT"; },
              { transport = "tcp"; address = "127.0.0.1:$LOCUS_PORT"; } );
database  = { conninfo = "host=$PG_DIR/run dbname=$DB user=locus"; };
registrar = { $registrar };
gruu      = { key_file = "$WORK/gruu.key"; };
log       = { level = "${LOG_LEVEL:-info}"; };
CONF
}

# Starts locus and waits (at most 15 s) until it says it is ready.
start_locus() {
	[ -f "$WORK/locus.conf" ] || write_config
	"$BUILD/locus" -f "$WORK/locus.conf" >>"$WORK/locus.log" 2>&1 &
	LOCUS_PID=$!
	for _ in $(seq 1 150); do
		grep -q "ready" "$WORK/locus.log" 2>/dev/null && return 0
		kill -0 "$LOCUS_PID" 2>/dev/null || fail "locus exited during start-up"
		sleep 0.1
	done
	fail "locus not ready after 15 s"
}

# stop_locus [SIGNAL]: TERM by default; KILL for crash tests.
stop_locus() {
	[ -n "$LOCUS_PID" ] || return 0
	kill "-${1:-TERM}" "$LOCUS_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$LOCUS_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$LOCUS_PID" 2>/dev/null || true
	wait "$LOCUS_PID" 2>/dev/null || true
	LOCUS_PID=
}

locus_alive() {
	[ -n "$LOCUS_PID" ] && kill -0 "$LOCUS_PID" 2>/dev/null
}

# sipp_run SCENARIO [sipp args...]: runs a client scenario from
# tests/integration/sipp against locus, bounded in time; exit status is
# sipp's (0 = every call succeeded).  Logs stay in $WORK.
sipp_run() {
	local scen=$1; shift
	local port; port=$(free_port)
	( cd "$WORK" && timeout 120 sipp -sf "$SIPP_DIR/$scen" -i 127.0.0.1 \
		-p "$port" -timeout 60s -timeout_error -nostdin -trace_err \
		-trace_msg -message_file "$WORK/${scen%.xml}_$port.msg" \
		"$@" "127.0.0.1:$LOCUS_PORT" >"$WORK/${scen%.xml}_$port.out" 2>&1 )
	local status=$?
	if [ $status -ne 0 ]; then
		echo "sipp $scen exited $status; its errors:" >&2
		cat "$WORK"/*_errors.log 2>/dev/null | tail -n 40 >&2 || true
		tail -n 60 "$WORK/${scen%.xml}_$port.msg" >&2 || true
	fi
	return $status
}

# sip_send FILE [sipsend args...]: raw message to locus over UDP; prints
# the responses.  FILE may use sipsend's @...@ placeholders and @AOR_PORT@.
sip_send() {
	local file=$1; shift
	sed "s/@LOCUS_PORT@/$LOCUS_PORT/g" "$file" |
		"$BUILD/sipsend" "$@" 127.0.0.1 "$LOCUS_PORT" -
}
