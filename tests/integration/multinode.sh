#!/usr/bin/env bash
# Several nodes: two locus processes, A and B, on different
# loopback ports share one database and one GRUU key file.
#  - a device registered on A is routable through B (B forwards the
#    INVITE to it), and one registered on B through A;
#  - a temp-gruu issued by A (in A's 200 OK) routes through B to the
#    device, and so does its pub-gruu (and B's temp-gruu through A);
#  - a REGISTER refresh on B of a device first registered on A (same
#    Call-ID, higher CSeq) gets 200, A follows it, and A then refuses the
#    older CSeqs (500 Stale CSeq): the CSeq check holds across nodes;
#  - a DELETE of the binding in psql is seen by both: both list no
#    contact within 1 s and answer 480 to an INVITE for the AOR;
#  - expiry cleanup is done once: short bindings registered on both nodes
#    leave the database, and the "removed N expired binding(s)" lines of
#    both logs add up to exactly the number registered; no error or
#    warning in either log;
#  - B's writer connection cut: A, alone meanwhile, notifies nothing, and
#    what it commits then reaches B by the resync after B's reconnect.
# How long each node took to see the other's changes is logged (from the
# millisecond timestamps of both logs, and as seen by polling).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

# ---- node B ----------------------------------------------------------

B_PID=
B_CONF=$WORK/locus-b.conf
B_LOG=$WORK/locus-b.log

# stop_b: stops node B (TERM, at most 10 s, then KILL).
stop_b() {
	[ -n "$B_PID" ] || return 0
	process_stop "$B_PID"
	B_PID=
}

# On exit: node B goes first (and shows its log if the test failed), then
# lib_proxy.sh's cleanup, which sees the test's exit status.
mn_exit() {
	local status=$1
	set +e
	stop_b
	if [ "$status" -ne 0 ] && [ -f "$B_LOG" ]; then
		echo "---- last lines of locus-b.log (node B)"
		tail -n 40 "$B_LOG"
	fi
	(exit "$status")
	proxy_cleanup
}
trap 'mn_exit $?' EXIT

# start_b: node B from A's configuration with B's port; same database,
# same gruu.key_file.  Waits (at most 15 s) for its "ready".
start_b() {
	alloc_port B_PORT
	sed "s/127\.0\.0\.1:$A_PORT\"/127.0.0.1:$B_PORT\"/g" "$WORK/locus.conf" >"$B_CONF"
	[ "$(grep -c "127.0.0.1:$B_PORT\"" "$B_CONF")" = 2 ] ||
		fail "node B's configuration does not listen on its own port: $(cat "$B_CONF")"
	sed "s/127\.0\.0\.1:$B_PORT\"/127.0.0.1:$A_PORT\"/g" "$B_CONF" | cmp -s - "$WORK/locus.conf" ||
		fail "node B's configuration differs from A's beyond the port"
	"$BUILD/locus" -f "$B_CONF" >>"$B_LOG" 2>&1 &
	B_PID=$!
	wait_ready "$B_PID" "$B_LOG" "node B"
}

# on NODE: the helpers of lib.sh / lib_proxy.sh talk to NODE (A or B)
# from now on (they send to $LOCUS_PORT).
on() {
	case $1 in
	A) LOCUS_PORT=$A_PORT ;;
	B) LOCUS_PORT=$B_PORT ;;
	*) fail "on: no node $1" ;;
	esac
}

logfile() {   # logfile NODE
	if [ "$1" = A ]; then echo "$WORK/locus.log"; else echo "$B_LOG"; fi
}

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# ---- what a node's log says --------------------------------------------

# sent_after NODE LINE PORT REGEXP: how many messages NODE sent to
# 127.0.0.1:PORT after line LINE of its log whose first line matches
# REGEXP (its debug log shows every message).
sent_after() {
	tail -n +"$(($2 + 1))" "$(logfile "$1")" | awk -v to="-> 127.0.0.1:$3 " -v re="$4" '
		want { sub(/\r$/, ""); if ($0 ~ re) n++; want = 0 }
		/ debug sent / && index($0, to) { want = 1 }
		END { print n + 0 }'
}

lines() {     # lines NODE: the line count of NODE's log
	wc -l <"$(logfile "$1")"
}

