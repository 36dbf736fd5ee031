# bench/run.sh's machinery (sourced): settings, PostgreSQL, the two
# servers and sipp.  Everything on 127.0.0.1; every server started here is
# stopped at exit.  The loads are in loads.sh, the scale measurements in
# scale.sh, the report in report.sh.
set -euo pipefail

B=$top/bench
RESULTS=$B/results
STATE=$(mktemp -d /tmp/locus-bench.XXXXXX)
PG_DIR=$STATE/pg
LOCUS_PORT=25060
KAMAILIO_PORT=25070
SIPP_PORT=25080
CALLEE_PORT=25090
SERVER_PID=
CALLEE_PID=
# Registering what a step needs first (not measured): well below each
# server's clean rate, so that no prefill REGISTER is lost (a lost one
# would make its refresh a new binding and skew the step).
PREFILL_RATE=2000
# sipp's clock, made precise (bench/fineclock.c)
SIPP_PRELOAD=$STATE/fineclock.so
LOCUS_PREFILL_RATE=8000
# Kamailio's shared memory: enough for a million bindings.  Pages it never
# touches cost nothing (memory is measured as PSS, scale.sh).
KAMAILIO_SHM=${KAMAILIO_SHM:-2048}
# Both servers reach PostgreSQL alike, over TCP on loopback (Kamailio's
# db_postgres has no unix-socket URL); a port of its own.
export PGPORT=25432
DB_TCP="host=127.0.0.1 port=$PGPORT user=locus"

