# bench/run.sh's loads (sourced after lib.sh): what each needs registered
# first, a step of DURATION seconds at one rate, the search for the
# highest clean rate, and the response times at half of it.
#
#   reg_new      new bindings: a new AOR per REGISTER, +sip.instance,
#                reg-id, Supported: gruu
#   reg_refresh  refreshes of bindings registered before the step
#   call_aor     INVITE-200-ACK-BYE-200 through the proxy to an AOR,
#                record-routed, to CALLEES registered sipp callees
#   call_gruu    the same to each callee's public GRUU
#   call_hot     the same to one callee, every call to the same AOR, the
#                BYE right after the ACK: the shape in which a single
#                thread meets its ceiling first
#
# Then each load's CPU per request (cpu_measure): a fixed number of
# requests at a fixed rate, the CPU seconds of the server's processes and
# of PostgreSQL's divided by the requests.
set -euo pipefail

CALLEES=1000
# The fixed loads of the CPU measurement: requests (REGISTERs or calls)
# and their rate.
CPU_REGISTERS=${CPU_REGISTERS:-20000} CPU_REGISTER_RATE=${CPU_REGISTER_RATE:-2000}
CPU_CALLS=${CPU_CALLS:-10000} CPU_CALL_RATE=${CPU_CALL_RATE:-1000}
declare -A MAX RUNS P50 P99 CPU_SERVER CPU_PG CPU_CLEAN

# The refresh load: call N of both runs registers AOR rN with Call-ID
# rcid-N@bench (-cid_str; sipp matches responses by the Call-IDs it
# makes), first with CSeq 1, then once more with a higher CSeq.
aors_write() {   # aors_write FILE PREFIX COUNT
	awk -v n="$3" -v p="$2" 'BEGIN { print "SEQUENTIAL"
		for (i = 1; i <= n; i++)
			printf "%s%d;unused;00000000-0000-4000-8000-%012d\n", p, i, i }' \
		>"$1"
}

prefill() {   # prefill CSV COUNT [sipp args]: registers COUNT AORs of CSV
	local csv=$1 n=$2; shift 2
	local rate=$PREFILL_RATE
	[ "$SERVER_PORT" = "$LOCUS_PORT" ] && rate=$LOCUS_PREFILL_RATE
	SIPP_LIMIT=$((n / rate + 60)) sipp_once \
		"$B/sipp/reg_prefill.xml" -inf "$csv" -r $rate -m "$n" \
		"$@" >"$STATE/prefill.out" 2>&1
}

is_call() { case $1 in call_*) return 0 ;; esac; return 1; }

callee_count() {   # callee_count LOAD: how many callees LOAD calls
	case $1 in call_hot) echo 1 ;; *) echo $CALLEES ;; esac
}

# The callees' scenario: with the BYE right behind the ACK, a proxy of
# many processes (Kamailio's children) may deliver the BYE first, so the
# hot callee takes the ACK as optional (a late one reaches a finished
# call, which sipp absorbs).
callee_scenario() {   # callee_scenario LOAD
	case $1 in
	call_hot) echo "$B/sipp/call_uas_hot.xml" ;;
	*) echo "$B/sipp/call_uas.xml" ;;
	esac
}

# The callees: one sipp server on CALLEE_PORT answers for all of them.
# They register from that port first, so that their Contacts (and the
# servers' received addresses) name it.
callees_start() {   # callees_start LOAD CALLS
	local n
	n=$(callee_count "$1")
	aors_write "$STATE/callees.csv" c "$n"
	SIPP_LOCAL_PORT=$CALLEE_PORT prefill "$STATE/callees.csv" "$n" ||
		return 1
	callees_answer "$1" "$2"
}

# callees_answer LOAD CALLS: the callee sipp, in the background (exec:
# CALLEE_PID is sipp's own)
callees_answer() {
	( cd "$STATE" && LD_PRELOAD=$SIPP_PRELOAD exec sipp -sf "$(callee_scenario "$1")" \
		-i 127.0.0.1 -p $CALLEE_PORT -nostdin -buff_size 4194304 -m "$2" \
		-recv_timeout 10s -timeout $((DURATION + 60))s -trace_err \
		>"$STATE/callees.out" 2>&1 ) &
	CALLEE_PID=$!
}

