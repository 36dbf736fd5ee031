# bench/run.sh's floor (sourced after loads.sh): the response times this
# machine gives with no SIP server at all, at the rate a load's response
# times are measured at (half locus's highest clean rate).  What a floor
# measures is part of every server's path for that load, so no server's
# p99 can be below its load's.
#
#   call loads      the caller sipp straight to the callee sipp: the same
#                   scenario and callee, the INVITE's Request-URI is the
#                   callee's own address; and the same through
#                   bench/relay.c, a proxy with nothing in it (the two hops
#                   a proxy adds, no SIP work)
#   REGISTER loads  PostgreSQL alone (the same server and settings, its
#                   own database), driven by pgbench: the REGISTERs' rate
#                   as durable upserts of a small row (a text key, a text
#                   value, an indexed timestamp: less than either server
#                   writes per REGISTER), in two shapes:
#                     batched  16 rows per commit from one connection, as
#                              locus commits (its batches at half load
#                              average 10 to 16 REGISTERs)
#                     per row  one row per commit from 8 connections, as
#                              Kamailio's 8 children commit
#                   The time of a row is pgbench's: from when its commit
#                   was due (-R schedule) until the commit returned.
set -euo pipefail

declare -A FLOOR
FLOOR_BATCH=16
FLOOR_CONNECTIONS=8

floor_db_setup() {
	[ "$(psql_db postgres -c "SELECT 1 FROM pg_database WHERE datname = 'floor'")" = 1 ] &&
		return 0
	psql_db postgres -c "CREATE DATABASE floor" >/dev/null
	psql_db floor -c "CREATE TABLE row_floor (k text COLLATE \"C\" PRIMARY KEY,
	                  v text NOT NULL, e timestamptz NOT NULL)" \
		-c "CREATE INDEX row_floor_e ON row_floor (e)" >/dev/null
	# ROWS upserts of new keys in one transaction (one commit)
	cat >"$STATE/floor_commit.sql" <<'SQL'
INSERT INTO row_floor (k, v, e)
SELECT 'k' || :client_id || '-' || random() || '-' || g,
       'sip:bench@127.0.0.1:25080', now() + interval '1 hour'
  FROM generate_series(1, :rows) g
    ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, e = EXCLUDED.e;
SQL
}

# floor_call LOAD RATE WHAT PORT: the call load at RATE, the caller sipp
# sending its INVITEs to 127.0.0.1:PORT, for the callee sipp.
floor_call() {
	local load=$1 rate=$2
	aors_write "$STATE/callees.csv" c "$(callee_count "$load")"
	callees_answer "$load" $((rate * DURATION))
	rm -f "$STATE"/*_rtt.csv
	# shellcheck disable=SC2046
	SERVER_PORT=$4 sipp_once \
		"$(load_scenario "$load" "sip:[field0]@127.0.0.1:$CALLEE_PORT")" \
		$(load_args "$load") -r "$rate" -m $((rate * DURATION)) \
		-l $((rate * 4)) -trace_rtt -rtt_freq 1000 >"$STATE/step.out" 2>&1 || true
	callees_stop
	step_tally "$load" $((rate * DURATION))
	floor_keep "$load" "$rate" "$3" "$(first_rtts | percentiles)" \
		"$STEP_RATE calls/s$([ "$STEP_OK" = 1 ] ||
			echo " (not clean: $STEP_RETRANS retransmissions, $STEP_FAILED failed)")"
}

# floor_relayed LOAD RATE: floor_call through bench/relay.c, on the port a
# server would have.
floor_relayed() {
	local relay
	"$STATE/relay" "$LOCUS_PORT" "$CALLEE_PORT" &
	relay=$!
	floor_call "$1" "$2" "sipp to sipp through a relay" "$LOCUS_PORT"
	kill "$relay"
	wait "$relay" 2>/dev/null || true
}

# floor_commits LOAD RATE SHAPE ROWS CONNECTIONS: RATE rows/s, ROWS per
# commit, from CONNECTIONS connections.
floor_commits() {
	local load=$1 rate=$2 shape=$3 rows=$4 conns=$5 tps
	floor_db_setup
	psql_db floor -c "TRUNCATE row_floor" >/dev/null
	rm -f "$STATE"/pgbench_log*
	tps=$(cd "$STATE" && pgbench -h "$PG_DIR/run" -U locus -n \
		-f "$STATE/floor_commit.sql" -D rows="$rows" \
		-c "$conns" -j "$(( conns < 2 ? 1 : 2 ))" -R "$(( rate / rows ))" \
		-T "$DURATION" -l --log-prefix "$STATE/pgbench_log" floor 2>&1 |
		awk '/^tps = / { print $3 }')
	floor_keep "$load" "$rate" "PostgreSQL alone, $shape" \
		"$(cat "$STATE"/pgbench_log* | awk '{ print $3 / 1000 }' | percentiles)" \
		"$(awk -v t="${tps:-0}" -v r="$rows" 'BEGIN { printf "%.0f rows/s", t * r }')"
}

floor_keep() {   # floor_keep LOAD RATE WHAT "P50 P99" ACHIEVED
	local p50 p99 row
	read -r p50 p99 <<<"$4"
	printf -v row '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$p50" "$p99" "$5"
	FLOOR[$1]+=$row
	say "floor of $1 at $2/s, $3: p50 $p50 ms, p99 $p99 ms (achieved $5)"
}

# floor_measure LOAD: its floor at half locus's highest clean rate.
floor_measure() {
	local load=$1 rate=$(( ${MAX[locus/$1]:-0} / 2 ))
	[ "$rate" -gt 0 ] || return 0
	FLOOR[$load]=
	if is_call "$load"; then
		floor_call "$load" "$rate" "sipp to sipp" "$CALLEE_PORT"
		floor_relayed "$load" "$rate"
	else
		floor_commits "$load" "$rate" "batched" $FLOOR_BATCH 1
		floor_commits "$load" "$rate" "per row" 1 $FLOOR_CONNECTIONS
	fi
}
