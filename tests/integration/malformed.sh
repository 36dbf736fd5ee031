#!/usr/bin/env bash
# Malformed requests and garbage bytes, over UDP and TCP (raw, sipsend):
# every one is answered with a 400 whose reason phrase names the problem,
# or not answered at all where neither libre nor locus can answer; none
# of them stores anything or kills locus, and a valid REGISTER still gets
# its 200 over UDP and TCP afterwards.
#
# What is not answered (accepted as "dropped", a 400 naming the problem
# would do too):
#   - a start line only, a lone CRLFCRLF, random bytes: not a message;
#   - a request without Via: locus sees it but no response can be routed;
#   - a 70 kB header line over TCP: the connection is closed.
# Missing Call-ID, CSeq, From or To, a CSeq whose method is not the
# request's or whose number is not a number, and a malformed Max-Forwards
# must get a 400.  A Via without branch is an RFC 2543 client's: its
# REGISTER is processed (RFC 3261 §8.2.2.2, §17.2.3; compat/sip_decode.c).
# A raw NUL byte in any header gets "400 NUL Byte in Header", over UDP and
# TCP, and nothing is stored or forwarded (a C string, PostgreSQL and many
# a parser downstream would see the value cut there).
. "$(dirname "$0")/lib.sh"

new_db
start_locus
M=$TOP/tests/integration/msg
OUT=$WORK/resp

# send NAME TRANSPORT [sipsend args...] < bytes: sends, leaves the
# responses in $OUT and sipsend's exit status in $RC.
send() {
	local name=$1 tp=$2; shift 2
	RC=0
	"$BUILD/sipsend" -t "$tp" -w 1000 -n 1 "$@" 127.0.0.1 "$LOCUS_PORT" - \
		>"$OUT" 2>"$WORK/sipsend.err" || RC=$?
	[ $RC = 0 ] || [ $RC = 3 ] || fail "$name: sipsend failed ($RC): $(cat "$WORK/sipsend.err")"
	locus_alive || fail "locus died on: $name"
}

# must_400 NAME REGEX: a 400 whose reason matches REGEX (case-insensitive)
must_400() {
	local got; got=$(sip_status "$OUT")
	[ $RC = 0 ] || fail "$1: no answer, expected a 400 naming the problem"
	shopt -s nocasematch
	[[ $got =~ ^SIP/2\.0\ 400\ .*($2) ]] ||
		fail "$1: expected a 400 naming /$2/, got '$got'"
	shopt -u nocasematch
	log "$1: $got"
}

# dropped_or_400 NAME REGEX: no answer, or a 400 matching REGEX
dropped_or_400() {
	if [ $RC = 3 ]; then
		log "$1: dropped"
	else
		must_400 "$@"
	fi
}

udp_file() { sed "s/@LOCUS_PORT@/$LOCUS_PORT/g" "$M/$1.sip"; }
tcp_file() { udp_file "$1" | sed 's|^Via: SIP/2.0/UDP|Via: SIP/2.0/TCP|'; }

log "requests missing what RFC 3261 §8.1.1 requires (UDP)"
send "no Call-ID" udp < <(udp_file register_no_callid)
must_400 "no Call-ID" "Call-ID"
send "no CSeq" udp < <(udp_file register_no_cseq)
must_400 "no CSeq" "CSeq"
send "CSeq method INVITE" udp < <(udp_file register_cseq_method)
must_400 "CSeq method INVITE" "CSeq.*Method|Method.*CSeq"
send "no From" udp < <(udp_file register_no_from)
must_400 "no From" "From"
send "no To" udp < <(udp_file register_no_to)
must_400 "no To" "\bTo\b"
send "Max-Forwards: seventy" udp < <(udp_file register_bad_maxfwd)
must_400 "Max-Forwards: seventy" "Max-Forwards"
send "Via without branch" udp < <(udp_file register_via_no_branch)
[ "$(sip_status "$OUT")" = "SIP/2.0 200 OK" ] ||
	fail "Via without branch (RFC 2543): got '$(sip_status "$OUT")', not 200 OK"
log "Via without branch: $(sip_status "$OUT")"
psql_q "DELETE FROM locus.location"
send "CSeq: one REGISTER" udp < <(udp_file register_cseq_number)
must_400 "CSeq: one REGISTER" "CSeq"
send "no Via" udp < <(udp_file register_no_via)
dropped_or_400 "no Via" "Via"

log "not SIP at all (UDP)"
send "start line only" udp -s <"$M/start_line_only.sip"
dropped_or_400 "start line only" "."
send "lone CRLFCRLF" udp -s < <(printf '\r\n\r\n')
# a keep-alive (RFC 5626 §3.5.1): silence or a CRLF pong, never a SIP reply
[ $RC = 3 ] || [ -z "$(sip_status "$OUT")" ] || fail "lone CRLFCRLF answered: $(sip_status "$OUT")"
log "lone CRLFCRLF: no SIP answer"
# 1 KiB of pseudo-random bytes, the same every run (AES-CTR of zeros)
head -c 1024 /dev/zero |
	openssl enc -aes-128-ctr -K 00112233445566778899aabbccddeeff \
		-iv 00000000000000000000000000000000 >"$WORK/garbage.bin"