callees_stop() {   # waits up to 15 s for the callees to count their calls
	[ -n "$CALLEE_PID" ] || return 0
	wait_exit "$CALLEE_PID" 15
	kill "$CALLEE_PID" 2>/dev/null || true
	wait "$CALLEE_PID" 2>/dev/null || true
	CALLEE_PID=
}

load_prepare() {   # load_prepare LOAD CALLS: what CALLS calls of LOAD need first
	local n=$2
	case $1 in
	reg_refresh)
		aors_write "$STATE/refresh.csv" r $n
		prefill "$STATE/refresh.csv" $n -cid_str "rcid-%u@bench" ;;
	call_*)
		callees_start "$1" $n ;;
	esac
}

# The scenario file of LOAD; the call loads' are made from one template
# (RURI: another Request-URI for its INVITEs; the hot callee's calls
# leave out the second between ACK and BYE).
load_scenario() {   # load_scenario LOAD [RURI]
	local ruri=${2:-} hold='<pause milliseconds="1000"\/>'
	case $1 in
	call_aor)  ruri=${ruri:-'sip:[field0]@example.com'} ;;
	call_gruu) ruri=${ruri:-'sip:[field0]@example.com;gr=urn:uuid:[field2]'} ;;
	call_hot)  ruri=${ruri:-'sip:[field0]@example.com'}; hold= ;;
	*) echo "$B/sipp/$1.xml"; return ;;
	esac
	sed -e "s|@LOAD@|$1|" -e "s|@RURI@|$ruri|" -e "s|@HOLD@|$hold|" \
		"$B/sipp/call_uac.xml.in" >"$STATE/$1.xml"
	echo "$STATE/$1.xml"
}

load_args() {
	case $1 in
	reg_refresh) echo "-inf $STATE/refresh.csv -cid_str rcid-%u@bench" ;;
	call_*) echo "-inf $STATE/callees.csv" ;;
	esac
}

# step_prepare SERVER LOAD CALLS: a fresh server on empty tables, and
# what CALLS calls of LOAD need first.
step_prepare() {
	server_start "$1"
	if ! load_prepare "$2" "$3"; then
		echo "bench: preparing $2 for $1 failed:" >&2
		tail -5 "$STATE/prefill.out" >&2
		exit 1
	fi
}

step_load() {   # step_load LOAD RATE CALLS [sipp args]: the load itself
	local load=$1 rate=$2 n=$3
	shift 3
	# shellcheck disable=SC2046
	SIPP_LIMIT=$((n / rate + 60)) sipp_once "$(load_scenario "$load")" \
		$(load_args "$load") -r "$rate" -m "$n" -l $((rate * 4)) "$@" \
		>"$STATE/step.out" 2>&1 || true
}

# run_step SERVER LOAD RATE [sipp args]: DURATION seconds at RATE/s
# against a fresh server.  Sets what step_tally sets.
run_step() {
	local server=$1 load=$2 rate=$3
	shift 3
	step_prepare "$server" "$load" $((rate * DURATION))
	step_load "$load" "$rate" $((rate * DURATION)) "$@"
	callees_stop
	server_stop
	step_tally "$load" $((rate * DURATION))
	RUNS[$server/$load]+="$rate:$STEP_OK:$STEP_RETRANS:$STEP_FAILED:$STEP_RATE "
	say "$server $load $rate/s for ${DURATION}s: $([ $STEP_OK = 1 ] && echo ok || echo no)" \
		"(achieved ${STEP_RATE}/s, $STEP_RETRANS retransmissions, $STEP_FAILED failed)"
}

