# bench/run.sh's machinery (sourced).  Everything on 127.0.0.1; every
# server started here is stopped at exit.
set -euo pipefail

B=$top/bench
RESULTS=$B/results
STATE=$(mktemp -d /tmp/locus-bench.XXXXXX)
PG_DIR=$STATE/pg
LOCUS_PORT=25060
KAMAILIO_PORT=25070
SIPP_PORT=25080
SERVER_PID=
PREFILL_RATE=2000
declare -A MAX RUNS
# Both servers reach PostgreSQL alike, over TCP on loopback (Kamailio's
# db_postgres has no unix-socket URL); a port of its own.
export PGPORT=25432
DB_TCP="host=127.0.0.1 port=$PGPORT user=locus"

bench_cleanup() {
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

bench_setup() {
	bench_deps
	say "building locus"
	cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release \
		>/dev/null
	cmake --build "$top/build-bench" -j "$(nproc)" --target locus >/dev/null
	say "starting PostgreSQL in $PG_DIR"
	"$top/scripts/pg.sh" init "$PG_DIR" >/dev/null
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
max_connections = 200
CONF
	"$top/scripts/pg.sh" start "$PG_DIR"
	PGOPTIONS="-c client_min_messages=warning" \
		"$top/scripts/pg.sh" schema "$PG_DIR" locus
	psql_db postgres -c "CREATE DATABASE kamailio" >/dev/null
	psql_db kamailio -f /usr/share/kamailio/postgres/standard-create.sql >/dev/null
	psql_db kamailio -f /usr/share/kamailio/postgres/usrloc-create.sql >/dev/null
	mkdir -p "$RESULTS"
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
	kamailio -f "$STATE/kamailio.cfg" -DD -E -m 512 -M 32 \
		>>"$STATE/kamailio.log" 2>&1 &
	SERVER_PID=$!
	SERVER_PORT=$KAMAILIO_PORT
}

server_stop() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
	pkill -f "kamailio -f $STATE" 2>/dev/null || true
}

# A fresh server on empty tables, answering OPTIONS-less: waits until a
# REGISTER gets an answer.
server_start() {
	psql_db locus -c "TRUNCATE locus.location, locus.instance"
	psql_db kamailio -c "TRUNCATE location, location_attrs"
	"${1}_start"
	for _ in $(seq 1 100); do
		if sipp_once "$B/sipp/reg_new.xml" -m 1 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "bench: $1 did not come up; see $STATE/$1.log" >&2
	exit 1
}

# sipp's own socket buffer is 64 KB by default: a burst of 200 OKs (a
# group commit answers many at once) would overflow it and count as
# retransmissions of the server's.  4 MB, for both servers alike.
sipp_once() {   # sipp_once SCENARIO [args]: a short run against the server
	local scen=$1; shift
	local limit=${SIPP_LIMIT:-90}
	( cd "$STATE" && timeout $((limit + 30)) sipp -sf "$scen" -i 127.0.0.1 \
		-p $SIPP_PORT -nostdin -timeout "${limit}s" -timeout_error \
		-buff_size 4194304 "$@" \
		"127.0.0.1:$SERVER_PORT" )
}

# ---- loads ----------------------------------------------------------------

# The refresh load: call N of both runs registers AOR rN with Call-ID
# rcid-N@bench (-cid_str; sipp matches responses by the Call-IDs it
# makes), first with CSeq 1, then once more with a higher CSeq.
refresh_aors_write() {   # refresh_aors_write COUNT
	awk -v n="$1" 'BEGIN { print "SEQUENTIAL"
		for (i = 1; i <= n; i++)
			printf "r%d;unused;00000000-0000-4000-8000-%012d\n", i, i }' \
		>"$STATE/refresh.csv"
}

load_prepare() {   # load_prepare LOAD RATE: what LOAD needs registered first
	local n=$(($2 * DURATION))
	case $1 in
	reg_refresh)
		refresh_aors_write $n
		# below either server's clean rate, so that no prefill
		# REGISTER is lost: a lost one would make its refresh a new
		# binding and skew the step
		SIPP_LIMIT=$((n / PREFILL_RATE + 60)) sipp_once \
			"$B/sipp/reg_prefill.xml" -inf "$STATE/refresh.csv" \
			-cid_str "rcid-%u@bench" -r $PREFILL_RATE -m $n \
			>"$STATE/prefill.out" 2>&1 ;;
	esac
}

load_args() {
	case $1 in
	reg_refresh) echo "-inf $STATE/refresh.csv -cid_str rcid-%u@bench" ;;
	esac
}

