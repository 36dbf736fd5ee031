#!/usr/bin/env bash
# Click-to-call with two locus nodes, A and B, on one database: each call
# ordered with locus.originate() is taken by exactly one node (FOR UPDATE
# SKIP LOCKED), whose name its row shows.  Twenty calls are ordered in one
# statement, so that both nodes wake to the same NOTIFY and race for
# them; their callers are not registered, so each call ends at once with
# the proxy's answer.  Then a call to registered phones is connected by
# whichever node takes it, and locus.hangup() reaches that node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
. "$(dirname "$0")/lib_ua.sh"

B_PID=
B_LOG=$WORK/locus-b.log

mn_exit() {
	local status=$1
	set +e
	[ -z "$B_PID" ] || process_stop "$B_PID"
	if [ "$status" -ne 0 ] && [ -f "$B_LOG" ]; then
		echo "---- last lines of locus-b.log (node B)"
		tail -n 40 "$B_LOG"
	fi
	(exit "$status")
	proxy_cleanup
}
trap 'mn_exit $?' EXIT

new_db
write_config
start_locus
A_PORT=$LOCUS_PORT
alloc_port B_PORT
sed "s/127\.0\.0\.1:$A_PORT\"/127.0.0.1:$B_PORT\"/g" "$WORK/locus.conf" >"$WORK/locus-b.conf"
"$BUILD/locus" -f "$WORK/locus-b.conf" >>"$B_LOG" 2>&1 &
B_PID=$!
wait_ready "$B_PID" "$B_LOG" "node B"

log "twenty calls, ordered at once"
psql_q "SELECT locus.originate('nobody' || n || '@example.com', 'sip:bob@example.com') FROM generate_series(1, 20) AS n" >/dev/null
for _ in $(seq 1 100); do
	[ "$(psql_q "SELECT count(*) FROM locus.calls WHERE state = 'ended'")" = 20 ] && break
	sleep 0.05
done
[ "$(psql_q "SELECT count(*) FROM locus.calls WHERE state = 'ended'")" = 20 ] ||
	fail "not every call ended: $(psql_q 'TABLE locus.calls')"
for id in $(psql_q "SELECT id FROM locus.calls ORDER BY id"); do
	na=$(grep -c "ua: call $id taken:" "$WORK/locus.log" || true)
	nb=$(grep -c "ua: call $id taken:" "$B_LOG" || true)
	node=$(psql_q "SELECT node FROM locus.calls WHERE id = $id")
	case "$na$nb:$node" in
	"10:127.0.0.1:$A_PORT" | "01:127.0.0.1:$B_PORT") ;;
	*) fail "call $id: taken $na time(s) by A, $nb by B; its row says node '$node'" ;;
	esac
	case $(call_cause "$id") in
	"404 Not Found (caller)") ;;
	*) fail "call $id: cause '$(call_cause "$id")'" ;;
	esac
done
log "taken by A: $(psql_q "SELECT count(*) FROM locus.calls WHERE node = '127.0.0.1:$A_PORT'"), by B: $(psql_q "SELECT count(*) FROM locus.calls WHERE node = '127.0.0.1:$B_PORT'")"

log "a connected call, hung up from psql"
device alice alice@example.com urn:uuid:00000000-0000-4000-8000-00000000000a
device bob bob@example.com urn:uuid:00000000-0000-4000-8000-00000000000b
uas alice u_caller.xml
uas bob u_callee.xml
originate "'alice@example.com', 'sip:bob@example.com'"
call_wait "$CALL" connected
psql_q "SELECT locus.hangup($CALL)" >/dev/null
uas_wait alice
uas_wait bob
call_wait "$CALL" ended
grep -E ' (warn|error) ' "$WORK/locus.log" "$B_LOG" && fail "warnings or errors in a log"
log "ok"
