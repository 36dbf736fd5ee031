#!/usr/bin/env bash
# locus as an edge proxy (RFC 5626 §5) in front of another locus, the
# registrar: node E has proxy.edge_registrar naming node R.
#  1. A REGISTER without "Supported: path" gets 421 from E (RFC 3327 §5.2).
#  2. An outbound device (tests/tools/flowdev.py) registers over TCP
#     through E: R stores a Path whose URI names E with a flow token in
#     its user part and ";ob"; the device gets R's 200 through E.
#  3. An INVITE to the AOR at R goes to E with that Route and E sends it
#     down the device's connection (the device answers 486); one sent to
#     E itself goes on to R first (what devices start goes to R).
#  4. A token tampered with: 403 from E.
#  5. The device's connection closes: E answers 430 Flow Failed to a
#     request with its token, and R, whose only flow of the device that
#     was, answers the caller 480.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

E_PID= DEV_PID=
E_CONF=$WORK/locus-e.conf
E_LOG=$WORK/locus-e.log
edge_exit() {
	local status=$1
	set +e
	[ -n "$DEV_PID" ] && kill "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null
	[ -n "$E_PID" ] && process_stop "$E_PID"
	if [ "$status" -ne 0 ] && [ -f "$E_LOG" ]; then
		echo "---- last lines of locus-e.log (the edge)"
		tail -n 60 "$E_LOG"
	fi
	(exit "$status")
	proxy_cleanup
}
trap 'edge_exit $?' EXIT

AOR=eve@example.com
INST=5d1c9a2e-7b3f-4a6d-9e8c-1f2a3b4c5d6e

new_db
start_locus
R_PORT=$LOCUS_PORT

alloc_port E_PORT
sed -e "s/127\.0\.0\.1:$R_PORT\"/127.0.0.1:$E_PORT\"/g" \
	-e "s|^proxy .*|proxy     = { relay = false; edge_registrar = \"sip:127.0.0.1:$R_PORT;transport=tcp\"; };|" \
	"$WORK/locus.conf" >"$E_CONF"
grep -q "edge_registrar" "$E_CONF" || fail "edge configuration not written"
"$BUILD/locus" -f "$E_CONF" >>"$E_LOG" 2>&1 &
E_PID=$!
wait_ready "$E_PID" "$E_LOG" "locus E (the edge)"

log "1. no Supported: path: 421 from the edge"
LOCUS_PORT=$E_PORT sip_register "$WORK/r421" "$AOR" e-421 1 \
	"Contact: <sip:eve@127.0.0.1:5999>"
expect_status "$WORK/r421" "421 Extension Required" "REGISTER without path support"
sip_hdr "$WORK/r421" Require | grep -qx path || fail "421 without 'Require: path'"

log "2. an outbound device registers over TCP through the edge"
mkdir -p "$WORK/dev"
python3 "$TOP/tests/tools/flowdev.py" 127.0.0.1 "$E_PORT" "$AOR" "$INST" \
	"$WORK/dev" 2>"$WORK/dev/stderr" &
DEV_PID=$!
for _ in $(seq 1 50); do [ -f "$WORK/dev/ready" ] && break; sleep 0.1; done
[ -f "$WORK/dev/ready" ] || fail "flowdev: $(cat "$WORK/dev/stderr")"
expect_status "$WORK/dev/register.txt" "200 OK" "REGISTER through the edge"
sip_hdr "$WORK/dev/register.txt" Require | grep -qx outbound ||
	fail "no 'Require: outbound' from the registrar behind the edge"
PATH_URI=$(psql_q "SELECT path[1] FROM locus.bindings WHERE aor = '$AOR'")
TOKEN=$(sed -n "s/^<sip:\([A-Za-z0-9_-]\{43\}\)@127\.0\.0\.1:$E_PORT;transport=tcp;lr;ob>$/\1/p" <<<"$PATH_URI")
[ -n "$TOKEN" ] || fail "the stored Path is not the edge's with a flow token: '$PATH_URI'"

log "3. an INVITE to the AOR at the registrar reaches the device via the edge"
invite_final "sip:$AOR"
expect_final "486 Busy Here" "INVITE to the AOR through the edge"
[ "$(wc -l <"$WORK/dev/invites")" = 1 ] || fail "the device got no INVITE over its flow"

log "3b. an INVITE sent to the edge goes to the registrar, and back down the flow"
mark=$(wc -l <"$WORK/locus.log")
LOCUS_PORT=$E_PORT invite_final "sip:$AOR"
expect_final "486 Busy Here" "INVITE to the AOR sent to the edge"
[ "$(wc -l <"$WORK/dev/invites")" = 2 ] || fail "the device got no second INVITE"
tail -n +"$((mark + 1))" "$WORK/locus.log" | awk -v aor="$AOR" '
	/ debug received TCP / { tcp = 1; next }
	tcp && $0 == "INVITE sip:" aor " SIP/2.0\r" { found = 1 }
	{ tcp = 0 }
	END { exit !found }' ||
	fail "the registrar did not get the INVITE from the edge (over TCP)"

# to_edge TOKEN: an INVITE straight to the edge with that token in Route
to_edge() {
	LOCUS_PORT=$E_PORT invite_final "sip:dev@192.0.2.9;ob" \
		"Route: <sip:$1@127.0.0.1:$E_PORT;transport=tcp;lr;ob>"
}

log "4. a token tampered with: 403"
if [ "${TOKEN:9:1}" = A ]; then BAD=${TOKEN:0:9}B${TOKEN:10}; else BAD=${TOKEN:0:9}A${TOKEN:10}; fi
to_edge "$BAD"
expect_final "403 Forbidden: Invalid Flow Token" "INVITE with a tampered token"

log "5. the flow is gone: 430 from the edge, 480 from the registrar"
kill "$DEV_PID"
wait "$DEV_PID" 2>/dev/null || true
DEV_PID=
for _ in $(seq 1 50); do
	grep -q "flow: TCP connection of .* closed" "$E_LOG" && break
	sleep 0.1
done
grep -q "flow: TCP connection of .* closed" "$E_LOG" ||
	fail "the edge did not notice the device's connection close"
to_edge "$TOKEN"
expect_final "430 Flow Failed" "INVITE with the token of a closed flow"
invite_final "sip:$AOR"
expect_final "480 Temporarily Unavailable" "INVITE to the AOR whose only flow failed"
log ok
