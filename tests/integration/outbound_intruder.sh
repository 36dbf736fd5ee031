#!/usr/bin/env bash
# A connection becomes a device's flow (RFC 5626 §3.1, transport/flows.c) only
# once a REGISTER over it was authenticated, stored and answered 200, and
# only for that REGISTER's AOR.  Whoever gets hold of a device's old
# address and port (a NAT hands them on) must not receive its calls.
# Authentication is on; carol's device is tests/tools/flowdev.py with her
# credentials, the intruder the same registering mallory@example.com,
# without credentials or with mallory's own.
#  1. carol registers over TCP with reg-id from port P and is reached
#     there; her device goes (its connection closes): 480.  The intruder
#     connects from that same address and port and is challenged.  Still
#     480, and nothing reaches the intruder: a watched connection from P
#     would have made carol's binding a target again, her calls its.
#     locus logs no flow closing when the intruder's connection does.
#  2. mallory, a subscriber too, registers from P: she is reached there,
#     carol is not (480) - the flow is mallory's, not P's.
#  3. locus listens for TCP on a second port too.  The intruder connects
#     there from port Q and is challenged; then carol registers from Q
#     over the first port, and the intruder hangs up.  carol is still
#     reached: a watched connection from Q would have stood for her flow,
#     and its close made her binding no target although her connection
#     is open.  No flow closing is logged for the intruder's connection.
. "$(dirname "$0")/lib.sh"

new_db
AUTH_CONFIG='enabled = true;' write_config
SECOND_TCP=$(free_port)
sed -i "s|\(transport = \"tcp\"; address = \"127.0.0.1:$LOCUS_PORT\"; }\)|\1, { transport = \"tcp\"; address = \"127.0.0.1:$SECOND_TCP\"; }|" \
	"$WORK/locus.conf"
grep -q "127.0.0.1:$SECOND_TCP" "$WORK/locus.conf" || fail "second TCP listener not configured"
start_locus
psql_q "SELECT locus.add_subscriber('carol', 'example.com', 'secret')" >/dev/null
psql_q "SELECT locus.add_subscriber('mallory', 'example.com', 'evil')" >/dev/null

AOR=carol@example.com
INST=5c0ffee0-1d2c-4c4e-9f0e-0a1b2c3d4e5f
declare -A PIDS=()

# dev NAME PORT AOR [flowdev options...]: a flowdev device in $WORK/NAME,
# connected to locus's TCP port PORT, registered (or not); waits until it
# is ready, at most 5 s
dev() {
	local name=$1 port=$2 aor=$3; shift 3
	mkdir -p "$WORK/$name"
	python3 "$TOP/tests/tools/flowdev.py" 127.0.0.1 "$port" "$aor" "$INST" \
		"$WORK/$name" --reset "$@" 2>"$WORK/$name/stderr" &
	PIDS[$name]=$!
	for _ in $(seq 1 50); do
		[ -f "$WORK/$name/ready" ] && return 0
		kill -0 "${PIDS[$name]}" 2>/dev/null ||
			fail "$name exited: $(cat "$WORK/$name/stderr")"
		sleep 0.1
	done
	fail "$name: not ready within 5 s"
}
# dev_stop NAME: kills it (its connection ends with a RST) and waits
dev_stop() {
	[ -n "${PIDS[$1]:-}" ] || return 0
	kill "${PIDS[$1]}" 2>/dev/null || true
	wait "${PIDS[$1]}" 2>/dev/null || true
	PIDS[$1]=
}
# cleanup takes the test's status from $?: keep it across the stops
devs_exit() {
	local status=$1 name
	set +e
	for name in "${!PIDS[@]}"; do dev_stop "$name"; done
	(exit "$status")
	cleanup
}
trap 'devs_exit $?' EXIT

# barrier: a UDP round trip through locus's loop, after which it has
# seen every connection event that happened before
barrier() {
	sip_register "$WORK/q" nobody@example.com "barrier-$RANDOM" 1 || true
}