[ "$(stat -c %s "$WORK/garbage.bin")" = 1024 ] || fail "could not make the garbage"
send "1 KiB of random bytes" udp -s <"$WORK/garbage.bin"
dropped_or_400 "1 KiB of random bytes" "."

log "TCP"
send "no Call-ID over TCP" tcp < <(tcp_file register_no_callid)
must_400 "no Call-ID over TCP" "Call-ID"
send "1 KiB of random bytes over TCP" tcp -s <"$WORK/garbage.bin"
dropped_or_400 "1 KiB of random bytes over TCP" "."
{
	tcp_file register_valid | sed '/^Content-Length/d; /^\r$/d'
	printf 'X-Padding: %s\r\n' "$(head -c 71680 /dev/zero | tr '\0' a)"
	printf 'Content-Length: 0\r\n\r\n'
} >"$WORK/big.sip"
[ "$(stat -c %s "$WORK/big.sip")" -gt 71680 ] || fail "could not make the big message"
send "70 KiB header line over TCP" tcp -w 3000 <"$WORK/big.sip"
if [ $RC = 3 ]; then
	log "70 KiB header line over TCP: dropped"
else
	got=$(sip_status "$OUT")
	[[ $got =~ ^SIP/2\.0\ (400|513)\  ]] ||
		fail "70 KiB header line over TCP: expected 400, 513 or nothing, got '$got'"
	log "70 KiB header line over TCP: $got"
fi

log "escapes that must stay escaped: %00 (once crashed locus), CR LF"
for ruri in "sip:a%00@example.com" "sip:a%00@example.com;gr=urn:uuid:x"; do
	printf '%s\n' "OPTIONS $ruri SIP/2.0" \
		"Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: 70" "From: <sip:x@example.com>;tag=@TAG@" "To: <$ruri>" \
		"Call-ID: @CALLID@" "CSeq: 1 OPTIONS" "Content-Length: 0" "" |
		sip_send_text -n 1 -w 3000 >"$WORK/nul.txt" || true
	[[ $(sip_status "$WORK/nul.txt") =~ ^SIP/2\.0\ 404\  ]] ||
		fail "OPTIONS $ruri: got '$(sip_status "$WORK/nul.txt")'"
	locus_alive || fail "locus died on OPTIONS $ruri"
done
sip_register "$WORK/inj.txt" "al%0D%0AX-Injected%3A%20yes@example.com" inj-$$ 1 \
	"Supported: gruu" \
	"Contact: <sip:al@127.0.0.1:5999>;+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-00000000000e>\""
expect_status "$WORK/inj.txt" "200 OK" "REGISTER with CR LF escaped in the user part"
grep -qi '^X-Injected' "$WORK/inj.txt" && fail "a header was injected into the 200 OK"
sip_hdr "$WORK/inj.txt" Contact | grep -qF 'pub-gruu="sip:al%0D%0AX-Injected%3A%20yes@example.com;gr=' ||
	fail "pub-gruu not escaped: $(sip_hdr "$WORK/inj.txt" Contact)"
sip_register "$WORK/inj.txt" bad-inst@example.com inj2-$$ 1 \
	"Contact: <sip:b@127.0.0.1:5999>;+sip.instance=\"<urn:a;b>\""
expect_status "$WORK/inj.txt" "400 Malformed +sip.instance" "instance with a ;"
psql_q "DELETE FROM locus.location"

log "values PostgreSQL could not store, or too long: 400, nothing stored"
sip_register "$WORK/v.txt" ua@example.com v1-$$ 1 "User-Agent: bad"$'\xff'"byte" \
	"Contact: <sip:ua@127.0.0.1:5999>"
expect_status "$WORK/v.txt" "400 Malformed User-Agent" "invalid UTF-8 in User-Agent"
sip_register "$WORK/v.txt" cid@example.com $'v2\xc3\x28' 1 "Contact: <sip:c@127.0.0.1:5999>"
expect_status "$WORK/v.txt" "400 Malformed Call-ID" "invalid UTF-8 in Call-ID"
long=$(head -c 300 /dev/zero | tr '\0' a)
sip_register "$WORK/v.txt" "$long@example.com" v3-$$ 1 "Contact: <sip:l@127.0.0.1:5999>"
expect_status "$WORK/v.txt" "400 AOR Too Long" "300-byte AOR"
sip_register "$WORK/v.txt" ua2@example.com v4-$$ 1 "Contact: <sip:$long$long$long$long@127.0.0.1:5999>"
expect_status "$WORK/v.txt" "400 Contact URI Too Long" "1200-byte Contact URI"
sip_register "$WORK/v.txt" utf@example.com v5-$$ 1 "User-Agent: Téléphone ☎" \
	"Contact: <sip:utf@127.0.0.1:5999>"
