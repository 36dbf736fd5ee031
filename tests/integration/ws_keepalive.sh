#!/usr/bin/env bash
# CRLF keep-alives over SIP over WebSocket (RFC 7118 §6 allows RFC 5626
# §3.5.1's over it): a bare WebSocket client (tests/tools/wskeepalive.py)
# registers over ws:// and pings with CRLFCRLF frames: alone, split over
# two TCP writes, and together with an OPTIONS in one write.  Each is
# answered with a CRLF frame (and the OPTIONS with its 200); the frames
# are taken out before libre's WebSocket code, which otherwise complains
# of a malformed SIP message, except where a frame began in an earlier
# read than the one that ends it.
. "$(dirname "$0")/lib.sh"

new_db
WS_PORT=$(free_port)
write_config
start_locus

python3 "$TOP/tests/tools/wskeepalive.py" 127.0.0.1 "$WS_PORT" \
	kim@example.com >"$WORK/ws.out" 2>&1 ||
	fail "keep-alives over WebSocket: $(cat "$WORK/ws.out")"
[ "$(cat "$WORK/ws.out")" = "$(printf '1 ok\n2 ok\n3 ok')" ] ||
	fail "unexpected output: $(cat "$WORK/ws.out")"
n=$(grep -c "msg decode err" "$WORK/locus.log" || true)
[ "$n" -le 1 ] || fail "libre saw $n keep-alive frames as malformed SIP"
log ok
