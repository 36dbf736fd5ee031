#!/usr/bin/env bash
# A TCP device without outbound (no reg-id) listens where its Contact
# says (tests/tools/tcpdev.py) and registers over a connection of its own
# from an ephemeral port.
#  1. While that connection is open, an INVITE to its AOR arrives over it
#     (libre finds the connection by the device's address).
#  2. Once it is closed, the next INVITE arrives over a new connection
#     that locus opens to the Contact's listening port, not to the
#     ephemeral port the device had connected from.
#  3. A NATed device (private Contact, registered from loopback) is
#     reached where it registered from: once its connection is closed,
#     that fails, so the caller gets 480, and locus logs the failure once
#     for this registration, not once per INVITE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus

DEV_PIDS=()
reach_exit() {
	local status=$1 pid
	set +e
	for pid in "${DEV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	(exit "$status")
	proxy_cleanup
}
trap 'reach_exit $?' EXIT

# tcp_device DIR AOR [tcpdev options]: registers; waits for DIR/ready.
tcp_device() {
	local dir=$1 aor=$2
	shift 2
	mkdir -p "$dir"
	python3 "$TOP/tests/tools/tcpdev.py" 127.0.0.1 "$LOCUS_PORT" "$aor" \
		"$dir" "$@" 2>"$dir/stderr" &
	DEV_PIDS+=("$!")
	LAST_DEV=$!
	for _ in $(seq 1 50); do
		[ -f "$dir/ready" ] && break
		kill -0 "$LAST_DEV" 2>/dev/null ||
			fail "tcpdev exited: $(cat "$dir/stderr")"
		sleep 0.1
	done
	[ -f "$dir/ready" ] || fail "tcpdev: not registered within 5 s"
	expect_status "$dir/register.txt" "200 OK" "REGISTER of $aor over TCP"
}

# close_registered DIR PID: the device closes the connection it registered
# over; waits until locus has seen it go.
close_registered() {
	local before
	before=$(grep -c "flow: TCP connection of .* closed" "$WORK/locus.log" || true)
	kill -USR1 "$2"
	for _ in $(seq 1 50); do
		[ -f "$1/closed" ] &&
			[ "$(grep -c "flow: TCP connection of .* closed" "$WORK/locus.log" || true)" -gt "$before" ] &&
			return 0
		sleep 0.1
	done
	fail "the device's connection did not close (or locus did not notice)"
}

log "1. while its connection is open, an INVITE arrives over it"
tcp_device "$WORK/t" tina@example.com
T_PID=$LAST_DEV
[ "$(psql_q "SELECT nat FROM locus.bindings WHERE aor = 'tina@example.com'")" = f ] ||
	fail "a device registering from where its Via says is not NATed"
invite_final "sip:tina@example.com"
expect_final "486 Busy Here" "INVITE while the registering connection is open"
[ "$(cat "$WORK/t/invites")" = "registered INVITE sip:dev@127.0.0.1:$(cat "$WORK/t/listen");transport=tcp SIP/2.0" ] ||
	fail "the INVITE did not come over the registering connection: $(cat "$WORK/t/invites")"

log "2. connection closed: locus dials the Contact's listening port"
close_registered "$WORK/t" "$T_PID"
invite_final "sip:tina@example.com"
expect_final "486 Busy Here" "INVITE after the connection closed"
[ "$(sed -n 2p "$WORK/t/invites")" = "accepted INVITE sip:dev@127.0.0.1:$(cat "$WORK/t/listen");transport=tcp SIP/2.0" ] ||
	fail "the second INVITE did not arrive on a new connection to the Contact: $(cat "$WORK/t/invites")"

log "3. a NATed device whose connection closed: 480, logged once"
tcp_device "$WORK/n" nina@example.com --contact-host=192.168.1.20 \
	--via-host=192.168.1.20
N_PID=$LAST_DEV
[ "$(psql_q "SELECT nat FROM locus.bindings WHERE aor = 'nina@example.com'")" = t ] ||
	fail "a device with a private Contact and Via is not NATed"
invite_final "sip:nina@example.com"
expect_final "486 Busy Here" "INVITE to the NATed device over its connection"
close_registered "$WORK/n" "$N_PID"
invite_final "sip:nina@example.com"
expect_final "480 Temporarily Unavailable" "first INVITE after the NATed device's connection closed"
invite_final "sip:nina@example.com"
expect_final "480 Temporarily Unavailable" "second INVITE after the NATed device's connection closed"
n=$(grep -c "cannot reach the device registered as sip:dev@192.168.1.20" "$WORK/locus.log" || true)
[ "$n" = 1 ] || fail "the failure to reach the NATed device was logged $n times, expected once"
[ "$(wc -l <"$WORK/n/invites")" = 1 ] ||
	fail "the NATed device got $(wc -l <"$WORK/n/invites") INVITEs, expected 1"
log ok