# ms_of: the millisecond of the day of a log line's timestamp (stdin,
# one line: 2024-01-02T03:04:05.678Z ...).
ms_of() {
	awk '{ split(substr($1, 12, 12), t, /[:.]/)
	       print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}

# propagation FROM LINE_FROM TO LINE_TO PORT: milliseconds between the
# 200 OK that node FROM sent to 127.0.0.1:PORT (after line LINE_FROM of
# its log) and the first "sync: reloaded" of node TO after line LINE_TO;
# empty when either is missing.  Both logs have millisecond stamps of one
# clock; 0 or -1 happens: the NOTIFY of the commit may reach node TO
# before node FROM has sent its 200.
propagation() {
	local t_ok t_rl
	t_ok=$(tail -n +"$(($2 + 1))" "$(logfile "$1")" | awk -v to="-> 127.0.0.1:$5 " '
		want { if ($0 ~ /^SIP\/2\.0 200 /) { print hdr; exit } want = 0 }
		/ debug sent / && index($0, to) { want = 1; hdr = $0 }' | ms_of)
	t_rl=$(tail -n +"$(($4 + 1))" "$(logfile "$3")" | grep -m 1 " sync: reloaded " | ms_of)
	[ -n "$t_ok" ] && [ -n "$t_rl" ] && echo $((t_rl - t_ok))
}

# contacts NODE AOR: how many contacts NODE lists for AOR (a query
# REGISTER: no Contact, answered from its memory).
contacts() {
	on "$1"
	sip_register "$WORK/q" "$2" "q-$$-$RANDOM" 1 >/dev/null ||
		fail "node $1: no answer to a query REGISTER for $2"
	expect_status "$WORK/q" "200 OK" "node $1: query REGISTER for $2"
	sip_hdr "$WORK/q" Contact | grep -c . || true
}

# ---- the two nodes -----------------------------------------------------

MIN_EXPIRES=1   # for the short bindings of the expiry check
D_INST=urn:uuid:6a000000-0000-4000-8000-0000000000d1
E_INST=urn:uuid:6a000000-0000-4000-8000-0000000000e1
new_db
start_locus
A_PORT=$LOCUS_PORT
start_b
log "node A on 127.0.0.1:$A_PORT, node B on 127.0.0.1:$B_PORT, database $DB"

# ---- a device registered on A, routed through B --------------------------

log "device D registers on A; B routes to it"
on A
mark_a=$(lines A); mark_b=$(lines B)
device D alice@example.com "$D_INST"
t_seen=$(now_ms)
n=$(contacts B alice@example.com)
[ "$n" = 1 ] || {
	for _ in $(seq 1 100); do
		n=$(contacts B alice@example.com)
		[ "$n" = 1 ] && break
		[ $(($(now_ms) - t_seen)) -gt 1000 ] && break
		sleep 0.01
	done
}
[ "$n" = 1 ] || fail "node B lists $n contact(s) for alice 1 s after A's 200 OK, expected 1"
log "B listed D $(($(now_ms) - t_seen)) ms after the device's sipp ended;" \
	"B reloaded it $(propagation A "$mark_a" B "$mark_b" "${DEV_PORT[D]}") ms after A sent the 200 OK (log timestamps)"

mark_a=$(lines A); mark_b=$(lines B)
uas_reject D 486 "Busy Here" "X-Outcome: aor-via-B"
on B
invite_final "sip:alice@example.com"
expect_final "486 Busy Here" "INVITE to alice's AOR through node B"
uas_wait D
[ "$(sent_after B "$mark_b" "${DEV_PORT[D]}" '^INVITE ')" = 1 ] ||
	fail "node B did not forward the INVITE to D itself"
[ "$(sent_after A "$mark_a" "${DEV_PORT[D]}" '^INVITE ')" = 0 ] ||
	fail "node A sent D an INVITE that was given to node B"

# ---- GRUUs issued by A, used through B -----------------------------------

log "A's temp-gruu and pub-gruu route through B"
case ${DEV_TMP[D]} in sip:tgruu.*";gr"*) ;; *) fail "A's temp-gruu looks odd: ${DEV_TMP[D]}" ;; esac
for g in TMP PUB; do
	if [ $g = TMP ]; then uri=${DEV_TMP[D]}; else uri=${DEV_PUB[D]}; fi
	mark_b=$(lines B)
	uas_reject D 486 "Busy Here" "X-Outcome: $g-via-B"
	on B
	invite_final "$uri"
	expect_final "486 Busy Here" "INVITE to A's ${g,,}-gruu $uri through node B"
	uas_wait D
	[ "$(sent_after B "$mark_b" "${DEV_PORT[D]}" '^INVITE ')" = 1 ] ||
		fail "node B did not forward the INVITE to A's ${g,,}-gruu to D"
