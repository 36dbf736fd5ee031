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

# A sanitizer build (LOCUS_SANITIZE) reports to locus's stderr, i.e. its
# log, and at exit for leaks: any report fails the test.
sanitizer_check() {
	local f
	for f in "$WORK"/locus*.log; do
		[ -f "$f" ] || continue
		if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f"; then
			echo "FAIL: sanitizer report in $f:" >&2
			grep -E -A 30 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f" |
				head -n 60 >&2
			return 1
		fi
	done
}

# until_log PATTERN WHAT [N]: waits (5 s at most) until locus.log holds
# N (default 1) lines matching PATTERN; fails with WHAT otherwise.
until_log() {
	for _ in $(seq 1 50); do
		[ "$(grep -c -- "$1" "$WORK/locus.log")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	fail "$2"
}

# hep_count FILE TEXT: how many packets tests/tools/hepd.py decoded into
# FILE carry TEXT in their payload (a literal \r\n in TEXT is CRLF);
# exits non-zero on a malformed packet.
hep_count() {
	python3 - "$1" "$2" <<'EOF'
import json, os, sys
text = sys.argv[2].replace("\\r\\n", "\r\n")
n = 0
for line in open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []:
    rec = json.loads(line)
    if "error" in rec:
        sys.exit("a malformed HEP packet: " + rec["error"])
    if text in rec["payload"]:
        n += 1
print(n)
EOF
}

# Background helpers a test starts (UAs, collectors): killed at exit.
BG_PIDS=()

cleanup() {
	local status=$? pid
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	stop_locus
	[ $status -ne 0 ] || sanitizer_check || status=1
	[ -n "${PRIVATE_PG:-}" ] && "$TOP/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1
	# reservations made in subshells ($(free_port)) are in the file
	for p in "${PORTS_HELD[@]}" $(cat "$WORK/.ports" 2>/dev/null); do
		rmdir "/tmp/locus-ports/$p" 2>/dev/null || true
	done
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
			echo "$port" >>"$WORK/.ports"
			echo "$port"
			return 0
		fi
	done
	fail "no free port found"
}

# private_pg: a PostgreSQL cluster of this test's own, in $WORK/pg, for
# tests that stop and start the server (the shared one serves others).
# PG_DIR points at it afterwards; it is stopped at exit.
private_pg() {
	PG_DIR="$WORK/pg"
	PRIVATE_PG=1
	"$TOP/scripts/pg.sh" init "$PG_DIR" >/dev/null
	"$TOP/scripts/pg.sh" start "$PG_DIR"
}

pg_server() {   # pg_server start|stop: the private cluster
	"$TOP/scripts/pg.sh" "$1" "$PG_DIR"
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
# Picks LOCUS_PORT (UDP and TCP on 127.0.0.1) unless already set; with
# TLS_PORT set, also TLS there with $WORK/cert.pem and key.pem; with
# WS_PORT, SIP over WebSocket (RFC 7118) there; with WSS_PORT, over
# secure WebSocket there with the same certificate and key.
write_config() {
	LOCUS_PORT=${LOCUS_PORT:-$(free_port)}
	local extra=
	[ -n "${TLS_PORT:-}" ] && extra+=",
              { transport = \"tls\"; address = \"127.0.0.1:$TLS_PORT\";
                certificate = \"$WORK/cert.pem\"; key = \"$WORK/key.pem\"; }"
	[ -n "${WS_PORT:-}" ] && extra+=",
              { transport = \"ws\"; address = \"127.0.0.1:$WS_PORT\"; }"
	[ -n "${WSS_PORT:-}" ] && extra+=",
              { transport = \"wss\"; address = \"127.0.0.1:$WSS_PORT\";
                certificate = \"$WORK/cert.pem\"; key = \"$WORK/key.pem\"; }"
	local registrar="min_expires = ${MIN_EXPIRES:-60}; default_expires = ${DEFAULT_EXPIRES:-3600}; max_expires = ${MAX_EXPIRES:-3600}; max_contacts = ${MAX_CONTACTS:-16};"
	cat >"$WORK/locus.conf" <<CONF
domains   = [ "example.com", "127.0.0.1" ];
listen    = ( { transport = "udp"; address = "127.0.0.1:$LOCUS_PORT"; },
              { transport = "tcp"; address = "127.0.0.1:$LOCUS_PORT"; }$extra );
database  = { conninfo = "host=$PG_DIR/run dbname=$DB user=locus"; };
registrar = { $registrar };
gruu      = { key_file = "$WORK/gruu.key"; };
log       = { level = "${LOG_LEVEL:-info}"; };
proxy     = { relay = ${PROXY_RELAY:-false}; };
auth      = { ${AUTH_CONFIG:-enabled = false;} };
CONF
}

# wait_ready PID LOG WHAT [BEFORE]: until LOG holds more than BEFORE
# (default 0) "locus ... ready" lines, at most 15 s; fails if PID exits
# first.
wait_ready() {
	local pid=$1 logf=$2 what=$3 before=${4:-0} n
	for _ in $(seq 1 150); do
		n=$(grep -c "locus .* ready" "$logf" 2>/dev/null || true)
		[ "${n:-0}" -gt "$before" ] && return 0
		kill -0 "$pid" 2>/dev/null ||
			fail "$what exited during start-up: $(tail -n 5 "$logf")"
		sleep 0.1
	done
	fail "$what not ready after 15 s"
}

# process_exited PID: waits until PID is gone, at most 10 s; false if it
# still runs then.
process_exited() {
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# process_stop PID [SIGNAL]: TERM by default, at most 10 s, then KILL.
process_stop() {
	local pid=$1
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	process_exited "$pid" || true
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Starts locus and waits (at most 15 s) until it says it is ready.
start_locus() {
	[ -f "$WORK/locus.conf" ] || write_config
	"$BUILD/locus" -f "$WORK/locus.conf" >>"$WORK/locus.log" 2>&1 &
	LOCUS_PID=$!
	wait_ready "$LOCUS_PID" "$WORK/locus.log" locus
}

# stop_locus [SIGNAL]: TERM by default; KILL for crash tests.
stop_locus() {
	[ -n "$LOCUS_PID" ] || return 0
	process_stop "$LOCUS_PID" "${1:-TERM}"
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

# ---- raw SIP helpers (sipsend) ---------------------------------------

# crlf: rewrites the line endings of stdin to CRLF (lines that already
# end in CRLF are left as they are).
crlf() {
	sed 's/\r*$/\r/'
}

# sip_send_text [sipsend args...]: like sip_send, but the message comes
# on stdin written with plain LF line endings (a heredoc); it is sent with
# CRLF.  End the heredoc with an empty line for the header/body CRLFCRLF.
sip_send_text() {
	crlf | sed "s/@LOCUS_PORT@/$LOCUS_PORT/g" |
		"$BUILD/sipsend" "$@" 127.0.0.1 "$LOCUS_PORT" -
}

# sip_register OUT AOR CALLID CSEQ [HEADER...]: sends one REGISTER for
# AOR (user@domain) with the given Call-ID and CSeq number, plus the
# given header lines, and writes locus's responses to OUT; waits for one
# final response (at most 3 s).  Returns sipsend's status (3: no answer).
# REG_RURI overrides the Request-URI (default sip:<domain of AOR>),
# REG_TO the To URI (default sip:AOR), REG_TRANSPORT is udp or tcp,
# REG_SRC the loopback address to send from (default 127.0.0.1).
sip_register() {
	local out=$1 aor=$2 callid=$3 cseq=$4; shift 4
	local tp=${REG_TRANSPORT:-udp} status=0
	{
		echo "REGISTER ${REG_RURI:-sip:${aor#*@}} SIP/2.0"
		echo "Via: SIP/2.0/${tp^^} @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport"
		echo "Max-Forwards: 70"
		echo "From: <sip:$aor>;tag=@TAG@"
		echo "To: <${REG_TO:-sip:$aor}>"
		echo "Call-ID: $callid"
		echo "CSeq: $cseq REGISTER"
		local h
		for h in "$@"; do echo "$h"; done
		echo "Content-Length: 0"
		echo
	} | sip_send_text -t "$tp" ${REG_SRC:+-b "$REG_SRC"} -n 1 -w 3000 \
		>"$out" || status=$?
	return $status
}

# sip_status FILE: the status line of the first response in FILE
# ("SIP/2.0 200 OK"), without CR; empty when there is none.
sip_status() {
	sed -n '/^SIP\/2\.0 /{s/\r$//;p;q}' "$1"
}

# sip_hdr FILE NAME: the values of every NAME header line of the first
# response in FILE, one a line, without CR (NAME is case-insensitive).
sip_hdr() {
	awk -v name="$2" '
		BEGIN { name = tolower(name) }
		{ sub(/\r$/, "") }
		/^----$/ || (seen && $0 == "") { exit }
		/^SIP\/2\.0 / { seen = 1; next }
		seen {
			i = index($0, ":")
			if (i && tolower(substr($0, 1, i - 1)) == name) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v
			}
		}' "$1"
}

# expect_status FILE "CODE REASON" WHAT: fails unless the first response
# in FILE has exactly that status code and reason phrase.
expect_status() {
	local got; got=$(sip_status "$1")
	[ "$got" = "SIP/2.0 $2" ] ||
		fail "$3: expected 'SIP/2.0 $2', got '${got:-no response}'"
}

# start_locus_again: starts locus once more after a stop (same config,
# ports, database and log, appended) and waits (at most 15 s) for a new
# "ready" line; start_locus would see the old one.
start_locus_again() {
	local before
	before=$(grep -c "locus .* ready" "$WORK/locus.log" 2>/dev/null || true)
	"$BUILD/locus" -f "$WORK/locus.conf" >>"$WORK/locus.log" 2>&1 &
	LOCUS_PID=$!
	wait_ready "$LOCUS_PID" "$WORK/locus.log" "locus (restarted)" "${before:-0}"
}

# until_contact AOR TEXT SECONDS: query REGISTERs (no Contact) for AOR
# until one of the Contacts listed contains TEXT; false if none did within
# SECONDS.  The last answer stays in $WORK/q.
until_contact() {
	local t0; t0=$(date +%s%N)
	while :; do
		sip_register "$WORK/q" "$1" "q-$RANDOM" 1 >/dev/null || true
		sip_hdr "$WORK/q" Contact | grep -qF -- "$2" && return 0
		[ $(( $(date +%s%N) - t0 )) -gt $(( $3 * 1000000000 )) ] && return 1
		sleep 0.01
	done
}

# contact_expires FILE TEXT: the expires= value of the Contact, in the
# first response in FILE, whose line contains TEXT (e.g. "<sip:a@h:5>").
contact_expires() {
	sip_hdr "$1" Contact | grep -F -- "$2" |
		sed -n '1s/.*;expires=\([0-9]*\).*/\1/p'
}

# ---- digest authentication (auth.enabled) ------------------------------

# digest_hash ALG TEXT: hex H(TEXT), ALG "MD5" or "SHA-256".
digest_hash() {
	case $1 in
	MD5) printf '%s' "$2" | md5sum | cut -d' ' -f1 ;;
	SHA-256) printf '%s' "$2" | sha256sum | cut -d' ' -f1 ;;
	*) fail "digest_hash: unknown algorithm $1" ;;
	esac
}

# digest_credentials HEADER FILE ALG USER PASSWORD METHOD URI NC: the
# credentials line (HEADER: Authorization or Proxy-Authorization) that
# answers the ALG challenge in the first response in FILE, computed here
# independently of locus (RFC 7616 §3.4.1, qop=auth).
digest_credentials() {
	local header=$1 file=$2 alg=$3 user=$4 pass=$5 method=$6 uri=$7 nc=$8
	local chname=WWW-Authenticate ch realm nonce cnonce ha1 ha2 resp
	[ "$header" = Proxy-Authorization ] && chname=Proxy-Authenticate
	ch=$(sip_hdr "$file" "$chname" | grep -F "algorithm=$alg" | head -n 1)
	[ -n "$ch" ] || fail "no $alg challenge in $file"
	realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$ch")
	nonce=$(sed -n 's/.*nonce="\([^"]*\)".*/\1/p' <<<"$ch")
	cnonce=c$RANDOM$RANDOM
	ha1=$(digest_hash "$alg" "$user:$realm:$pass")
	ha2=$(digest_hash "$alg" "$method:$uri")
	resp=$(digest_hash "$alg" "$ha1:$nonce:$nc:$cnonce:auth:$ha2")
	echo "$header: Digest username=\"$user\", realm=\"$realm\"," \
		"nonce=\"$nonce\", uri=\"$uri\", algorithm=$alg, qop=auth," \
		"nc=$nc, cnonce=\"$cnonce\", response=\"$resp\""
}

