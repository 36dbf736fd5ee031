#!/usr/bin/env bash
# RFC 5626 outbound basics.
#  1. UDP: a REGISTER with +sip.instance, reg-id and Supported: outbound
#     gets Require: outbound in its 200 OK; without Supported: outbound
#     it does not (§6); behind a proxy that is no ;ob edge: 439.
#  2. TCP: a device (tests/tools/flowdev.py) registers the same way over
#     one connection: Require: outbound and Flow-Timer: 120 (§6, only over
#     a connection); its CRLF ping is answered with a
#     single CRLF (§3.5.1); an INVITE to its GRUU and one to its AOR reach
#     it over that connection (it answers 486, which comes back to us).
#  3. The device's connection closes: its GRUU and its AOR answer 480,
#     although the binding has not expired (the row is still there), and
#     locus does not dial the device's old address: a listener that took
#     that port over receives nothing (§5.3, flows are never re-dialled).
#  4. It registers again over a new connection: reachable again.
. "$(dirname "$0")/lib.sh"

new_db
write_config
start_locus

AOR=carol@example.com
INST=7b1e2a40-5d2c-4c4e-9f0e-0a1b2c3d4e5f
GRUU="sip:$AOR;gr=urn:uuid:$INST"

log "1. UDP: Require: outbound only when the UA supports it"
sip_register "$WORK/r1" dave@example.com c-ob1 1 \
	"Contact: <sip:dave@127.0.0.1:5999;ob>;+sip.instance=\"<urn:uuid:$INST>\";reg-id=1" \
	"Supported: outbound, gruu"
expect_status "$WORK/r1" "200 OK" "UDP outbound REGISTER"
sip_hdr "$WORK/r1" Require | grep -qx outbound ||
	fail "UDP: no 'Require: outbound' in $(cat "$WORK/r1")"
# RFC 5626 §6: Flow-Timer only for a connection (reach_flows.sh checks it)
[ -z "$(sip_hdr "$WORK/r1" Flow-Timer)" ] ||
	fail "UDP: Flow-Timer in $(cat "$WORK/r1")"
sip_register "$WORK/r2" erin@example.com c-ob2 1 \
	"Contact: <sip:erin@127.0.0.1:5998>;+sip.instance=\"<urn:uuid:$INST>\";reg-id=1"
expect_status "$WORK/r2" "200 OK" "reg-id without Supported: outbound"
[ -z "$(sip_hdr "$WORK/r2" Require)" ] ||
	fail "Require: $(sip_hdr "$WORK/r2" Require) for a UA without outbound"
sip_register "$WORK/r3" erin@example.com c-ob3 1 \
	"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKedge" \
	"Contact: <sip:erin@127.0.0.1:5998>;+sip.instance=\"<urn:uuid:$INST>\";reg-id=1" \
	"Supported: outbound"
expect_status "$WORK/r3" "439 First Hop Lacks Outbound Support" \
	"outbound REGISTER through a proxy without ;ob"

# INVITE to URI from a UDP caller; the final status line in $WORK/inv.
invite() {
	local n=$((++INVITES))
	sip_send_text -n 3 -w 3000 >"$WORK/inv" <<SIP || true
INVITE $1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5997;branch=z9hG4bK-ob-$n;rport
Max-Forwards: 70
From: <sip:bob@example.com>;tag=b$n
To: <$1>
Call-ID: ob-$n@test
CSeq: 1 INVITE
Contact: <sip:bob@127.0.0.1:5997>
Content-Length: 0

SIP
	FINAL=$(sed -n '/^SIP\/2\.0 [2-6][0-9][0-9] /{s/\r$//;p;q}' "$WORK/inv")
}
INVITES=0