done

log "device E registers on B; A routes its temp-gruu"
on B
mark_a=$(lines A); mark_b=$(lines B)
device E bob@example.com "$E_INST"
t_seen=$(now_ms)
for _ in $(seq 1 100); do
	[ "$(contacts A bob@example.com)" = 1 ] && break
	[ $(($(now_ms) - t_seen)) -gt 1000 ] && fail "node A does not list E 1 s after B's 200 OK"
	sleep 0.01
done
log "A listed E $(($(now_ms) - t_seen)) ms after the device's sipp ended;" \
	"A reloaded it $(propagation B "$mark_b" A "$mark_a" "${DEV_PORT[E]}") ms after B sent the 200 OK (log timestamps)"
mark_a=$(lines A)
uas_reject E 486 "Busy Here" "X-Outcome: TMP-via-A"
on A
invite_final "${DEV_TMP[E]}"
expect_final "486 Busy Here" "INVITE to B's temp-gruu through node A"
uas_wait E
[ "$(sent_after A "$mark_a" "${DEV_PORT[E]}" '^INVITE ')" = 1 ] ||
	fail "node A did not forward the INVITE to B's temp-gruu to E"

# ---- a refresh on B of a device registered on A; CSeq across nodes -------

log "D refreshes on B (same Call-ID, CSeq 5, Expires 1800)"
[ "${DEV_CSEQ[D]}" = 2 ] || fail "D's next CSeq is ${DEV_CSEQ[D]}, expected 2"
DEV_CSEQ[D]=5
on B
mark_a=$(lines A); mark_b=$(lines B)
device_register D 1800
[ "$(psql_q "SELECT count(*), min(cseq), max(call_id), bool_and(expires < now() + interval '1801 s')
	FROM locus.location WHERE aor = 'alice@example.com'")" = "1|5|${DEV_CALLID[D]}|t" ] ||
	fail "after the refresh on B the database holds: $(psql_q "SELECT aor, cseq, call_id, expires FROM locus.location WHERE aor = 'alice@example.com'")"
t_seen=$(now_ms)
exp=
for _ in $(seq 1 100); do
	on A
	sip_register "$WORK/q" alice@example.com "q-$$-$RANDOM" 1 >/dev/null || true
	exp=$(contact_expires "$WORK/q" "<sip:dev@127.0.0.1:${DEV_PORT[D]}>")
	[ -n "$exp" ] && [ "$exp" -le 1800 ] && break
	[ $(($(now_ms) - t_seen)) -gt 1000 ] && break
	sleep 0.01
done
[ -n "$exp" ] && [ "$exp" -le 1800 ] ||
	fail "node A still shows expires=${exp:-none} for D 1 s after the refresh on B (expected <= 1800)"
log "A showed B's refresh $(($(now_ms) - t_seen)) ms after the device's sipp ended;" \
	"A reloaded it $(propagation B "$mark_b" A "$mark_a" "${DEV_PORT[D]}") ms after B sent the 200 OK (log timestamps)"

log "REGISTERs to A with older CSeqs of that Call-ID: 500 Stale CSeq"
on A
for cseq in 3 1; do
	sip_register "$WORK/r" alice@example.com "${DEV_CALLID[D]}" "$cseq" \
		"Supported: gruu" "Expires: 3600" \
		"Contact: <sip:dev@127.0.0.1:${DEV_PORT[D]}>;+sip.instance=\"<$D_INST>\";reg-id=1" ||
		fail "node A: no answer to the REGISTER with CSeq $cseq"
	expect_status "$WORK/r" "500 Stale CSeq: Out-of-Order REGISTER Not Applied" \
		"REGISTER to A with CSeq $cseq after B accepted CSeq 5"
done
[ "$(psql_q "SELECT cseq, expires < now() + interval '1801 s' FROM locus.location
	WHERE aor = 'alice@example.com'")" = "5|t" ] ||
	fail "a stale REGISTER changed the database: $(psql_q "SELECT cseq, expires FROM locus.location WHERE aor = 'alice@example.com'")"