# run_step SERVER LOAD RATE: DURATION seconds at RATE/s against a fresh
# server.  Sets STEP_OK (no failed call, no retransmission, all calls
# made), STEP_RATE (achieved), STEP_RETRANS, STEP_FAILED.
run_step() {
	local server=$1 load=$2 rate=$3 out=$STATE/step.out
	server_start "$server"
	if ! load_prepare "$load" "$rate"; then
		server_stop
		echo "bench: prefill for $server $load at $rate/s failed:" >&2
		tail -5 "$STATE/prefill.out" >&2
		exit 1
	fi
	# shellcheck disable=SC2046
	sipp_once "$B/sipp/$load.xml" $(load_args "$load") -r "$rate" \
		-m $((rate * DURATION)) -l $((rate * 4)) >"$out" 2>&1 || true
	server_stop
	# "REGISTER ---------->  [B-RTD1]  messages  retrans  timeout"
	STEP_RETRANS=$(awk '/REGISTER -+>/ { n = 0; for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+$/ && ++n == 2) { print $i; exit } }' "$out")
	STEP_FAILED=$(awk -F'|' '/Failed call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$out")
	local ok_calls
	ok_calls=$(awk -F'|' '/Successful call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$out")
	STEP_RATE=$(awk -F'|' '/Call Rate/ { gsub(/[ a-z]/, "", $3); v = $3 } END { print v + 0 }' "$out")
	STEP_OK=0
	[ "${STEP_RETRANS:-1}" = 0 ] && [ "$STEP_FAILED" = 0 ] &&
		[ "$ok_calls" = $((rate * DURATION)) ] && STEP_OK=1
	RUNS[$server/$load]+="$rate:$STEP_OK:$STEP_RETRANS:$STEP_FAILED:$STEP_RATE "
	say "$server $load $rate/s for ${DURATION}s: $([ $STEP_OK = 1 ] && echo ok || echo no)" \
		"(achieved ${STEP_RATE}/s, $STEP_RETRANS retransmissions, $STEP_FAILED failed)"
}

# find_max SERVER LOAD: the highest rate that passes, doubling from 1000,
# then bisecting three times.
find_max() {
	local server=$1 load=$2 lo=0 hi=0 rate=1000
	while :; do
		run_step "$server" "$load" $rate
		if [ $STEP_OK = 1 ]; then
			lo=$rate
			[ $rate -ge 64000 ] && break
			rate=$((rate * 2))
		else
			hi=$rate
			break
		fi
	done
	for _ in 1 2 3; do
		[ $hi -gt 0 ] || break
		rate=$(( (lo + hi) / 2 / 100 * 100 ))
		[ $rate -gt $lo ] || break
		run_step "$server" "$load" $rate
		if [ $STEP_OK = 1 ]; then lo=$rate; else hi=$rate; fi
	done
	MAX[$server/$load]=$lo
	say "$server $load: highest clean rate $lo/s"
}

# ---- results --------------------------------------------------------------

results_write() {
	local md=$RESULTS/register.md
	{
		echo "# REGISTER throughput, locus and Kamailio, same run"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r);"
		echo "PostgreSQL $(psql -V | awk '{print $3}'), fsync and synchronous_commit on;"
		echo "Kamailio $(kamailio -v | awk 'NR==1{print $3}') (usrloc db_mode=1, ${KAMAILIO_CHILDREN:-8} children);"
		echo "locus $(git -C "$top" describe --always --dirty 2>/dev/null)."
		echo "Highest rate sustained for ${DURATION} s with no failed call and no"
		echo "retransmission (sipp on the same machine).  Command: \`bench/run.sh\`."
		echo
		echo "| load | locus | Kamailio | ratio |"
		echo "|---|---:|---:|---:|"
		for load in ${LOADS//,/ }; do
			local l=${MAX[locus/$load]:-} k=${MAX[kamailio/$load]:-} ratio=-
			[ -n "$l" ] && [ -n "$k" ] && [ "$k" -gt 0 ] &&
				ratio=$(awk -v a="$l" -v b="$k" 'BEGIN { printf "%.1fx", a / b }')
			echo "| $load | ${l:--} | ${k:--} | $ratio |"
		done
		echo
		echo "Every step (rate/s: pass, retransmissions, failed, achieved/s):"
		echo
		for key in "${!RUNS[@]}"; do
			echo "- $key: ${RUNS[$key]}"
		done
	} >"$md"
	cat "$md"
	chart_write
}

chart_write() {
	local dat=$STATE/chart.dat
	command -v gnuplot >/dev/null || return 0
	for load in ${LOADS//,/ }; do
		echo "$load ${MAX[locus/$load]:-0} ${MAX[kamailio/$load]:-0}"
	done >"$dat"
	gnuplot <<PLOT
set terminal png size 800,480
set output "$RESULTS/register.png"
set title "Durable REGISTER/s, highest clean rate (same machine, same PostgreSQL)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.9
set yrange [0:*]
set ylabel "REGISTER/s"
plot "$dat" using 2:xtic(1) title "locus", "" using 3 title "Kamailio"
PLOT
}
