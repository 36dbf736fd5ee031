# bench/run.sh's report (sourced last): every finished load and the scale
# figures are kept in bench/results/data/ (a line each, with the date and
# the locus commit they were measured with), so that a run of some loads
# (--loads) updates their rows and keeps the others'; results.md and
# results.png are made from all of them.
set -euo pipefail

DATA=$RESULTS/data

# The date and the commit; "-dirty" if anything but the results differs
# from it (a run writes its results as it goes).
run_stamp() {
	local dirty=
	git -C "$top" diff --quiet HEAD -- . ':!bench/results' 2>/dev/null || dirty=-dirty
	echo "$(date -u '+%Y-%m-%d %H:%M UTC') locus $(git -C "$top" rev-parse --short HEAD 2>/dev/null)$dirty"
}

load_row() {   # load_row LOAD THROUGHPUT-STAMP: its line of figures
	local l=$1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$l" \
		"${MAX[locus/$l]:--}" "${MAX[kamailio/$l]:--}" \
		"${P50[locus/$l]:--}" "${P99[locus/$l]:--}" \
		"${P50[kamailio/$l]:--}" "${P99[kamailio/$l]:--}" \
		"$DURATION" "$2" "$(run_stamp)"
}

load_save() {   # load_save LOAD: its two servers' figures, as measured now
	local l=$1
	load_row "$l" "$(run_stamp)" >"$DATA/$l.tsv"
	{
		echo "- locus/$l: ${RUNS[locus/$l]:-}"
		echo "- kamailio/$l: ${RUNS[kamailio/$l]:-}"
	} >"$DATA/$l.steps"
}

# --latency-only: the highest clean rates of the last run of LOAD, its
# response times measured again now.
load_saved_max() {   # load_saved_max LOAD
	local l=$1 lm km
	[ -f "$DATA/$l.tsv" ] || { echo "bench: no figures for $l to measure at" >&2; exit 1; }
	IFS=$'\t' read -r _ lm km _ _ _ _ DURATION THROUGHPUT_STAMP _ <"$DATA/$l.tsv"
	MAX[locus/$l]=$lm
	MAX[kamailio/$l]=$km
}

latency_save() {   # latency_save LOAD
	local l=$1
	load_row "$l" "$THROUGHPUT_STAMP" >"$DATA/$l.tsv"
	{
		echo "- locus/$l, response times again ($(run_stamp)): ${RUNS[locus/$l]:-}"
		echo "- kamailio/$l, response times again ($(run_stamp)): ${RUNS[kamailio/$l]:-}"
	} >>"$DATA/$l.steps"
}

floor_save() {   # floor_save LOAD: its floor, as measured now
	[ -n "${FLOOR[$1]:-}" ] || return 0
	local stamp
	stamp=$(run_stamp)
	printf '%s' "${FLOOR[$1]}" | awk -v s="$stamp" '{ print $0 "\t" s }' \
		>"$DATA/$1.floor"
}

# cpu_row LOAD REPETITION: one repetition of LOAD's CPU measurement, as
# cpu_measure left it (figures in µs per request; clean: 1 or 0).
cpu_row() {
	local l=$1 n=$CPU_REGISTERS rate=$CPU_REGISTER_RATE
	is_call "$l" && n=$CPU_CALLS rate=$CPU_CALL_RATE
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$l" "$2" "$n" "$rate" \
		"${CPU_SERVER[locus/$l]:--}" "${CPU_PG[locus/$l]:--}" \
		"${CPU_CLEAN[locus/$l]:--}" \
		"${CPU_SERVER[kamailio/$l]:--}" "${CPU_PG[kamailio/$l]:--}" \
		"${CPU_CLEAN[kamailio/$l]:--}" "$(run_stamp)"
}

# cpu_save LOAD ROWS: LOAD's CPU figures, every repetition of this run
cpu_save() {
	printf '%s' "$2" >"$DATA/$1.cpu"
}