# device_start DIR: flowdev.py registers over TCP; waits for DIR/ready.
device_start() {
	mkdir -p "$1"
	python3 "$TOP/tests/tools/flowdev.py" 127.0.0.1 "$LOCUS_PORT" "$AOR" \
		"$INST" "$1" 2>"$1/stderr" &
	DEVICE_PID=$!
	for _ in $(seq 1 50); do
		[ -f "$1/ready" ] && return 0
		kill -0 "$DEVICE_PID" 2>/dev/null ||
			fail "flowdev exited: $(cat "$1/stderr")"
		sleep 0.1
	done
	fail "flowdev: not registered within 5 s"
}
device_stop() {
	kill "$DEVICE_PID" 2>/dev/null || true
	wait "$DEVICE_PID" 2>/dev/null || true
	DEVICE_PID=
}
impostor_stop() {
	kill "$IMPOSTOR_PID" 2>/dev/null || true
	wait "$IMPOSTOR_PID" 2>/dev/null || true
	IMPOSTOR_PID=
}
# cleanup takes the test's status from $?: keep it across the stops
outbound_exit() {
	local status=$1
	set +e
	device_stop
	impostor_stop
	(exit "$status")
	cleanup
}
DEVICE_PID= IMPOSTOR_PID=
trap 'outbound_exit $?' EXIT

log "2. TCP device: Require: outbound, CRLF keep-alive, reached over its flow"
device_start "$WORK/d1"
expect_status "$WORK/d1/register.txt" "200 OK" "TCP outbound REGISTER"
sip_hdr "$WORK/d1/register.txt" Require | grep -qx outbound ||
	fail "TCP: no 'Require: outbound' in $(cat "$WORK/d1/register.txt")"
sip_hdr "$WORK/d1/register.txt" Flow-Timer | grep -qx 120 ||
	fail "TCP: no 'Flow-Timer: 120' in $(cat "$WORK/d1/register.txt")"
[ "$(cat "$WORK/d1/pong")" = 0d0a ] ||
	fail "CRLF ping answered with '$(cat "$WORK/d1/pong")' (hex), not CRLF"
invite "$GRUU"
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to the GRUU: '$FINAL', expected the device's 486"
invite "sip:$AOR"
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to the AOR: '$FINAL', expected the device's 486"
[ "$(wc -l <"$WORK/d1/invites")" = 2 ] ||
	fail "the device saw $(wc -l <"$WORK/d1/invites") INVITE(s), expected 2"

log "3. its connection closes: 480 although the binding is still there"
device_stop
for _ in $(seq 1 50); do
	grep -q "flow: TCP connection of .* closed" "$WORK/locus.log" && break
	sleep 0.1
done
grep -q "flow: TCP connection of .* closed" "$WORK/locus.log" ||
	fail "locus did not notice the closed connection"
mkdir -p "$WORK/imp"
python3 "$TOP/tests/tools/flowdev.py" --impostor "$(cat "$WORK/d1/port")" \
	"$WORK/imp" 2>"$WORK/imp/stderr" &
IMPOSTOR_PID=$!
for _ in $(seq 1 50); do [ -f "$WORK/imp/ready" ] && break; sleep 0.1; done
[ -f "$WORK/imp/ready" ] || fail "impostor: $(cat "$WORK/imp/stderr")"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$AOR'")" = 1 ] ||
	fail "the binding should still be stored"
invite "$GRUU"
[ "$FINAL" = "SIP/2.0 480 Temporarily Unavailable" ] ||
	fail "INVITE to the GRUU of a closed flow: '$FINAL', expected 480"
invite "sip:$AOR"
[ "$FINAL" = "SIP/2.0 480 Temporarily Unavailable" ] ||
	fail "INVITE to the AOR of a closed flow: '$FINAL', expected 480"
[ ! -s "$WORK/imp/impostor" ] ||
	fail "locus re-dialled the closed flow: $(head -n 1 "$WORK/imp/impostor")"
impostor_stop

log "4. registered again over a new connection: reachable again"
device_start "$WORK/d2"
expect_status "$WORK/d2/register.txt" "200 OK" "second TCP REGISTER"
invite "$GRUU"
[ "$FINAL" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to the GRUU after re-registering: '$FINAL'"
[ "$(wc -l <"$WORK/d2/invites")" = 1 ] || fail "new flow: no INVITE"
log ok
