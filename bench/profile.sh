#!/usr/bin/env bash
# Where the CPU of bench/run.sh --cpu-only's fixed loads goes.
#
#   bench/profile.sh [--loads L,..]     # reg_new,reg_refresh,call_aor,call_hot
#
# For each load, locus under the same fixed load as the CPU measurement
# (bench/loads.sh, cpu_measure), with `perf record` on its process (call
# graphs from DWARF: neither locus's Release build nor libre keeps frame
# pointers).  For a REGISTER load also PostgreSQL's side, locus's run and
# then Kamailio's: `perf record` on every process of the cluster, the CPU
# of each kind of process, pg_stat_statements (calls, rows, time and WAL of
# each statement, per REGISTER), commits and WAL per REGISTER; then a
# short run with auto_explain, for the plans of locus's statements as they
# ran (EXPLAIN ANALYZE, BUFFERS, WAL).  perf's sampling costs CPU of its
# own: the CPU per request is bench/run.sh --cpu-only's figure, not this.
# Writes bench/results/profile.md; KEEP_STATE=1 keeps the perf.data files
# and PostgreSQL's log in the state directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PG_PRELOAD=pg_stat_statements,auto_explain
. "$top/bench/lib.sh"
. "$top/bench/loads.sh"

LOADS=reg_new,reg_refresh,call_aor,call_hot
PERF_HZ=${PERF_HZ:-1999}
DURATION=30   # the callees wait this long (and a minute) for their calls
while [ $# -gt 0 ]; do
	case $1 in
	--loads) LOADS=$2; shift ;;
	*) echo "usage: bench/profile.sh [--loads L,..]" >&2; exit 2 ;;
	esac
	shift
done
command -v perf >/dev/null || {
	say "installing linux-perf"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends linux-perf >/dev/null
}
OUT=$RESULTS/profile.md
REPORT=$STATE/profile.md

# ---- perf -----------------------------------------------------------------

PERF_PIDS=
perf_start() {   # perf_start NAME PIDS: samples PIDS (comma-separated)
	perf record -F "$PERF_HZ" --call-graph dwarf -p "$2" \
		-o "$STATE/perf-$1.data" >"$STATE/perf-$1.out" 2>&1 &
	PERF_PIDS+=" $!"
	sleep 1   # perf attaches before the load starts
}

perf_stop() {   # every perf perf_start started
	for p in $PERF_PIDS; do
		kill -INT "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PERF_PIDS=
}

# perf_top NAME N: the N functions with the most samples of their own,
# their share of all samples, and the shares by object (binary, library,
# kernel)
perf_top() {
	local data=$STATE/perf-$1.data
	echo '```'
	perf report -i "$data" --no-children -F overhead,dso,sym -g none --stdio \
		-q --percent-limit 0.3 2>/dev/null | awk -v n="$2" 'NF && ++i <= n'
	echo '```'
	echo
	echo "By object:"
	echo
	echo '```'
	perf report -i "$data" --no-children -F overhead,dso -g none --stdio -q \
		--percent-limit 0.5 2>/dev/null | awk 'NF && ++i <= 12'
	echo '```'
}

# perf_inclusive NAME N: the functions by the share of samples under them
# (themselves and what they call; then their own share), outside the
# kernel and with a name (libre's static functions have none); then the
# system calls the same way
perf_inclusive() {
	local data=$STATE/perf-$1.data
	echo '```'
	perf report -i "$data" --children -F overhead_children,overhead,dso,sym \
		-g none --stdio -q --percent-limit 1 2>/dev/null |
		awk -v n="$2" 'NF && $3 != "[kernel.kallsyms]" && $5 !~ /^0x/ && ++i <= n'
	echo '```'
	echo
	echo "System calls:"
	echo
	echo '```'
	perf report -i "$data" --children -F overhead_children,overhead,dso,sym \
		-g none --stdio -q --percent-limit 0.5 2>/dev/null |
		awk '$5 ~ /^__x64_sys_/'
	echo '```'
}

# ---- PostgreSQL -----------------------------------------------------------

pgss_setup() {
	psql_db postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
		-c "ALTER SYSTEM SET pg_stat_statements.track = 'top'" \
		-c "ALTER SYSTEM SET pg_stat_statements.max = 1000" \
		-c "SELECT pg_reload_conf()" >/dev/null
}

# The cluster's counters before a load; pg_statements reports what the
# load added.  A backend sends its counters in at most once a second, or
# after 10 s idle, or when it exits: the prefill's are in after 11 s, the
# load's once the server has stopped.
cluster_before() {
	sleep 11
	psql_db postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
	psql_db postgres -c "SELECT pg_stat_reset()" >/dev/null
	psql_db locus -c "SELECT pg_stat_reset()" >/dev/null
	psql_db kamailio -c "SELECT pg_stat_reset()" >/dev/null
	WAL0=$(psql_db postgres -c "SELECT pg_current_wal_lsn()")
	# each process of the cluster, named by what it is
	psql_db postgres -F ' ' -c "SELECT pid, replace(backend_type, ' ', '_')
	    || coalesce('/' || datname, '')
	    || CASE WHEN query LIKE 'LISTEN%' THEN '/LISTEN' ELSE '' END
	      FROM pg_stat_activity WHERE pid <> pg_backend_pid()" |
		sort >"$STATE/pg-procs"
	pg_ticks >"$STATE/pg-ticks0"
}

