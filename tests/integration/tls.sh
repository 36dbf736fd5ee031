#!/usr/bin/env bash
# TLS (RFC 3261 §26.2): a TLS listener with the certificate and key of the
# configuration; a device registering over TLS (openssl s_client) is
# stored with transport tls and a call to it comes down its connection;
# a sips: binding is reached by a TLS connection locus opens (openssl
# s_server); a key that does not belong to the certificate stops locus
# with a line that says so.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 2>/dev/null
new_db
TLS_PORT=$(free_port)
write_config
start_locus
grep -q "listening on TLS 127.0.0.1:$TLS_PORT" "$WORK/locus.log" ||
	fail "no TLS listener"

CLIENT_PID=
SERVER_PID=
tls_cleanup() {
	local status=$?
	exec 3>&- 4>&- 2>/dev/null || true
	set +e
	[ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	wait 2>/dev/null
	# errexit stays off: (exit $status) would end the trap before cleanup
	(exit $status); cleanup
}
trap tls_cleanup EXIT

wait_for() {   # wait_for FILE PATTERN WHAT: at most 5 s
	for _ in $(seq 1 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$3: not seen in $1: $(head -c 600 "$1" 2>/dev/null)"
}

# invite_from_afar USER N: an INVITE over UDP from another domain (not
# challenged) to USER@example.com; whatever locus answers is not read.
invite_from_afar() {
	sip_send_text -w 300 >/dev/null <<MSG || true
INVITE sip:$1@example.com SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport
Max-Forwards: 70
From: <sip:caller@elsewhere.example>;tag=c$2
To: <sip:$1@example.com>
Call-ID: tls-inv-$2
CSeq: 1 INVITE
Contact: <sip:caller@@LOCAL_IP@:@LOCAL_PORT@>
Content-Length: 0

MSG
}

log "a device registers over TLS (openssl s_client)"
mkfifo "$WORK/to_locus"
timeout 60 openssl s_client -connect "127.0.0.1:$TLS_PORT" -quiet -ign_eof \
	<"$WORK/to_locus" >"$WORK/from_locus" 2>"$WORK/s_client.err" &
CLIENT_PID=$!
exec 3>"$WORK/to_locus"
crlf >&3 <<MSG
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKtls1;rport
Max-Forwards: 70
From: <sip:tlsdev@example.com>;tag=t1
To: <sip:tlsdev@example.com>
Call-ID: tls-reg-1
CSeq: 1 REGISTER
Contact: <sip:tlsdev@127.0.0.1:5099;transport=tls>
Content-Length: 0

MSG
wait_for "$WORK/from_locus" "^SIP/2.0 200 OK" "200 OK over TLS"
[ "$(psql_q "SELECT transport FROM locus.location WHERE aor = 'tlsdev@example.com'")" = tls ] ||
	fail "binding not stored with transport tls: $(psql_q 'TABLE locus.location')"

log "a call to it comes down that TLS connection"
invite_from_afar tlsdev 1
wait_for "$WORK/from_locus" "^INVITE sip:tlsdev@127.0.0.1:5099;transport=tls SIP/2.0" \
	"the INVITE over TLS"
grep -q "^Via: SIP/2.0/TLS 127.0.0.1:$TLS_PORT;" "$WORK/from_locus" ||
	fail "locus's Via for the TLS hop: $(grep '^Via' "$WORK/from_locus")"

log "a sips: binding is reached over a TLS connection locus opens"
S_PORT=$(free_port)
# its stdin stays open (fd 4): at end of input s_server drops the client
mkfifo "$WORK/to_server"
timeout 60 openssl s_server -accept "127.0.0.1:$S_PORT" -cert "$WORK/cert.pem" \
	-key "$WORK/key.pem" -quiet <"$WORK/to_server" >"$WORK/s_server.out" \
	2>"$WORK/s_server.err" &
SERVER_PID=$!
exec 4>"$WORK/to_server"
for _ in $(seq 1 50); do
	grep -q "$(printf ':%04X ' "$S_PORT")" /proc/net/tcp && break
	sleep 0.1
done
psql_q "SELECT locus.add_static_binding('trunk@example.com', 'sips:trunk@127.0.0.1:$S_PORT')"
sleep 0.3   # the notification reaches locus
invite_from_afar trunk 2
wait_for "$WORK/s_server.out" "^INVITE sips:trunk@127.0.0.1:$S_PORT SIP/2.0" \
	"the INVITE at the TLS server"

log "a key that is not the certificate's: locus says so and exits"
stop_locus
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$WORK/key.pem" -out "$WORK/other.pem" -days 2 \
	-subj /CN=other 2>/dev/null
status=0
timeout 15 "$BUILD/locus" -f "$WORK/locus.conf" >"$WORK/bad.log" 2>&1 || status=$?
[ $status = 1 ] || fail "locus exited $status with a mismatched key"
grep -q "error cannot use TLS key $WORK/key.pem: key values mismatch; " \
	"$WORK/bad.log" || fail "no clear error: $(tail -n 3 "$WORK/bad.log")"
log "ok"
