#!/usr/bin/env bash
# CRLF keep-alives over SIP over WebSocket (RFC 7118 §6 allows RFC 5626
# §3.5.1's over it): a bare WebSocket client (tests/tools/wskeepalive.py)
# registers over ws://, then wss://, and pings with CRLFCRLF frames: alone, split over
# two TCP writes, and together with an OPTIONS in one write.  Each is
# answered with a CRLF frame (and the OPTIONS with its 200); the frames
# are taken out before libre's WebSocket code, which otherwise complains
# of a malformed SIP message, except where a frame began in an earlier
# read than the one that ends it.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 2>/dev/null
new_db
WS_PORT=$(free_port)
WSS_PORT=$(free_port)
write_config
start_locus

for scheme in ws wss; do
	log "$scheme://"
	port=$WS_PORT tls=
	[ "$scheme" = wss ] && port=$WSS_PORT tls=--tls
	python3 "$TOP/tests/tools/wskeepalive.py" 127.0.0.1 "$port" \
		kim@example.com $tls >"$WORK/$scheme.out" 2>&1 ||
		fail "keep-alives over $scheme: $(cat "$WORK/$scheme.out")"
	[ "$(cat "$WORK/$scheme.out")" = "$(printf '1 ok\n2 ok\n3 ok')" ] ||
		fail "$scheme: unexpected output: $(cat "$WORK/$scheme.out")"
done
n=$(grep -c "msg decode err" "$WORK/locus.log" || true)
[ "$n" -le 2 ] || fail "libre saw $n keep-alive frames as malformed SIP"
log ok