pg_ticks() {   # "PID TICKS" for every process of the cluster
	for p in $(proc_tree "$(pg_pid)"); do
		[ -r "/proc/$p/stat" ] || continue
		awk -v p="$p" '{ sub(/^.*\) /, ""); print p, $12 + $13 + $14 + $15 }' \
			"/proc/$p/stat" 2>/dev/null || true
	done | sort
}

# pg_by_kind N: the cluster's CPU over the load (from pg-ticks0 to
# pg-ticks1) by kind of process, µs per request (a server's backends by
# database; locus's LISTEN session on its own line).
pg_by_kind() {
	join -a1 -e 0 -o 1.1,1.2,2.2 "$STATE/pg-ticks1" "$STATE/pg-ticks0" |
		join -a1 -e - -o 1.1,1.2,1.3,2.2 - "$STATE/pg-procs" |
		awk -v n="$1" -v hz="$CLK_TCK" -v pm="$(pg_pid)" '
			{ kind = $4 != "-" ? $4 : ($1 == pm ? "postmaster (and its exited children)" : "started during the load")
			  d[kind] += $2 - $3 }
			END { for (k in d) if (d[k] > 0)
				printf "| %s | %.1f |\n", k, d[k] / hz * 1e6 / n }' |
		sort -t'|' -k3 -rn
}

# pg_statements DB N: pg_stat_statements of DB over the load, per request
pg_statements() {
	echo "| statement | calls | rows per call | time per call | time per request | WAL per request | buffers hit per request |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	psql_db postgres -F '|' -c "
	    SELECT left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110),
	           s.calls, round(s.rows::numeric / s.calls, 1),
	           round((s.total_exec_time * 1000 / s.calls)::numeric, 1) || ' µs',
	           round((s.total_exec_time * 1000 / $2)::numeric, 1) || ' µs',
	           round(s.wal_bytes / $2) || ' B',
	           round(s.shared_blks_hit::numeric / $2, 1)
	      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
	     WHERE d.datname = '$1' AND s.query NOT LIKE 'SELECT pg_stat_reset()%'
	     ORDER BY s.total_exec_time DESC LIMIT 12" |
		sed -e 's/^/| `/' -e 's/|/` |/2' -e 's/$/ |/'
	echo
	# locus's transactions are its batches, one locus.notify_aors() each;
	# xact_commit counts its LISTEN session's too (one per notification
	# read)
	psql_db postgres -c "
	    SELECT 'Transactions committed: ' || round(d.xact_commit::numeric / $2, 3)
	           || ' per request' || coalesce(', of which locus''s batches '
	           || round(b.n / $2, 3) || ' (' || round($2 / b.n, 2)
	           || ' REGISTERs per batch; the others are its LISTEN session''s)', '')
	           || '; WAL: ' || round((pg_current_wal_lsn() - '$WAL0'::pg_lsn) / $2)
	           || ' bytes per request.'
	      FROM pg_stat_database d,
	           (SELECT nullif(sum(calls), 0)::numeric AS n FROM pg_stat_statements
	             WHERE query LIKE 'SELECT locus.notify_aors%') b
	     WHERE d.datname = '$1'"
	echo
	echo "| table | rows inserted | updated | of which HOT | deleted |"
	echo "|---|---:|---:|---:|---:|"
	psql_db "$1" -F ' | ' -c "
	    SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd,
	           n_tup_hot_upd, n_tup_del
	      FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0
	     ORDER BY 1" | sed -e 's/^/| /' -e 's/$/ |/'
	echo
	echo "Indexes:"
	echo
	echo '```'
	psql_db "$1" -c "SELECT indexrelid::regclass || ' ON ' || indrelid::regclass
	                     || ' ' || regexp_replace(pg_get_indexdef(indexrelid), '.* USING ', '')
	                   FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
	                  WHERE c.relnamespace::regnamespace::text IN ('locus', 'public')
	                    AND c.relkind = 'r' ORDER BY 1"
	echo '```'

}

# ---- the runs -------------------------------------------------------------

load_size() {   # load_size LOAD: "REQUESTS RATE" of its fixed load
	if is_call "$1"; then echo "$CPU_CALLS $CPU_CALL_RATE"
	else echo "$CPU_REGISTERS $CPU_REGISTER_RATE"; fi
}