log "D refreshes on A again (CSeq 6): 200"
on A
device_register D 3600

log "two nodes racing: the database keeps the newest CSeq of a Call-ID"
# Node B has just stored CSeq 8 of D's Call-ID, and A has not heard of it
# yet: simulated by writing it with notifications held back
# (locus.quiet), so that A's memory still says 6.  A accepts CSeq 7 by
# its memory; the database refuses it, and A answers 500 and reloads.
psql -h "$PG_DIR/run" -U locus -d "$DB" -qtAX -v ON_ERROR_STOP=1 \
	-c "SET locus.quiet = on" \
	-c "UPDATE locus.location SET cseq = 8 WHERE aor = 'alice@example.com'" >/dev/null
sip_register "$WORK/r" alice@example.com "${DEV_CALLID[D]}" 7 \
	"Contact: <sip:dev@127.0.0.1:${DEV_PORT[D]}>;+sip.instance=\"<${DEV_INST[D]}>\";reg-id=1" \
	"Expires: 900" || fail "node A: no answer to the racing REGISTER"
expect_status "$WORK/r" "500 Stale CSeq: Out-of-Order REGISTER Not Applied" \
	"REGISTER with CSeq 7 after another node stored 8"
[ "$(psql_q "SELECT cseq FROM locus.location WHERE aor = 'alice@example.com'")" = 8 ] ||
	fail "the racing REGISTER overwrote CSeq 8: $(psql_q "SELECT cseq FROM locus.location WHERE aor = 'alice@example.com'")"
DEV_CSEQ[D]=9
device_register D 3600

# ---- a psql change is seen by both -----------------------------------------

log "DELETE of D's binding in psql: both nodes follow within 1 s"
psql_q "DELETE FROM locus.bindings WHERE aor = 'alice@example.com'"
t0=$(now_ms)
ta='' tb=''
for _ in $(seq 1 200); do
	[ -n "$ta" ] || { [ "$(contacts A alice@example.com)" = 0 ] && ta=$(($(now_ms) - t0)); }
	[ -n "$tb" ] || { [ "$(contacts B alice@example.com)" = 0 ] && tb=$(($(now_ms) - t0)); }
	[ -n "$ta" ] && [ -n "$tb" ] && break
	[ $(($(now_ms) - t0)) -gt 1000 ] && break
	sleep 0.01
done
[ -n "$ta" ] || fail "node A still lists alice's binding 1 s after the DELETE in psql"
[ -n "$tb" ] || fail "node B still lists alice's binding 1 s after the DELETE in psql"
for node in A B; do
	on $node
	invite_final "sip:alice@example.com"
	expect_final "480 Temporarily Unavailable" "INVITE to alice through node $node after the DELETE"
done
log "A listed no contact after ${ta} ms, B after ${tb} ms; both answered 480 $(($(now_ms) - t0)) ms after the DELETE"

# ---- expiry cleanup: once, not fought over --------------------------------