# invite [AOR]: an INVITE to AOR (default carol's) from outside our
# domains (not challenged); the final status line in $FINAL
invite() {
	local n=$((++INVITES)) to=${1:-$AOR}
	sip_send_text -n 1 -w 3000 >"$WORK/inv" <<SIP || true
INVITE sip:$to SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5997;branch=z9hG4bK-un-$n;rport
Max-Forwards: 70
From: <sip:bob@elsewhere.test>;tag=b$n
To: <sip:$to>
Call-ID: unauth-$n@test
CSeq: 1 INVITE
Contact: <sip:bob@127.0.0.1:5997>
Content-Length: 0

SIP
	FINAL=$(sed -n '/^SIP\/2\.0 [2-6][0-9][0-9] /{s/\r$//;p;q}' "$WORK/inv")
}
INVITES=0
invites_of() { cat "$WORK/$1/invites" 2>/dev/null | wc -l; }
flows_closed() { grep -c "flow: TCP connection of 127.0.0.1:$1 closed" "$WORK/locus.log" || true; }

log "1. carol from port P, gone; the intruder from P, challenged: no target"
P=$(free_port)
dev carol1 "$LOCUS_PORT" $AOR --local-port="$P" --auth=carol:secret
expect_status "$WORK/carol1/register.txt" "200 OK" "carol's REGISTER"
invite
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] || fail "INVITE to carol: '$FINAL', expected her 486"
dev_stop carol1
for _ in $(seq 1 50); do
	[ "$(flows_closed "$P")" = 1 ] && break
	sleep 0.1
done
[ "$(flows_closed "$P")" = 1 ] || fail "locus did not notice carol's connection close"
invite
[ "$FINAL" = "SIP/2.0 480 Temporarily Unavailable" ] ||
	fail "INVITE to carol, her flow closed: '$FINAL', expected 480"

dev intruder1 "$LOCUS_PORT" mallory@example.com --local-port="$P"
expect_status "$WORK/intruder1/register.txt" "401 Unauthorized" "the intruder's REGISTER"
invite
[ "$(invites_of intruder1)" = 0 ] ||
	fail "carol's call reached the unauthenticated connection from her old port"
[ "$FINAL" = "SIP/2.0 480 Temporarily Unavailable" ] ||
	fail "INVITE to carol after the intruder's REGISTER: '$FINAL', expected 480"
dev_stop intruder1
barrier
[ "$(flows_closed "$P")" = 1 ] ||
	fail "the unauthenticated connection was watched as a flow: its close was logged"

log "2. mallory registers from P with her own credentials: her flow, not carol's"
dev mallory "$LOCUS_PORT" mallory@example.com --local-port="$P" --auth=mallory:evil
expect_status "$WORK/mallory/register.txt" "200 OK" "mallory's REGISTER"
invite
[ "$(invites_of mallory)" = 0 ] ||
	fail "carol's call reached mallory's connection from carol's old port"
[ "$FINAL" = "SIP/2.0 480 Temporarily Unavailable" ] ||
	fail "INVITE to carol after mallory registered from P: '$FINAL', expected 480"
invite mallory@example.com
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to mallory: '$FINAL', expected her 486"
[ "$(invites_of mallory)" = 1 ] || fail "mallory's device saw $(invites_of mallory) INVITE(s), expected 1"
dev_stop mallory

log "3. the intruder from Q on the second port, carol from Q; the intruder hangs up"
Q=$(free_port)
dev intruder2 "$SECOND_TCP" mallory@example.com --local-port="$Q"
expect_status "$WORK/intruder2/register.txt" "401 Unauthorized" "the intruder's REGISTER"
dev carol2 "$LOCUS_PORT" $AOR --local-port="$Q" --auth=carol:secret
expect_status "$WORK/carol2/register.txt" "200 OK" "carol's REGISTER from Q"
dev_stop intruder2
barrier
invite
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to carol, connected from Q: '$FINAL', expected her 486"
[ "$(invites_of carol2)" = 1 ] || fail "carol's device saw $(invites_of carol2) INVITE(s), expected 1"
[ "$(flows_closed "$Q")" = 0 ] ||
	fail "the unauthenticated connection was watched as a flow: its close was logged"
dev_stop carol2
locus_alive || fail "locus died"
log ok
