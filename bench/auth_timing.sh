#!/usr/bin/env bash
# Does a wrong password take as long to refuse as an unknown user?  (An
# attacker timing the answers could otherwise tell who exists.)  Runs
# locus with digest auth (MD5) on a private
# PostgreSQL and sends N REGISTERs (default 2000, one at a time) with a
# wrong password for an existing user, then as many for a user that does
# not exist, twice over; prints the response times (from the credentials
# to the 401) of each run (bench/auth_timing.py).
#
#   bench/auth_timing.sh [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-2000}
STATE=$(mktemp -d /tmp/locus-authtime.XXXXXX)
PG=$STATE/pg
LOCUS_PID=
finish() {
	[ -n "$LOCUS_PID" ] && kill "$LOCUS_PID" 2>/dev/null && wait "$LOCUS_PID" || true
	"$top/scripts/pg.sh" stop "$PG" >/dev/null 2>&1 || true
	rm -rf "$STATE"
}
trap finish EXIT

"$top/scripts/deps.sh"
cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$top/build-bench" -j "$(nproc)" --target locus >/dev/null
"$top/scripts/pg.sh" init "$PG" >/dev/null
"$top/scripts/pg.sh" start "$PG" >/dev/null
PGOPTIONS="-c client_min_messages=warning" "$top/scripts/pg.sh" schema "$PG" locus >/dev/null
psql -h "$PG/run" -U locus -d locus -qtAX \
	-c "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"

cat >"$STATE/locus.conf" <<CONF
domains  = [ "example.com" ];
listen   = ( { transport = "udp"; address = "127.0.0.1:25160"; } );
database = { conninfo = "host=$PG/run dbname=locus user=locus"; };
gruu     = { key_file = "$STATE/gruu.key"; };
auth     = { algorithms = [ "MD5" ]; fail_limit = 1000000; };
log      = { level = "warn"; };
CONF
"$top/build-bench/locus" -f "$STATE/locus.conf" >"$STATE/locus.log" 2>&1 &
LOCUS_PID=$!
sleep 1

# alternately, so that both see the same machine
for round in 1 2; do
	for user in alice mallory; do
		python3 "$top/bench/auth_timing.py" 25160 "$user" "$N"
	done
done