scale_save() {
	for n in $SCALE_COUNTS; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" \
			"${STARTUP[locus/$n]:--}" "${STARTUP[kamailio/$n]:--}" \
			"${MEM[locus/$n]:--}" "${MEM[locus/0]:--}" \
			"${MEM[kamailio/$n]:--}" "${MEM[kamailio/0]:--}" \
			"$(run_stamp)"
	done >"$DATA/scale.tsv"
}

load_files() {   # the loads' figures, one file each
	ls "$DATA"/*.tsv 2>/dev/null | grep -v '/scale\.tsv$' || true
}

unit_of() { case $1 in call_*) echo calls/s ;; *) echo REGISTER/s ;; esac; }
target_of() {
	case $1 in
	reg_*) echo "≥ 3x and ≥ 15000" ;;
	call_*) echo "≥ 1.5x" ;;
	esac
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "-" }'; }
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { if (a "" == "-" || b "" == "-") print "-"; else printf "%.1f", a + b }'; }
unclean() { [ "$1" = 1 ] || echo " (not clean)"; }

# p99_over_floor LOAD P99: P99 less the p99 of LOAD's floor measured in the
# same run at the same rate: the relay's for calls, PostgreSQL's alone
# (batched, as locus commits) for REGISTERs; "-" without both.
p99_over_floor() {
	local what="PostgreSQL alone, batched"
	is_call "$1" && what="sipp to sipp through a relay"
	[ -f "$DATA/$1.floor" ] || { echo -; return; }
	awk -F'\t' -v what="$what" -v p99="$2" '
		$3 == what { f = $5 }
		END { if (f == "" || p99 + 0 <= 0) { print "-"; exit }
		      printf "%.2f ms%s\n", p99 - f, p99 ~ /not clean/ ? " (step not clean)" : "" }' \
		"$DATA/$1.floor"
}

cpu_files() { ls "$DATA"/*.cpu 2>/dev/null || true; }
per_binding() {   # per_binding KB KB0 N: bytes per binding
	awk -v a="$1" -v z="$2" -v n="$3" 'BEGIN { if (a + 0 > 0) printf "%.0f", (a - z) * 1024 / n; else print "-" }'
}

results_md() {
	local f
	echo "# locus and Kamailio, side by side"
	echo
	echo "$(nproc) cores, $(uname -r); sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1) on the same machine;"
	echo "PostgreSQL $(psql -V | awk '{print $3}') (fsync and synchronous_commit on), one server for both;"
	echo "Kamailio $(kamailio -v | awk 'NR==1{print $3}'): registrar + usrloc db_mode=1 (write-through), GRUU on,"
	echo "tm stateful relay with record_route, ${KAMAILIO_CHILDREN:-8} UDP children (bench/kamailio.cfg.in)."
	echo "Each load runs against both servers alternately, each step on a fresh server and empty tables."
	echo "Reproduce: \`bench/run.sh\` (everything, about an hour); one part: \`bench/run.sh --loads call_aor --no-scale\`;"
	echo "CPU per request alone: \`bench/run.sh --cpu-only\` (minutes)."
	echo
	if [ -n "$(cpu_files)" ]; then
		echo "## CPU per request"
		echo
		echo "A fixed load against each server, alternately, on the same warmed PostgreSQL, each"
		echo "on a fresh server and empty tables, after a checkpoint: $CPU_REGISTERS REGISTERs at"
		echo "$CPU_REGISTER_RATE/s, $CPU_CALLS calls at $CPU_CALL_RATE/s.  CPU seconds (user + system,"
		echo "/proc/PID/stat utime + stime) from sipp's start to its end, divided by the requests"
		echo "(a REGISTER; a call: INVITE-100-200-ACK-BYE-200, record-routed).  Server: locus's one"
		echo "process; Kamailio's whole process tree.  PostgreSQL: every process of the cluster"
		echo "(postmaster, the server's backends, WAL writer, checkpointer, background writer,"
		echo "autovacuum; processes that exit meanwhile through their parent's cutime + cstime)."
		echo "Microseconds per request.  Target: locus's total ≤ 0.2 × Kamailio's."
		echo
		echo "| load | run | requests at | locus server | locus PostgreSQL | locus total | Kamailio server | Kamailio PostgreSQL | Kamailio total | ratio server | ratio total | measured |"
		echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
		cat $(cpu_files) | while IFS=$'\t' read -r l r n rate ls lp lc ks kp kc stamp; do
			echo "| $l | $r | $n at $rate/s | $ls | $lp | $(sum "$ls" "$lp")$(unclean "$lc") | $ks | $kp | $(sum "$ks" "$kp")$(unclean "$kc") | $(ratio2 "$ls" "$ks") | $(ratio2 "$(sum "$ls" "$lp")" "$(sum "$ks" "$kp")") | $stamp |"
		done
		echo
	fi
	echo "## Throughput"
	echo
	echo "Highest rate sustained for the step's duration with no failed call and no retransmission on"
	echo "any side (doubling from 1000/s, then bisecting)."
	echo
	echo "| load | unit | locus | Kamailio | ratio | target | step | measured |"
	echo "|---|---|---:|---:|---:|---|---:|---|"
	for f in $(load_files); do
		IFS=$'\t' read -r l lm km _ _ _ _ d stamp _ <"$f"
		echo "| $l | $(unit_of "$l") | $lm | $km | $(ratio "$lm" "$km") | $(target_of "$l") | $d s | $stamp |"
	done
	echo
	echo "## Response time at half the highest clean rate"
	echo
	echo "First response of each call (REGISTER to 200; INVITE to 200, through the proxy and the"
	echo "callee), every call of a step, from sipp -trace_rtt, sipp's clock made precise by"
	echo "bench/fineclock.c (sipp reads a clock that moves in 4-ms ticks).  p99 over floor: locus's"
	echo "p99 less the p99 of the floor measured at the same rate in the same run (below: the relay"
	echo "for calls, PostgreSQL alone, batched, for REGISTERs).  Target: p99 over floor ≤ 1 ms."
	echo "(Kamailio's rate, half its own highest clean rate, has no floor of its own.)"
	echo
	echo "| load | locus p50 | locus p99 | locus p99 over floor | Kamailio p50 | Kamailio p99 | measured |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for f in $(load_files); do
		IFS=$'\t' read -r l _ _ lp50 lp99 kp50 kp99 _ stamp lstamp <"$f"
		echo "| $l | $lp50 ms | $lp99 ms | $(p99_over_floor "$l" "$lp99") | $kp50 ms | $kp99 ms | ${lstamp:-$stamp} |"
	done
	if ls "$DATA"/*.floor >/dev/null 2>&1; then
		echo
		echo "## The floor: the same rates with no SIP server"
		echo
		echo "What this machine gives, at the rate of each row above (half locus's highest clean"
		echo "rate), with no SIP server in the path (bench/floor.sh).  Calls: the caller sipp straight"
		echo "to the callee sipp, and through a relay that forwards datagrams and nothing else (the"
		echo "two hops a proxy adds, bench/relay.c).  REGISTERs: PostgreSQL alone, durable upserts of"
		echo "a small row at the REGISTERs' rate, 16 rows per commit from one connection (as locus"
		echo "commits) and one row per commit from 8 connections (as Kamailio's children commit); a"
		echo "row's time runs from when its commit was due until it returned.  Each is part of any"
		echo "server's path for its load."
		echo
		echo "| load | rate/s | what | p50 | p99 | achieved | measured |"
		echo "|---|---:|---|---:|---:|---:|---|"
		cat "$DATA"/*.floor | while IFS=$'\t' read -r l r what p50 p99 got stamp; do
			echo "| $l | $r | $what | $p50 ms | $p99 ms | $got | $stamp |"
		done
	fi
	if [ -f "$DATA/scale.tsv" ]; then
		echo
		echo "## Scale"
		echo
		echo "Bindings in PostgreSQL at start-up (copies of one each server registered itself)."
		echo "Start-up: from launch until an OPTIONS to the last binding's AOR is routed to it"
		echo "(bench/ready.py; Kamailio answers before its usrloc has loaded).  Memory: PSS summed over"
		echo "the server's processes 5 s after that (locus is one process: its PSS is its RSS less"
		echo "its share of the shared libraries); per binding = (memory - memory with none) / bindings."
		echo "Targets: start-up ≤ 10 s and ≤ 1 KiB per binding at 1,000,000."
		echo
		echo "| bindings | locus start-up | Kamailio start-up | locus memory | locus per binding | Kamailio memory | Kamailio per binding | measured |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---|"
		while IFS=$'\t' read -r n ls ks lkb l0 kkb k0 stamp; do
			echo "| $n | $ls s | $ks s | $((lkb / 1024)) MiB | $(per_binding "$lkb" "$l0" "$n") B | $((kkb / 1024)) MiB | $(per_binding "$kkb" "$k0" "$n") B | $stamp |"
		done <"$DATA/scale.tsv"
	fi
	echo
	echo "## Every step"
	echo
	echo "rate/s : passed : retransmissions : failed calls : achieved/s (the last of a load's"
	echo "steps is the response-time step at half the highest clean rate)."
	echo
	cat "$DATA"/*.steps
	echo
	echo "Chart: results.png."
}

chart_write() {
	local dat=$STATE/chart.dat mem=$STATE/mem.dat cpu=$STATE/cpu.dat f
	command -v gnuplot >/dev/null || return 0
	for f in $(load_files); do
		IFS=$'\t' read -r l lm km _ <"$f"
		echo "$l ${lm//-/0} ${km//-/0}"
	done >"$dat"
	: >"$mem"
	[ -f "$DATA/scale.tsv" ] &&
		while IFS=$'\t' read -r n _ _ lkb l0 kkb k0 _; do
			echo "$n $(per_binding "$lkb" "$l0" "$n") $(per_binding "$kkb" "$k0" "$n")"
		done <"$DATA/scale.tsv" >"$mem"
	# CPU per request: a bar per load and server (the first repetition),
	# the server's part and PostgreSQL's stacked
	for f in $(cpu_files); do
		IFS=$'\t' read -r l _ _ _ ls lp _ ks kp _ _ <"$f"
		echo "$l locus ${ls//-/0} ${lp//-/0}"
		echo "$l Kamailio ${ks//-/0} ${kp//-/0}"
		echo "- - 0 0"
	done >"$cpu"
	# throughput and memory side by side, CPU per request below them at
	# full width (two bars per load)
	gnuplot <<PLOT
set terminal png size 1400,1000 noenhanced
set output "$RESULTS/results.png"
set multiplot
set style data histograms
set style fill solid 0.8
set boxwidth 0.9
set yrange [0:*]
set key below horizontal
set size 0.5,0.5
set origin 0,0.5
set title "Highest clean rate (per second, same machine)"
plot "$dat" using 2:xtic(1) title "locus", "" using 3 title "Kamailio"
set origin 0.5,0.5
$( [ -s "$mem" ] && echo "set title \"Memory per binding (bytes)\"
plot \"$mem\" using 2:xtic(1) title \"locus\", \"\" using 3 title \"Kamailio\"")
set size 1,0.5
set origin 0,0
set xtics rotate by -25
$( [ -s "$cpu" ] && echo "set title \"CPU per request (µs; a REGISTER or a call)\"
set style histogram rowstacked
plot \"$cpu\" using 3:xtic(strcol(1) eq \"-\" ? \"\" : strcol(1).\" \".strcol(2)) title \"server\", \"\" using 4 title \"PostgreSQL\"")
unset multiplot
PLOT
}

results_write() {
	results_md >"$RESULTS/results.md"
	chart_write
	cat "$RESULTS/results.md"
}