expect_status "$WORK/v.txt" "200 OK" "valid UTF-8 User-Agent"
[ "$(psql_q "SELECT user_agent FROM locus.bindings WHERE aor = 'utf@example.com'")" = "Téléphone ☎" ] ||
	fail "UTF-8 User-Agent not stored exactly"
psql_q "DELETE FROM locus.location"

log "a raw NUL byte in a header: 400, nothing stored or forwarded (UDP, TCP)"
# nul_register TP HEADER-LINE: a REGISTER of nul@example.com with that
# line (printf escapes: \000 is the NUL), over TP
nul_register() {
	printf '%s\r\n' "REGISTER sip:example.com SIP/2.0" \
		"Via: SIP/2.0/${1^^} @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: 70" "From: <sip:nul@example.com>;tag=@TAG@" \
		"To: <sip:nul@example.com>" "CSeq: 1 REGISTER" \
		"Contact: <sip:nul@127.0.0.1:5999>" >"$WORK/nul.sip"
	printf "$2\r\n" >>"$WORK/nul.sip"
	case $2 in Call-ID*) ;; *) printf 'Call-ID: nul-%s\r\n' "$RANDOM" >>"$WORK/nul.sip" ;; esac
	printf 'Content-Length: 0\r\n\r\n' >>"$WORK/nul.sip"
	grep -qaP '\x00' "$WORK/nul.sip" || fail "no NUL in the test message"
	send "NUL in $2 over $1" "$1" <"$WORK/nul.sip"
	must_400 "NUL in $2 over $1" "NUL Byte in Header"
}
for tp in udp tcp; do
	nul_register $tp 'User-Agent: softphone\000 injected'
	nul_register $tp 'Call-ID: nul-a\000b'
	nul_register $tp 'X-Anything: a\000b'
done
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'nul@example.com'")" = 0 ] ||
	fail "a REGISTER with a NUL byte stored a binding"
# an INVITE to a registered user with a NUL in its Subject: not forwarded
mkdir -p "$WORK/uas"
UAS_PORT=$(free_port)
python3 "$TOP/tests/tools/rawuas.py" "$UAS_PORT" "$WORK/uas" "$LOCUS_PORT" \
	callee@example.com 2>"$WORK/rawuas.err" &
UAS_PID=$!
for _ in $(seq 1 100); do [ -f "$WORK/uas/ready" ] && break; sleep 0.1; done
[ -f "$WORK/uas/ready" ] || fail "rawuas did not start: $(cat "$WORK/rawuas.err")"
for tp in udp tcp; do
	printf '%s\r\n' "INVITE sip:callee@example.com SIP/2.0" \
		"Via: SIP/2.0/${tp^^} @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: 70" "From: <sip:nul@example.com>;tag=@TAG@" \
		"To: <sip:callee@example.com>" "Call-ID: @CALLID@" "CSeq: 1 INVITE" \
		"Contact: <sip:nul@@LOCAL_IP@:@LOCAL_PORT@>" >"$WORK/nulinv.sip"
	printf 'Subject: hello\000world\r\nContent-Length: 0\r\n\r\n' >>"$WORK/nulinv.sip"
	send "INVITE with a NUL over $tp" $tp <"$WORK/nulinv.sip"
	must_400 "INVITE with a NUL over $tp" "NUL Byte in Header"
done
kill "$UAS_PID" 2>/dev/null || true
wait "$UAS_PID" 2>/dev/null || true
[ ! -s "$WORK/uas/requests" ] || fail "an INVITE with a NUL byte was forwarded: $(cat "$WORK/uas/requests")"
psql_q "DELETE FROM locus.location"

log "nothing stored, locus alive, valid REGISTERs still work"
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = 0 ] ||
	fail "malformed requests stored bindings: $(psql_q "SELECT * FROM locus.bindings")"
locus_alive || fail "locus died"
send "valid REGISTER over UDP" udp < <(udp_file register_valid)
[ "$(sip_status "$OUT")" = "SIP/2.0 200 OK" ] ||
	fail "valid REGISTER over UDP: got '$(sip_status "$OUT")'"
send "valid REGISTER over TCP" tcp < <(tcp_file register_valid)
[ "$(sip_status "$OUT")" = "SIP/2.0 200 OK" ] ||
	fail "valid REGISTER over TCP: got '$(sip_status "$OUT")'"
[ "$(psql_q "SELECT string_agg(transport, ',' ORDER BY transport) FROM locus.bindings")" = "tcp,udp" ] ||
	fail "psql after the valid REGISTERs: $(psql_q "SELECT * FROM locus.bindings")"
log "ok"