# profile_run SERVER LOAD: the fixed load, perf on locus (and on
# PostgreSQL for a REGISTER load), the database's statistics
profile_run() {
	local server=$1 load=$2 n rate db_too=
	read -r n rate < <(load_size "$load")
	is_call "$load" || db_too=1
	step_prepare "$server" "$load" "$n"
	psql_db postgres -c "CHECKPOINT" >/dev/null
	cluster_before
	if [ "$server" = locus ]; then
		perf_start "locus-$load" "$SERVER_PID"
	fi
	if [ -n "$db_too" ]; then
		perf_start "pg-$server-$load" "$(proc_tree "$(pg_pid)" | tr ' ' ',' | sed 's/,$//')"
	fi
	cpu_mark
	step_load "$load" "$rate" "$n"
	cpu_read
	pg_ticks >"$STATE/pg-ticks1"
	perf_stop
	callees_stop
	server_stop
	step_tally "$load" "$n"
	# the backends are gone, their statistics reported (PostgreSQL's
	# counters, unlike pg_stat_statements, are sent in at intervals)
	sleep 2
	{
		echo "## $load, $server: $n at $rate/s"
		echo
		echo "Under perf: server $CPU_SERVER_S s, PostgreSQL $CPU_PG_S s of CPU."
		echo
		if [ "$server" = locus ]; then
			echo "### locus: functions by samples of their own (top 25)"
			echo
			perf_top "locus-$load" 25
			echo
			echo "### locus: functions by samples under them"
			echo
			perf_inclusive "locus-$load" 45
			echo
		fi
		if [ -n "$db_too" ]; then
			echo "### PostgreSQL: CPU by process, µs per REGISTER"
			echo
			echo "| process | µs per REGISTER |"
			echo "|---|---:|"
			pg_by_kind "$n"
			echo
			echo "### PostgreSQL: statements ($server's database)"
			echo
			pg_statements "$([ "$server" = locus ] && echo locus || echo kamailio)" "$n"
			echo
			echo "### PostgreSQL: functions by samples of their own (every process of the cluster)"
			echo
			perf_top "pg-$server-$load" 30
			echo
		fi
	} >>"$REPORT"
	say "$server $load profiled ($([ "$STEP_OK" = 1 ] && echo clean || echo "NOT clean"))"
}

# explain_run LOAD: a short run of LOAD against locus with auto_explain
# logging every statement's plan as it ran; the first plan of each of
# locus's statements goes into the report.
explain_run() {
	local load=$1
	psql_db postgres -c "ALTER SYSTEM SET auto_explain.log_min_duration = 0" \
		-c "ALTER SYSTEM SET auto_explain.log_analyze = on" \
		-c "ALTER SYSTEM SET auto_explain.log_buffers = on" \
		-c "ALTER SYSTEM SET auto_explain.log_wal = on" \
		-c "ALTER SYSTEM SET auto_explain.log_nested_statements = on" \
		-c "SELECT pg_reload_conf()" >/dev/null
	local log=$PG_DIR/server.log lines rate
	read -r _ rate < <(load_size "$load")
	step_prepare locus "$load" 2000
	lines=$(wc -l <"$log")
	step_load "$load" "$rate" 2000
	server_stop
	psql_db postgres -c "ALTER SYSTEM RESET auto_explain.log_min_duration" \
		-c "SELECT pg_reload_conf()" >/dev/null
	{
		echo "## $load: locus's statements as they ran (auto_explain, 2000 REGISTERs at $rate/s)"
		echo
		echo "The first plan of each statement (for a statement of one REGISTER and its array"
		echo "form for a batch of several, the first of each)."
		echo
		echo '```'
		# each plan: its "duration: ... plan:" line and the indented
		# lines under it; the first plan of each statement text
		tail -n +"$((lines + 1))" "$log" | awk '
			function flush(  k) {
				if (buf != "" && q ~ /^(INSERT|UPDATE|DELETE|SELECT locus\.notify)/) {
					k = q
					if (!(k in seen)) print buf "\n"
					seen[k] = 1
				}
				buf = ""; q = ""
			}
			/LOG:  duration: .* plan:/ { flush(); buf = $0; sub(/^.*LOG:  /, "", buf); inplan = 1; next }
			/^[0-9][0-9][0-9][0-9]-/ { flush(); inplan = 0; next }
			inplan { buf = buf "\n" $0
			         if ($0 ~ /Query Text: /) { q = $0; sub(/^.*Query Text: /, "", q) } }
			END { flush() }' | awk 'NR <= 300'
		echo '```'
		echo
	} >>"$REPORT"
}

bench_setup
pgss_setup
{
	echo "# Where the CPU goes: locus under bench/run.sh's fixed loads"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), locus $(git -C "$top" rev-parse --short HEAD)," \
		"$(nproc) cores, $(uname -r); bench/profile.sh (perf $PERF_HZ Hz, DWARF call graphs)."
	echo "Shares are of the samples of the processes profiled, over the whole load."
	echo
} >"$REPORT"
for load in ${LOADS//,/ }; do
	profile_run locus "$load"
	if ! is_call "$load"; then
		profile_run kamailio "$load"
		explain_run "$load"
	fi
done
cp "$REPORT" "$OUT"
say "written: $OUT"
