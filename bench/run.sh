#!/usr/bin/env bash
# Benchmarks, locus and Kamailio side by side, in one run on this machine.
#
#   bench/run.sh [--quick] [--loads L,..] [--servers S,..] [--no-scale]
#
# Installs what it needs from Debian (sip-tester, kamailio,
# kamailio-postgres-modules, gnuplot), builds locus, starts one private
# PostgreSQL (fsync and synchronous_commit on) and runs each load against
# each server alternately (bench/loads.sh):
#   reg_new, reg_refresh   durable REGISTERs: locus commits before its
#                          200 OK; Kamailio runs usrloc db_mode=1
#   call_aor, call_gruu    INVITE-200-ACK-BYE-200 through the stateful,
#                          record-routing proxy to registered sipp callees
# finding the highest rate sustained for DURATION seconds (30; 10 with
# --quick) with no failed call and no retransmission, then the p50/p99
# response time at half that rate.  Then the scale figures
# (bench/scale.sh): memory per binding and start-up time with 100,000 and
# 1,000,000 bindings in PostgreSQL.  After each load's response times,
# its floor (bench/floor.sh): the same rate with no SIP server in the
# path.  --latency-only keeps the highest clean rates of the last run
# (bench/results/data) and measures the response times, and the floors,
# at half of them again.
# Results: bench/results/results.md and results.png (bench/report.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
. "$top/bench/loads.sh"
. "$top/bench/floor.sh"
. "$top/bench/scale.sh"
. "$top/bench/report.sh"

DURATION=30
LOADS=reg_new,reg_refresh,call_aor,call_gruu
SERVERS=locus,kamailio
SCALE=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) DURATION=10 ;;
	--loads) LOADS=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	--no-scale) SCALE=0 ;;
	--latency-only) LATENCY_ONLY=1 ;;
	*) echo "usage: bench/run.sh [--quick] [--loads L,..] [--servers S,..] [--no-scale] [--latency-only]" >&2
	   exit 2 ;;
	esac
	shift
done

bench_setup
for load in ${LOADS//,/ }; do
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
	fi
done
if [ $SCALE = 1 ]; then
	scale_run
	scale_save
fi
results_write
