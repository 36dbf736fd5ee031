#!/usr/bin/env bash
# Durability: 1,000 devices (user0..user999@example.com, each with its own
# +sip.instance, Supported: gruu) register through sipp; locus is killed
# with SIGKILL and started again on the same database; it loads all 1,000
# bindings, psql counts 1,000, and a query REGISTER for every AOR lists
# that AOR's device and only it.
. "$(dirname "$0")/lib.sh"

N=1000
new_db
start_locus

# field0 = user part, field1 = instance (the user's number in its last
# group, so that every device differs)
{
	echo SEQUENTIAL
	for i in $(seq 0 $((N - 1))); do
		printf 'user%d;urn:uuid:5eed0000-0000-4000-8000-%012d\n' "$i" "$i"
	done
} >"$WORK/devices.csv"

log "registering $N devices"
sipp_run restart_register.xml -inf "$WORK/devices.csv" -m $N -r 200 -l 200 \
	-trace_logs -log_file "$WORK/register.log" || fail "registration run failed"
ok=$(grep -c '^REGISTERED user' "$WORK/register.log" || true)
[ "$ok" = $N ] || fail "$ok of $N REGISTERs got a 200 with their pub-gruu"
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = $N ] ||
	fail "psql: $(psql_q "SELECT count(*) FROM locus.bindings") bindings before the kill, expected $N"

log "kill -9 and restart"
stop_locus KILL
start_locus_again
grep -q "loaded $N binding(s) of $N AOR(s)" "$WORK/locus.log" ||
	fail "the restart did not report 'loaded $N binding(s) of $N AOR(s)': $(grep loaded "$WORK/locus.log")"
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = $N ] ||
	fail "psql: $(psql_q "SELECT count(*) FROM locus.bindings") bindings after the restart, expected $N"

log "querying all $N AORs"
sipp_run restart_query.xml -inf "$WORK/devices.csv" -m $N -r 200 -l 200 \
	-trace_logs -log_file "$WORK/query.log" || fail "query run failed"
found=$(grep -c '^FOUND user' "$WORK/query.log" || true)
[ "$found" = $N ] || fail "$found of $N queries listed their device"
[ "$(grep '^FOUND user' "$WORK/query.log" | awk '{print $2}' | sort -u | wc -l)" = $N ] ||
	fail "the queries did not cover $N distinct AORs"

locus_alive || fail "locus died"
log "ok"
