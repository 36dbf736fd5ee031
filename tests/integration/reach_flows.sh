#!/usr/bin/env bash
# Several flows of one instance (RFC 5626 §7): one device registers
#  - reg-id 2 over a TCP connection of its own (tests/tools/flowdev.py,
#    which answers an INVITE with 486);
#  - then reg-id 1 through an edge proxy whose flow to it has died: the
#    edge (tests/tools/rawuas.py, in the REGISTER's Path) answers 430
#    Flow Failed;
#  - then reg-id 3 through an edge that is gone: nothing listens on the
#    TCP port of its Path, so the connection fails.
# An INVITE to the AOR and one to the device's GRUU each try the most
# recently refreshed flow first and the next one only after the previous
# failed, within the same transaction: the caller gets the device's 486,
# never a 430, 480 or 500 of a dead flow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

BG_PIDS=()
flows_exit() {
	local status=$1 pid
	set +e
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	(exit "$status")
	proxy_cleanup
}
trap 'flows_exit $?' EXIT

AOR=fay@example.com
INST=urn:uuid:0c2f1a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b

new_db
start_locus

log "reg-id 2: a TCP flow of the device's own"
mkdir -p "$WORK/dev"
python3 "$TOP/tests/tools/flowdev.py" 127.0.0.1 "$LOCUS_PORT" "$AOR" \
	"${INST#urn:uuid:}" "$WORK/dev" --reg-id=2 2>"$WORK/dev/stderr" &
BG_PIDS+=("$!")
for _ in $(seq 1 50); do [ -f "$WORK/dev/ready" ] && break; sleep 0.1; done
[ -f "$WORK/dev/ready" ] || fail "flowdev: $(cat "$WORK/dev/stderr")"
expect_status "$WORK/dev/register.txt" "200 OK" "REGISTER of flow 2"
sip_hdr "$WORK/dev/register.txt" Flow-Timer | grep -qx 120 ||
	fail "no 'Flow-Timer: 120' in the 200 of a direct outbound TCP flow"

log "reg-id 1: through an edge whose flow to the device died (430)"
alloc_port EDGE_PORT
mkdir -p "$WORK/edge"
python3 "$TOP/tests/tools/rawuas.py" "$EDGE_PORT" "$WORK/edge" \
	2>"$WORK/edge/stderr" &
BG_PIDS+=("$!")
for _ in $(seq 1 50); do [ -f "$WORK/edge/ready" ] && break; sleep 0.1; done
[ -f "$WORK/edge/ready" ] || fail "edge: $(cat "$WORK/edge/stderr")"
# an edge's REGISTER: its Via on top of the device's, its Path with ;ob
edge_register() {
	sip_register "$WORK/reg_$1" "$AOR" "fay-flow-$1" 1 \
		"Via: SIP/2.0/TCP 192.0.2.50:40000;branch=z9hG4bKdev$1" \
		"Path: <$2>" \
		"Contact: <sip:dev@192.0.2.50:40000;transport=tcp;ob>;+sip.instance=\"<$INST>\";reg-id=$1" \
		"Supported: outbound, path, gruu" "Expires: 600"
	expect_status "$WORK/reg_$1" "200 OK" "REGISTER of flow $1 through an edge"
}
edge_register 1 "sip:127.0.0.1:$EDGE_PORT;lr;ob"
PUB=$(sip_hdr "$WORK/reg_1" Contact | sed -n 's/.*reg-id=1;pub-gruu="\([^"]*\)".*/\1/p')
[ -n "$PUB" ] || fail "no pub-gruu for flow 1: $(sip_hdr "$WORK/reg_1" Contact)"

log "reg-id 3: through an edge that is gone (its TCP port refuses)"
alloc_port DEAD_PORT
edge_register 3 "sip:127.0.0.1:$DEAD_PORT;transport=tcp;lr;ob"

# flow_invite RURI N: an INVITE to RURI while the edge answers 430; the
# device must get its N-th INVITE over its own flow, after locus heard
# the edge's 430.
flow_invite() {
	local mark
	mark=$(wc -l <"$WORK/locus.log")
	printf '%s\r\n' "SIP/2.0 430 Flow Failed" "@VIA@" "@FROM@" "@TO@" \
		"@CALLID@" "@CSEQ@" "Content-Length: 0" "" >"$WORK/edge/answer"
	invite_final "$1"
	expect_final "486 Busy Here" "INVITE to $1"
	! grep -qE '^SIP/2\.0 (430|480|500|503) ' "$INV_OUT" ||
		fail "the caller saw a dead flow's answer: $(grep -E '^SIP/2.0 ' "$INV_OUT" | tr -d '\r')"
	[ "$(wc -l <"$WORK/dev/invites")" = "$2" ] ||
		fail "the device's own flow got $(wc -l <"$WORK/dev/invites") INVITE(s), expected $2"
	[ -f "$WORK/edge/answer.used" ] && rm "$WORK/edge/answer.used" ||
		fail "the INVITE to $1 did not try the edge's flow"
	tail -n +"$((mark + 1))" "$WORK/locus.log" | grep -q \
		"flow of sip:dev@192.0.2.50:40000;transport=tcp;ob at sip:127.0.0.1:$DEAD_PORT;transport=tcp;lr;ob failed" ||
		fail "INVITE to $1: the dead edge's flow was not tried first"
	tail -n +"$((mark + 1))" "$WORK/locus.log" | awk '
		/^SIP\/2\.0 430 Flow Failed/ && !e { e = NR }
		/^INVITE sip:dev@127\.0\.0\.1:.*;transport=tcp;ob SIP\/2\.0/ && !f { f = NR }
		END { exit !(e && f && e < f) }' ||
		fail "INVITE to $1: the device's own flow was tried before the edge's 430"
}

log "an INVITE to the AOR: dead edge, then the 430 edge, then the device"
flow_invite "sip:$AOR" 1
log "an INVITE to the GRUU: the same, one flow at a time"
flow_invite "$PUB" 2
log ok
