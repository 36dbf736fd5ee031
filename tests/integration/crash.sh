#!/usr/bin/env bash
# Crash test: during a REGISTER storm (sipp, 2,000 new devices a
# second for 5 s, each its own AOR and +sip.instance, Supported: gruu)
# locus gets kill -9 at a random moment while sipp still sends.  sipp logs
# every AOR it got a 200 OK for.  Then:
#  - the kill interrupted the storm: sipp was still running, and it
#    counted failed calls;
#  - locus starts again and loads every row of the database ("loaded N
#    binding(s)" equals psql's count);
#  - EVERY AOR sipp saw a 200 for is in locus.bindings, with its device
#    (a 200 is sent only after its commit).  More rows than 200s is
#    expected: commits whose 200 was lost with the process.
# The counts are printed.
. "$(dirname "$0")/lib.sh"

RATE=2000
SECONDS_OF_STORM=5
N=$((RATE * SECONDS_OF_STORM))
SIPP_PID=

# On exit: the storm's sipp too, if it still runs; then lib.sh's cleanup.
crash_exit() {
	local status=$1
	set +e
	if [ -n "$SIPP_PID" ]; then
		kill -KILL "$SIPP_PID" 2>/dev/null
		wait "$SIPP_PID" 2>/dev/null
	fi
	(exit "$status")
	cleanup
}
trap 'crash_exit $?' EXIT

new_db
start_locus

# field0 = user part (unique), field1 = instance
awk -v n=$N 'BEGIN {
	print "SEQUENTIAL"
	for (i = 0; i < n; i++)
		printf "crash%d;urn:uuid:c4a50000-0000-4000-8000-%012d\n", i, i
}' >"$WORK/devices.csv"

log "REGISTER storm: $N devices at $RATE/s"
port=$(free_port)
( cd "$WORK" && exec timeout 60 sipp -sf "$SIPP_DIR/crash_register.xml" \
	-i 127.0.0.1 -p "$port" -inf "$WORK/devices.csv" -m $N -r $RATE \
	-timeout 30s -nostdin -trace_logs -log_file "$WORK/storm.log" \
	-trace_err -error_file "$WORK/storm_errors.log" \
	-trace_stat -stf "$WORK/storm_stat.csv" -fd 1 \
	"127.0.0.1:$LOCUS_PORT" >"$WORK/storm.out" 2>&1 ) &
SIPP_PID=$!

# kill -9 at a random moment between 1.5 s and 2.5 s of the 5 s storm,
# once sipp has seen some 200s
delay=$((1500 + RANDOM % 1000))
sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
kill -0 "$SIPP_PID" 2>/dev/null || fail "sipp ended before the kill: $(tail -n 20 "$WORK/storm.out")"
locus_alive || fail "locus died during the storm before the kill"
ok_before=$(grep -c '^OK ' "$WORK/storm.log" 2>/dev/null || true)
[ "${ok_before:-0}" -gt 0 ] || fail "no 200 OK seen by sipp after $delay ms of storm"
log "kill -9 after $delay ms of storm (sipp had logged $ok_before 200s)"
stop_locus KILL
kill -0 "$SIPP_PID" 2>/dev/null || fail "sipp had ended by the time locus was killed"

# sipp goes on placing calls until the end of the storm; those after the
# kill fail after 2 s without a 200
status=0
wait "$SIPP_PID" || status=$?
SIPP_PID=
stat=$(awk -F';' '
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{ last = $0 }
	END {
		split(last, v, ";")
		print v[col["TotalCallCreated"]] + 0, v[col["SuccessfulCall(C)"]] + 0,
		      v[col["FailedCall(C)"]] + 0
	}' "$WORK/storm_stat.csv")
read -r created succeeded failed <<<"$stat"
log "sipp exited $status: $created calls placed, $succeeded successful, $failed failed"
[ "$status" = 1 ] ||
	fail "sipp exited $status, expected 1 (some calls failed): $(tail -n 20 "$WORK/storm.out")"
[ "$failed" -gt 0 ] || fail "sipp counted no failed call: the kill did not interrupt the storm"
[ "$created" -gt 0 ] && [ $((succeeded + failed)) = "$created" ] ||
	fail "sipp's counts do not add up: $stat"

grep '^OK ' "$WORK/storm.log" | awk '{ print $2 "@example.com", $3 }' | LC_ALL=C sort -u >"$WORK/ok.txt"
ok=$(wc -l <"$WORK/ok.txt")
[ "$ok" -gt 0 ] || fail "sipp logged no 200 OK"
[ "$(cut -d' ' -f1 "$WORK/ok.txt" | sort -u | wc -l)" = "$ok" ] ||
	fail "sipp logged one AOR with two instances"

log "locus starts again"
start_locus_again
rows=$(psql_q "SELECT count(*) FROM locus.bindings")
aors=$(psql_q "SELECT count(DISTINCT aor) FROM locus.bindings")
loaded=$(grep -E " loaded [0-9]+ binding\(s\) of [0-9]+ AOR\(s\)" "$WORK/locus.log" | tail -n 1)
[[ $loaded =~ loaded\ ([0-9]+)\ binding\(s\) ]] || fail "no 'loaded N binding(s)' line after the restart"
[ "${BASH_REMATCH[1]}" = "$rows" ] ||
	fail "locus loaded ${BASH_REMATCH[1]} binding(s) after the restart; psql counts $rows"

psql_q "SELECT aor || ' ' || instance FROM locus.bindings" | LC_ALL=C sort >"$WORK/db.txt"
missing=$(LC_ALL=C comm -23 "$WORK/ok.txt" "$WORK/db.txt" | wc -l)
log "200s seen by sipp: $ok; rows in the database: $rows ($aors AORs);" \
	"rows without a 200 seen: $((rows - ok)); 200s without a row: $missing"
if [ "$missing" -gt 0 ]; then
	LC_ALL=C comm -23 "$WORK/ok.txt" "$WORK/db.txt" | head -n 20 >&2
	fail "$missing AOR(s) got a 200 OK but are not in locus.bindings after the crash"
fi
[ "$rows" -ge "$ok" ] || fail "fewer rows ($rows) than 200s ($ok)"
[ "$rows" = "$aors" ] || fail "$rows rows for $aors AORs: some AOR has two bindings"
# every row is a device of the storm, with its own instance
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor ~ '^crash[0-9]+@example\.com\$'
	AND instance = 'urn:uuid:c4a50000-0000-4000-8000-' || lpad(substring(aor from '^crash([0-9]+)@'), 12, '0')")" = "$rows" ] ||
	fail "some row is not a storm device with its own instance"

# the restarted locus serves the storm's bindings from memory
sip_register "$WORK/q" "$(head -n 1 "$WORK/ok.txt" | cut -d' ' -f1)" "q-$$" 1 ||
	fail "no answer to a query REGISTER after the restart"
expect_status "$WORK/q" "200 OK" "query REGISTER after the restart"
sip_hdr "$WORK/q" Contact | grep -qF "$(head -n 1 "$WORK/ok.txt" | cut -d' ' -f2)" ||
	fail "the restarted locus does not list the first acknowledged device"
locus_alive || fail "locus died after the restart"
log "ok"