log "short bindings on both nodes expire; the database is cleaned once"
mark_a=$(lines A); mark_b=$(lines B)
N=0
for node in A B; do
	on $node
	for i in 1 2 3; do
		hdrs=("Contact: <sip:x$i@127.0.0.1:5990>;expires=2")
		# the first AOR of each node has two bindings
		[ $i = 1 ] && hdrs+=("Contact: <sip:y$i@127.0.0.1:5991>;expires=2")
		sip_register "$WORK/r" "exp-$node$i@example.com" "exp-$node$i-$$" 1 "${hdrs[@]}" ||
			fail "node $node: no answer to the short REGISTER $i"
		expect_status "$WORK/r" "200 OK" "short REGISTER exp-$node$i to node $node"
		N=$((N + ${#hdrs[@]}))
	done
done
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor LIKE 'exp-%'")" = $N ] ||
	fail "expected $N short bindings in the database, found $(psql_q "SELECT count(*) FROM locus.location WHERE aor LIKE 'exp-%'")"
t0=$(now_ms)
for _ in $(seq 1 200); do
	[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor LIKE 'exp-%'")" = 0 ] && break
	[ $(($(now_ms) - t0)) -gt 20000 ] && break
	sleep 0.1
done
left=$(psql_q "SELECT count(*) FROM locus.location WHERE aor LIKE 'exp-%'")
[ "$left" = 0 ] || fail "$left of $N expired bindings still in the database 20 s after they were registered"
log "the database had none of the $N left $(($(now_ms) - t0)) ms after the last was registered (expires=2)"

# removed NODE: the sum of "removed N expired binding(s)" in NODE's log
# since the mark.
removed() {
	local mark=$mark_a
	[ "$1" = B ] && mark=$mark_b
	tail -n +"$((mark + 1))" "$(logfile "$1")" |
		sed -n 's/.* expiry: removed \([0-9]*\) expired binding(s) from the database$/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}
# the line is written once the result is back: give it a moment, then one
# more sweep interval (5 s) for a second removal that must not come
for _ in $(seq 1 30); do
	[ $(($(removed A) + $(removed B))) -ge $N ] && break
	sleep 0.1
done
sleep 6
ra=$(removed A) rb=$(removed B)
log "node A removed $ra, node B removed $rb; $N registered" \
	"($(tail -n +"$((mark_a + 1))" "$WORK/locus.log" | grep -c 'another node is cleaning up' || true)" \
	"+ $(tail -n +"$((mark_b + 1))" "$B_LOG" | grep -c 'another node is cleaning up' || true) skipped sweeps)"
[ $((ra + rb)) = $N ] ||
	fail "the nodes' logs say $((ra + rb)) expired binding(s) removed (A $ra, B $rb), expected $N"
for node in A B; do
	for i in 1 2 3; do
		[ "$(contacts $node "exp-A$i@example.com")" = 0 ] &&
			[ "$(contacts $node "exp-B$i@example.com")" = 0 ] ||
			fail "node $node still lists an expired binding of exp-*$i"
	done
done

# ---- both nodes healthy ------------------------------------------------------

kill -0 "$LOCUS_PID" 2>/dev/null || fail "node A died"
kill -0 "$B_PID" 2>/dev/null || fail "node B died"
for node in A B; do
	bad=$(grep -E '^[0-9T:.-]+Z (warn|error) ' "$(logfile $node)" || true)
	[ -z "$bad" ] || fail "node $node logged warnings or errors: $bad"
done

# ---- B's writer cut: A alone meanwhile -----------------------------------

# Each node's writer holds a share of the node lock; a node that finds
# none but its own notifies nothing.  While B's writer is away (it comes
# back after a second), A is alone: what it commits then is not notified,
# and reaches B by the resync that follows B's reconnect.
log "B's writer cut; A registers carol meanwhile; B learns it by its resync"
holders() {
	psql_q "SELECT count(*) FROM pg_locks
	         WHERE locktype = 'advisory' AND mode = 'ShareLock'
	           AND database = (SELECT oid FROM pg_database
	                            WHERE datname = current_database())"
}
[ "$(holders)" = 2 ] || fail "expected 2 writers holding the node lock, found $(holders)"
mark_b=$(lines B)
# B started second: its writer is the younger one
psql_q "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
          JOIN pg_stat_activity a USING (pid)
         WHERE l.locktype = 'advisory' AND l.mode = 'ShareLock'
           AND a.datname = current_database()
         ORDER BY a.backend_start DESC LIMIT 1" >/dev/null
for _ in $(seq 1 100); do
	[ "$(holders)" = 1 ] && break
	sleep 0.01
done
[ "$(holders)" = 1 ] || fail "B's writer still holds the node lock"
on A
sip_register "$WORK/r" carol@example.com "carol-$$" 1 \
	"Contact: <sip:carol@127.0.0.1:5993>" "Expires: 600" ||
	fail "node A: no answer to carol's REGISTER"
expect_status "$WORK/r" "200 OK" "carol's REGISTER to A while B's writer is away"
[ "$(holders)" = 1 ] || fail "B's writer came back too soon for the check"
on B
until_contact carol@example.com "sip:carol@127.0.0.1:5993" 10 ||
	fail "node B does not list carol 10 s after A's 200 OK"
tail -n +"$((mark_b + 1))" "$B_LOG" | grep -q "sync: resync done" ||
	fail "node B learnt of carol without a resync"
[ "$(holders)" = 2 ] || fail "B's writer did not take its share again"
kill -0 "$B_PID" 2>/dev/null || fail "node B died"
log "ok"
