#!/usr/bin/env bash
# Benchmarks, locus and Kamailio side by side, in one run on this machine.
#
#   bench/run.sh [--quick] [--loads reg_new,reg_refresh] [--servers locus,kamailio]
#
# Installs what it needs from Debian (sip-tester, kamailio,
# kamailio-postgres-modules, gnuplot), builds locus, starts one private
# PostgreSQL (fsync and synchronous_commit on), and for each load and each
# server finds the highest rate sustained for DURATION seconds (30; 10 with
# --quick) with no failed call and no retransmission: doubling from 1000/s,
# then bisecting.  Both servers write through to the same PostgreSQL
# server: locus commits before its 200 OK; Kamailio runs usrloc with
# db_mode=1 (write-through).  Results: bench/results/register.md and .png.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"

DURATION=30
LOADS=reg_new,reg_refresh
SERVERS=locus,kamailio
while [ $# -gt 0 ]; do
	case $1 in
	--quick) DURATION=10 ;;
	--loads) LOADS=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	*) echo "usage: bench/run.sh [--quick] [--loads L,..] [--servers S,..]" >&2
	   exit 2 ;;
	esac
	shift
done

bench_setup
for load in ${LOADS//,/ }; do
	for server in ${SERVERS//,/ }; do
		find_max "$server" "$load"
	done
done
results_write