bench_cleanup() {
	callees_stop
	server_stop
	"$top/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
	[ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"
}
trap bench_cleanup EXIT

say() { echo "== $*"; }

bench_deps() {
	"$top/scripts/deps.sh"
	local missing=()
	for p in kamailio kamailio-postgres-modules gnuplot-nox; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null
	fi
	# the packaged service would take port 5060 and a database of its own
	systemctl disable --now kamailio >/dev/null 2>&1 || true
}

psql_db() {   # psql_db DB SQL...
	local db=$1; shift
	psql -h "$PG_DIR/run" -U locus -d "$db" -qtAX -v ON_ERROR_STOP=1 "$@"
}

# A fresh cluster has one WAL segment; at 8,000 REGISTER/s it fills one
# (16 MB) every 2 s, and the commit that needs the next waits while
# PostgreSQL creates and zero-fills it: 30 to 110 ms, every 2 s, on
# whichever server is being measured.  A cluster in service reuses the
# segments its checkpoints retire.  So before measuring, write ~700 MB of
# WAL and checkpoint: about 50 segments are then kept for reuse.
wal_warm() {
	psql_db postgres -c "CREATE TABLE wal_warm AS SELECT g, repeat('x', 200) AS t
	                     FROM generate_series(1, 3000000) g" \
		-c "DROP TABLE wal_warm" -c "CHECKPOINT" >/dev/null
}

# locus (build-bench/) and PostgreSQL with its schema: what every part
# needs; the Kamailio side is bench_setup's.
bench_setup_locus() {
	say "building locus"
	cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release \
		>/dev/null
	cmake --build "$top/build-bench" -j "$(nproc)" --target locus >/dev/null
	cc -shared -fPIC -O2 -o "$SIPP_PRELOAD" "$B/fineclock.c" -ldl
	cc -O2 -o "$STATE/relay" "$B/relay.c"   # bench/floor.sh's
	say "starting PostgreSQL in $PG_DIR"
	"$top/scripts/pg.sh" init "$PG_DIR" >/dev/null
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
max_connections = 200
# loaded, but counting nothing (no cost per statement) until
# bench/profile.sh sets pg_stat_statements.track = top
shared_preload_libraries = '${PG_PRELOAD:-pg_stat_statements}'
pg_stat_statements.track = none
CONF
	"$top/scripts/pg.sh" start "$PG_DIR"
	PGOPTIONS="-c client_min_messages=warning" \
		"$top/scripts/pg.sh" schema "$PG_DIR" locus
}

bench_setup() {
	bench_deps
	bench_setup_locus
	wal_warm
	psql_db postgres -c "CREATE DATABASE kamailio" >/dev/null
	psql_db kamailio -f /usr/share/kamailio/postgres/standard-create.sql >/dev/null
	psql_db kamailio -f /usr/share/kamailio/postgres/usrloc-create.sql >/dev/null
	mkdir -p "$RESULTS/data"
}

# ---- servers --------------------------------------------------------------

locus_start() {
	cat >"$STATE/locus.conf" <<CONF
domains   = [ "example.com" ];
listen    = ( { transport = "udp"; address = "127.0.0.1:$LOCUS_PORT"; } );
database  = { conninfo = "$DB_TCP dbname=locus"; };
registrar = { min_expires = 60; default_expires = 3600; max_expires = 3600; max_contacts = 16; };
gruu      = { key_file = "$STATE/gruu.key"; };
log       = { level = "${LOCUS_LOG_LEVEL:-warn}"; };
auth      = { enabled = false; };   # as Kamailio's: no credentials in the loads
CONF
	"$top/build-bench/locus" -f "$STATE/locus.conf" >>"$STATE/locus.log" 2>&1 &
	SERVER_PID=$!
	SERVER_PORT=$LOCUS_PORT
}

kamailio_start() {
	sed -e "s|@PORT@|$KAMAILIO_PORT|" \
	    -e "s|@CHILDREN@|${KAMAILIO_CHILDREN:-8}|" \
	    -e "s|@DB_URL@|postgres://locus@127.0.0.1:$PGPORT/kamailio|" \
	    "$B/kamailio.cfg.in" >"$STATE/kamailio.cfg"
	kamailio -f "$STATE/kamailio.cfg" -DD -E -m "$KAMAILIO_SHM" -M 32 \
		>>"$STATE/kamailio.log" 2>&1 &
	SERVER_PID=$!
	SERVER_PORT=$KAMAILIO_PORT
}

wait_exit() {   # wait_exit PID SECONDS: until PID exits, at most SECONDS
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

# Stops the server and every process it started (Kamailio's children),
# by their PIDs.
server_stop() {
	local tree
	[ -n "$SERVER_PID" ] || return 0
	tree=$(proc_tree "$SERVER_PID")
	kill "$SERVER_PID" 2>/dev/null || true
	wait_exit "$SERVER_PID" 10
	# shellcheck disable=SC2086
	kill -KILL $tree 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# server_launch SERVER [USER]: starts it on whatever the tables hold and
# waits until it answers (with USER: until it routes to USER's binding,
# whose Contact is SIPP_PORT); LAUNCH_S is the seconds that took
# (start-up, with loading the bindings).
server_launch() {
	START_NS=$(date +%s%N)
	export START_NS
	"${1}_start"
	# shellcheck disable=SC2046
	if ! LAUNCH_S=$(python3 "$B/ready.py" "$SERVER_PORT" 600 \
			$([ -n "${2:-}" ] && echo "$2 $SIPP_PORT")); then
		echo "bench: $1 did not come up; see $STATE/$1.log" >&2
		exit 1
	fi
}

server_truncate() {
	psql_db locus -c "TRUNCATE locus.location, locus.instance"
	psql_db kamailio -c "TRUNCATE location, location_attrs"
}

# A fresh server on empty tables.
server_start() {
	server_truncate
	server_launch "$1"
}

# ---- CPU time -------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

proc_tree() {   # proc_tree PID: PID and every process descended from it
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { n = split(root, todo, " ")
		      for (i = 1; i <= n; i++) {
			p = todo[i]; printf "%s ", p
			m = split(kids[p], k, " ")
			for (j = 1; j <= m; j++) todo[++n] = k[j]
		      } }'
}

# tree_ticks PID: the clock ticks of CPU (user + system, /proc/PID/stat
# utime + stime) that PID's process tree has used: every live process's
# own, and (cutime + cstime) those of its children that have exited and
# been waited for: PostgreSQL's autovacuum workers and short sessions,
# which come and go, count too.
tree_ticks() {
	local stats=()
	for p in $(proc_tree "$1"); do stats+=("/proc/$p/stat"); done
	# the command name, in parentheses, may hold spaces: fields are
	# counted after it (utime is the 14th field, so the 12th after it)
	# (cat: of the processes listed, some may be gone already)
	cat "${stats[@]}" 2>/dev/null |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 }
		     END { print t + 0 }'
}

pg_pid() { head -1 "$PG_DIR/data/postmaster.pid"; }

# cpu_mark, then the load, then cpu_read: CPU_SERVER_S and CPU_PG_S, the
# CPU seconds the server's processes (locus: its one process; Kamailio:
# all of them) and every process of the PostgreSQL cluster (postmaster,
# backends, WAL writer, checkpointer, background writer, autovacuum)
# used in between.
cpu_mark() {
	CPU_MARK_SERVER=$(tree_ticks "$SERVER_PID")
	CPU_MARK_PG=$(tree_ticks "$(pg_pid)")
}

cpu_read() {
	local server pg
	server=$(tree_ticks "$SERVER_PID")
	pg=$(tree_ticks "$(pg_pid)")
	CPU_SERVER_S=$(awk -v a="$CPU_MARK_SERVER" -v b="$server" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.2f", (b - a) / hz }')
	CPU_PG_S=$(awk -v a="$CPU_MARK_PG" -v b="$pg" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.2f", (b - a) / hz }')
}

# ---- sipp -----------------------------------------------------------------

# sipp's own socket buffer is 64 KB by default: a burst of 200 OKs (a
# group commit answers many at once) would overflow it and count as
# retransmissions of the server's.  4 MB, for both servers alike.
sipp_once() {   # sipp_once SCENARIO [args]: a run against the server
	local scen=$1; shift
	local limit=${SIPP_LIMIT:-90}
	( cd "$STATE" && LD_PRELOAD=$SIPP_PRELOAD timeout $((limit + 30)) sipp -sf "$scen" -i 127.0.0.1 \
		-p "${SIPP_LOCAL_PORT:-$SIPP_PORT}" -nostdin \
		-timeout "${limit}s" -timeout_error -buff_size 4194304 -trace_err "$@" \
		"127.0.0.1:$SERVER_PORT" )
}

# Retransmissions in sipp's closing screen, over every message of the
# scenario, sent or received.  A client's lines read
#   "REGISTER ---------->  B-RTD1  messages  retrans  timeout"
#   "     200 <----------  E-RTD1  messages  retrans  timeout  unexpected"
# a server's "----------> INVITE  messages  retrans ...": the second
# number after the arrow and the message's name is the retransmissions.
sipp_retrans() {   # sipp_retrans OUTPUT
	awk '/Messages +Retrans/ { sum = 0 }
	     /-+>|<-+/ {
		n = 0; past = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^(-+>|<-+)$/) { past = 1; if (i == 1) i++; continue }
			if (past && $i ~ /^[0-9]+$/ && ++n == 2) { sum += $i; break }
		}
	     }
	     END { print sum + 0 }' "$1"
}

sipp_counter() {   # sipp_counter OUTPUT NAME: a cumulative statistic
	awk -F'|' -v name="$2" 'index($1, name) { gsub(/[ a-z]/, "", $3); v = $3 }
		END { print v + 0 }' "$1"
}
