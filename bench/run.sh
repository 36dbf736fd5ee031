#!/usr/bin/env bash
# Benchmarks, locus and Kamailio side by side, in one run on this machine.
#
#   bench/run.sh [--quick] [--loads L,..] [--servers S,..] [--no-scale]
#   bench/run.sh --cpu-only [--cpu-runs N] [--loads L,..]
#
# Installs what it needs from Debian (sip-tester, kamailio,
# kamailio-postgres-modules, gnuplot), builds locus, starts one private
# PostgreSQL (fsync and synchronous_commit on) and runs each load against
# each server alternately (bench/loads.sh):
#   reg_new, reg_refresh   durable REGISTERs: locus commits before its
#                          200 OK; Kamailio runs usrloc db_mode=1
#   call_aor, call_gruu    INVITE-200-ACK-BYE-200 through the stateful,
#                          record-routing proxy to registered sipp callees
#   call_hot               the same to one callee, no pause before the BYE
# finding the highest rate sustained for DURATION seconds (30; 10 with
# --quick) with no failed call and no retransmission, then the p50/p99
# response time at half that rate.  Then the scale figures
# (bench/scale.sh): memory per binding and start-up time with 100,000 and
# 1,000,000 bindings in PostgreSQL.  After each load's response times,
# its floor (bench/floor.sh): the same rate with no SIP server in the
# path.  --latency-only keeps the highest clean rates of the last run
# (bench/results/data) and measures the response times, and the floors,
# at half of them again.  Last, each load's CPU per request
# (cpu_measure in bench/loads.sh): a fixed load (20,000 REGISTERs at
# 2,000/s, 10,000 calls at 1,000/s) against each server alternately, the
# CPU seconds of the server's processes and of PostgreSQL's divided by the
# requests; --cpu-only measures that alone (a few minutes), --cpu-runs N
# N times over.
# Results: bench/results/results.md and results.png (bench/report.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
. "$top/bench/loads.sh"
. "$top/bench/floor.sh"
. "$top/bench/scale.sh"
. "$top/bench/report.sh"

DURATION=30
LOADS=reg_new,reg_refresh,call_aor,call_gruu,call_hot
SERVERS=locus,kamailio
SCALE=1
CPU_RUNS=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) DURATION=10 ;;
	--loads) LOADS=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	--no-scale) SCALE=0 ;;
	--latency-only) LATENCY_ONLY=1 ;;
	--cpu-only) CPU_ONLY=1; SCALE=0 ;;
	--cpu-runs) CPU_RUNS=$2; shift ;;
	*) echo "usage: bench/run.sh [--quick] [--loads L,..] [--servers S,..] [--no-scale] [--latency-only]" >&2
	   echo "       bench/run.sh --cpu-only [--cpu-runs N] [--loads L,..] [--servers S,..]" >&2
	   exit 2 ;;
	esac
	shift
done

# cpu_run LOAD: its CPU per request, each server in turn, CPU_RUNS times
cpu_run() {
	local rows=
	for r in $(seq 1 "$CPU_RUNS"); do
		for server in ${SERVERS//,/ }; do
			cpu_measure "$server" "$1"
		done
		rows+=$(cpu_row "$1" "$r")$'\n'
	done
	cpu_save "$1" "$rows"
}

bench_setup
for load in ${LOADS//,/ }; do
	if [ -n "${CPU_ONLY:-}" ]; then
		cpu_run "$load"
		continue
	fi
	if [ -n "${LATENCY_ONLY:-}" ]; then
		load_saved_max "$load"
	else
		for server in ${SERVERS//,/ }; do
			find_max "$server" "$load"
		done
	fi
	for server in ${SERVERS//,/ }; do
		measure_latency "$server" "$load"
	done
	floor_measure "$load"
	floor_save "$load"
	if [ -n "${LATENCY_ONLY:-}" ]; then
		latency_save "$load"
	else
		load_save "$load"
		cpu_run "$load"
	fi
done
if [ $SCALE = 1 ]; then
	scale_run
	scale_save
fi
results_write