# step_tally LOAD CALLS: what the sipps of the step just run counted.
# Sets STEP_OK (no failed call, no retransmission on either side, all
# CALLS calls made), STEP_RATE (achieved), STEP_RETRANS, STEP_FAILED.
step_tally() {
	local load=$1 calls=$2 out=$STATE/step.out ok_calls
	STEP_RETRANS=$(sipp_retrans "$out")
	STEP_FAILED=$(sipp_counter "$out" "Failed call")
	ok_calls=$(sipp_counter "$out" "Successful call")
	STEP_RATE=$(sipp_counter "$out" "Call Rate")
	if is_call "$load"; then
		STEP_RETRANS=$((STEP_RETRANS + $(sipp_retrans "$STATE/callees.out")))
		STEP_FAILED=$((STEP_FAILED + $(sipp_counter "$STATE/callees.out" "Failed call")))
	fi
	STEP_OK=0
	[ "$STEP_RETRANS" = 0 ] && [ "$STEP_FAILED" = 0 ] &&
		[ "$ok_calls" = "$calls" ] && STEP_OK=1
	return 0
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

# percentiles: "p50 p99" (nearest rank) of the numbers on standard input,
# "- -" if there are none.
percentiles() {
	sort -n | awk '{ v[NR] = $1 }
		END { if (!NR) { print "- -"; exit }
		      p50 = int((NR * 50 + 99) / 100); p99 = int((NR * 99 + 99) / 100)
		      printf "%.2f %.2f\n", v[p50], v[p99] }'
}

# first_rtts: the first response time (ms) of every call of the last step
first_rtts() {
	cat "$STATE"/*_rtt.csv | awk -F';' '$3 == 1 { print $2 }'
}

# measure_latency SERVER LOAD: p50 and p99 of the first response time
# (REGISTER to 200, INVITE to 200) at half the highest clean rate, from
# every call's sipp -trace_rtt record (microseconds: bench/fineclock.c).
measure_latency() {
	local server=$1 load=$2 rate=$(( ${MAX[$1/$2]:-0} / 2 ))
	[ "$rate" -gt 0 ] || return 0
	rm -f "$STATE"/*_rtt.csv
	run_step "$server" "$load" "$rate" -trace_rtt -rtt_freq 1000
	read -r P50[$server/$load] P99[$server/$load] < <(first_rtts | percentiles)
	[ "$STEP_OK" = 1 ] || P99[$server/$load]+=" (step not clean)"
	say "$server $load at $rate/s: p50 ${P50[$server/$load]} ms, p99 ${P99[$server/$load]} ms"
}

# cpu_measure SERVER LOAD: CPU per request over LOAD's fixed load
# (CPU_REGISTERS REGISTERs at CPU_REGISTER_RATE/s, CPU_CALLS calls at
# CPU_CALL_RATE/s) against a fresh server, after a checkpoint (so that no
# server pays for writing out the pages of the step before it): the CPU
# seconds of the server's processes and of PostgreSQL's, from sipp's
# start to its end, per request, in microseconds.  A request is a
# REGISTER, or a call (its INVITE, ACK and BYE).
cpu_measure() {
	local server=$1 load=$2 n=$CPU_REGISTERS rate=$CPU_REGISTER_RATE
	if is_call "$load"; then
		n=$CPU_CALLS rate=$CPU_CALL_RATE
	fi
	step_prepare "$server" "$load" "$n"
	psql_db postgres -c "CHECKPOINT"
	sleep 0.5   # the sessions just closed: gone before the count starts
	cpu_mark
	step_load "$load" "$rate" "$n"
	cpu_read
	callees_stop
	server_stop
	step_tally "$load" "$n"
	CPU_SERVER[$server/$load]=$(awk -v s="$CPU_SERVER_S" -v n="$n" \
		'BEGIN { printf "%.1f", s * 1e6 / n }')
	CPU_PG[$server/$load]=$(awk -v s="$CPU_PG_S" -v n="$n" \
		'BEGIN { printf "%.1f", s * 1e6 / n }')
	CPU_CLEAN[$server/$load]=$STEP_OK
	say "$server $load, $n at $rate/s: server ${CPU_SERVER[$server/$load]} µs," \
		"PostgreSQL ${CPU_PG[$server/$load]} µs per request" \
		"($CPU_SERVER_S s and $CPU_PG_S s; $([ "$STEP_OK" = 1 ] && echo clean ||
		echo "NOT clean: $STEP_RETRANS retransmissions, $STEP_FAILED failed"))"
}
