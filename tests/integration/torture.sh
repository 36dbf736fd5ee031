#!/usr/bin/env bash
# The 49 messages of RFC 4475 (SIP torture tests), one case each, sent to
# locus as a registrar and proxy for example.com.  The messages are in
# msg/rfc4475/, adapted as msg/rfc4475/README says (our domain, the
# sender's address in the top Via, Routes naming locus).  Beside each
# case: what RFC 4475 expects of a proxy or registrar, and what is
# asserted.  Valid requests must be processed: forwarded to a binding (a
# raw UAS, tests/tools/rawuas.py, registered for user, vivekg, kumiko and
# UserB) or answered by the registrar; a request to an unknown user may
# get 404.  Invalid ones get the RFC's error, with a reason phrase naming
# the problem.  Responses are played by the UAS to a request locus
# forwarded, or sent to locus as strays.  Framing cases go over TCP too.
#
# Every case runs even after one fails; the summary line says how many of
# the 49 hold, and the test fails unless all do (but the deliberate
# deviations listed in DEVIATE, which are asserted as locus means them).
. "$(dirname "$0")/lib.sh"

LOG_LEVEL=debug
new_db
start_locus
M=$TOP/tests/integration/msg/rfc4475
UAS_DIR=$WORK/uas
mkdir -p "$UAS_DIR"
UAS_PORT=$(free_port)
python3 "$TOP/tests/tools/rawuas.py" "$UAS_PORT" "$UAS_DIR" "$LOCUS_PORT" \
	user@example.com vivekg@example.com kumiko@example.com UserB@example.com \
	2>"$WORK/rawuas.err" &
UAS_PID=$!
torture_cleanup() {
	local status=$?
	kill "$UAS_PID" 2>/dev/null || true
	wait "$UAS_PID" 2>/dev/null || true
	( exit $status )
	cleanup
}
trap torture_cleanup EXIT
for _ in $(seq 1 100); do [ -f "$UAS_DIR/ready" ] && break; sleep 0.1; done
[ -f "$UAS_DIR/ready" ] || fail "rawuas did not start: $(cat "$WORK/rawuas.err")"
touch "$UAS_DIR/requests"

# Deliberate deviations from RFC 4475: asserted as locus means them, not
# counted as holding.
declare -A DEVIATE=(
	[intmeth]="its To carries a NUL (a quoted-pair, legal in RFC 3261): locus refuses every raw NUL in a header"
)
HOLD=0
BROKEN=()
CASE=

# case_start NAME RFC-EXPECTATION
case_start() {
	CASE=$1
	CASE_OK=1
	log "$1: RFC 4475: $2"
}

# no CASE WHY: the current case does not hold
no() {
	echo "   NOT HOLDING: $CASE: $1" >&2
	CASE_OK=0
}

case_end() {
	locus_alive || { no "locus died"; fail "locus died on $CASE"; }
	if [ -n "${DEVIATE[$CASE]:-}" ]; then
		[ $CASE_OK = 1 ] || BROKEN+=("$CASE")
		log "$CASE: deviates deliberately: ${DEVIATE[$CASE]}"
	elif [ $CASE_OK = 1 ]; then
		HOLD=$((HOLD + 1))
		log "$CASE: holds"
	else
		BROKEN+=("$CASE")
	fi
}

# msg NAME TP: the message as sent over TP (udp|tcp); over TCP the top
# Via says TCP and each Call-ID gets ".tcp" (the UDP copy's transaction
# is still alive: a second one would be a merged request).
msg() {
	sed "s/@LOCUS_PORT@/$LOCUS_PORT/g" "$M/$1.sip" |
	if [ "$2" = tcp ]; then
		sed 's|SIP/2.0/UDP @LOCAL_IP@|SIP/2.0/TCP @LOCAL_IP@|
		     s/^\(Call-ID\|i\|I\)\([ \t]*:.*\)\r$/\1\2.tcp\r/'
	else
		cat
	fi
}

# send NAME TP [sipsend args]: responses in $OUT, sipsend's status in $RC
send() {
	local name=$1 tp=$2; shift 2
	OUT=$WORK/$name.$tp.out
	RC=0
	msg "$name" "$tp" | "$BUILD/sipsend" -t "$tp" "$@" 127.0.0.1 \
		"$LOCUS_PORT" - >"$OUT" 2>"$WORK/sipsend.err" || RC=$?
	[ $RC = 0 ] || [ $RC = 3 ] ||
		fail "$name over $tp: sipsend failed ($RC): $(cat "$WORK/sipsend.err")"
}

# final FILE: the status line of the last final response in FILE
final() {
	awk '/^SIP\/2\.0 [2-6][0-9][0-9] / { sub(/\r$/, ""); s = $0 }
	     END { print s }' "$1"
}

# answered NAME TP REGEX: the final response over TP matches REGEX
# ("CODE REASON", grep -E, case-insensitive)
answered() {
	local name=$1 tp=$2 re=$3 got
	send "$name" "$tp" -n 1 -w 4000
	got=$(final "$OUT")
	if grep -qiE "^SIP/2\.0 ($re)" <<<"$got"; then
		log "   over $tp: $got"
	else
		no "over $tp: expected /$re/, got '${got:-no answer}'"
	fi
}

uas_count() { wc -l <"$UAS_DIR/requests"; }

# forwarded NAME TP METHOD [FINAL-REGEX]: the UAS gets a METHOD request
# from locus, and the caller the UAS's answer (486 to an INVITE, 200
# otherwise, or FINAL-REGEX)
forwarded() {
	local name=$1 tp=$2 method=$3 want=${4:-} before got line
	[ -n "$want" ] || { [ "$method" = INVITE ] && want="486 Busy Here" || want="200 OK"; }
	before=$(uas_count)
	send "$name" "$tp" -n 1 -w 5000
	got=$(final "$OUT")
	line=$(sed -n "$((before + 1))p" "$UAS_DIR/requests")
	LAST_FWD=$UAS_DIR/$((before + 1)).sip
	if [[ $line != "$method "* ]]; then
		no "over $tp: not forwarded (the UAS got '${line:-nothing}'; caller got '${got:-no answer}')"
	elif ! grep -qiE "^SIP/2\.0 ($want)" <<<"$got"; then
		no "over $tp: forwarded, but the caller got '${got:-no answer}', not /$want/"
	else
		log "   over $tp: forwarded ($line), caller got $got"
	fi
}

# silent NAME TP: no answer at all within 2 s
silent() {
	send "$1" "$2" -w 2000
	[ $RC = 3 ] || no "over $2: expected no answer, got '$(sed -n 1p "$OUT" | tr -d '\r')'"
	[ $RC = 3 ] && log "   over $2: no answer"
}

# processed NAME TP: forwarded to the UAS, or 404/480 for an unknown user
processed() {
	local before got
	before=$(uas_count)
	send "$1" "$2" -n 1 -w 5000
	got=$(final "$OUT")
	if [ "$(uas_count)" -gt "$before" ]; then
		log "   over $2: forwarded, caller got $got"
	elif grep -qE '^SIP/2\.0 (404|480) ' <<<"$got"; then
		log "   over $2: $got"
	else
		no "over $2: not processed: '${got:-no answer}'"
	fi
}

# played METHOD FILE [MS FILE]...: the UAS answers the next request with
# the response in FILE, then, MS milliseconds later, the next one
# (rawuas.py's answer file); a METHOD to user@example.com is sent
played() {
	local method=$1 before
	cat "$2" >"$UAS_DIR/answer.new"
	shift 2
	while [ $# -ge 2 ]; do
		printf '#pause %s\r\n' "$1" >>"$UAS_DIR/answer.new"
		cat "$2" >>"$UAS_DIR/answer.new"
		shift 2
	done
	mv "$UAS_DIR/answer.new" "$UAS_DIR/answer"
	before=$(uas_count)
	printf '%s\r\n' "$method sip:user@example.com SIP/2.0" \
		"Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: 70" "From: <sip:caller@example.com>;tag=@TAG@" \
		"To: <sip:user@example.com>" "Call-ID: @CALLID@" "CSeq: 1 $method" \
		"Contact: <sip:caller@@LOCAL_IP@:@LOCAL_PORT@>" "Content-Length: 0" "" |
		"$BUILD/sipsend" -n 1 -w 8000 127.0.0.1 "$LOCUS_PORT" - >"$WORK/played.out" || true
	PLAYED_N=$(tail -n +"$((before + 1))" "$UAS_DIR/requests" | grep -c "^$method " || true)
	[ -f "$UAS_DIR/answer.used" ] || no "the UAS never got the request"
	rm -f "$UAS_DIR/answer" "$UAS_DIR/answer.used"
}

printf '%s\r\n' "SIP/2.0 486 Busy Here" @VIA@ @FROM@ @TO@ @CALLID@ @CSEQ@ \
	"Content-Length: 0" "" >"$WORK/486.sip"
sed 's/486 Busy Here/200 OK/' "$WORK/486.sip" >"$WORK/200.sip"

# body FILE: the body of the message in FILE, byte for byte
body() {
	python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1])' "$1"
}

log "---- 3.1.1 valid messages"
case_start wsinv "well formed; a proxy forwards it, unknown headers unchanged"
forwarded wsinv udp INVITE
# unchanged but for the LWS after the colon, which carries nothing
grep -A1 $'^NewFangledHeader: *newfangled value\r$' "$LAST_FWD" 2>/dev/null |
	grep -q $'^ continued newfangled value\r$' ||
	no "NewFangledHeader not forwarded unchanged"
grep -q $'^UnknownHeaderWithUnusualValue: *;;,,;;,;\r$' "$LAST_FWD" 2>/dev/null ||
	no "UnknownHeaderWithUnusualValue not forwarded unchanged"
case_end

case_start intmeth "well formed (unusual characters, a quoted NUL); a proxy forwards it or answers 404"
answered intmeth udp "400 NUL Byte in Header"
case_end

case_start esc01 "well formed, escapes in URIs; processed (unknown user: 404)"
processed esc01 udp
case_end

case_start escnull "well formed REGISTER with %00 in URIs; two distinct contacts registered"
answered escnull udp "200 OK"
[ "$(sip_hdr "$OUT" Contact | grep -c 'sip:%00')" = 2 ] ||
	no "the 200 does not list both contacts: $(sip_hdr "$OUT" Contact | tr '\n' ' ')"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'null-%00-null@example.com'")" = 2 ] ||
	no "not two bindings stored for null-%00-null@example.com"
case_end

case_start esc02 "well formed, unknown method RE%47IST%45R (not REGISTER); a proxy forwards or rejects it"
answered esc02 udp "404 |405 |501 "
case_end

case_start lwsdisp "accepted (no LWS before <)"
forwarded lwsdisp udp OPTIONS
case_end

case_start longreq "well formed, long values: accepted (over TCP too)"
forwarded longreq udp INVITE
forwarded longreq tcp INVITE
case_end

case_start dblreq "the REGISTER is handled, the octets after it (an INVITE) ignored"
send dblreq udp -w 2500
[ "$(final "$OUT")" = "SIP/2.0 200 OK" ] || no "REGISTER: got '$(final "$OUT")'"
[ "$(grep -c '^SIP/2\.0 ' "$OUT")" = 1 ] || no "more than one answer: $(grep '^SIP/2\.0 ' "$OUT" | tr -d '\r' | tr '\n' ' ')"
case_end

case_start semiuri "well formed; user part 'user;par=u@example.net' (unknown user: 404)"
processed semiuri udp
case_end

case_start transports "well formed, every transport in Via; processed as usual"
forwarded transports udp OPTIONS
case_end

case_start mpart01 "well formed, binary body with NULs: framed correctly (over TCP too)"
for tp in udp tcp; do
	forwarded mpart01 $tp MESSAGE
	[ -f "$LAST_FWD" ] && cmp -s <(body "$M/mpart01.sip") <(body "$LAST_FWD") ||
		no "over $tp: the body did not arrive byte for byte"
done
case_end

case_start unreason "well formed 200 with an unusual reason phrase: accepted (relayed)"
played INVITE "$M/unreason.sip"
want=$(sed -n '1s/\r$//p' "$M/unreason.sip")
[ "$(final "$WORK/played.out")" = "$want" ] ||
	no "the caller got '$(final "$WORK/played.out")', not '$want'"
case_end

case_start noreason "well formed 100 without a reason phrase: accepted"
played INVITE "$M/noreason.sip" 1700 "$WORK/486.sip"
[ "$(final "$WORK/played.out")" = "SIP/2.0 486 Busy Here" ] ||
	no "the caller got '$(final "$WORK/played.out")'"
# a provisional stops the INVITE's retransmissions (RFC 3261 §17.1.1.2)
[ "$PLAYED_N" = 1 ] || no "the INVITE was retransmitted after the 100: the 100 was not taken ($PLAYED_N copies)"
case_end

log "---- 3.1.2 invalid messages"
case_start badinv01 "extra ; and , in Via and Contact: 400"
answered badinv01 udp "400 .*(Via|Contact)"
case_end

case_start clerr "Content-Length larger than the body: 400 over UDP; over TCP the message is incomplete (wait)"
answered clerr udp "400 .*Content-Length"
silent clerr tcp
case_end

case_start ncl "negative Content-Length: an error"
answered ncl udp "400 .*Content-Length"
answered ncl tcp "400 .*Content-Length"
case_end

case_start scalar02 "CSeq > 2**32-1: 400"
answered scalar02 udp "400 .*CSeq"
case_end

case_start scalarlg "response with overlarge scalars: discarded"
played OPTIONS "$M/scalarlg.sip" 300 "$WORK/200.sip"
[ "$(final "$WORK/played.out")" = "SIP/2.0 200 OK" ] ||
	no "the caller got '$(final "$WORK/played.out")': the 503 was not discarded"
case_end

case_start quotbal "unterminated quote in To: 400"
answered quotbal udp "400 .*(quot|To)"
case_end

case_start ltgtruri "Request-URI in <>: 400"
answered ltgtruri udp "400 .*Request-URI"
case_end

case_start lwsruri "LWS in the Request-URI: 400"
answered lwsruri udp "400 .*Request"
case_end

case_start lwsstart "several SP in the Request-Line: may be rejected (400)"
answered lwsstart udp "400 .*Request-Line"
case_end

case_start trws "SP after the SIP-Version: may be rejected (400)"
answered trws udp "400 .*Request-Line"
case_end

case_start escruri "headers in the Request-URI: 400, or forwarded without them"
before=$(uas_count)
send escruri udp -n 1 -w 5000
if [ "$(uas_count)" -gt "$before" ]; then
	line=$(sed -n "$((before + 1))p" "$UAS_DIR/requests")
	[[ $line != *\?* ]] || no "forwarded with the headers in the Request-URI: $line"
	log "   forwarded: $line"
else
	grep -qiE '^SIP/2\.0 400 .*Request-URI' <<<"$(final "$OUT")" ||
		no "neither forwarded nor 400: '$(final "$OUT")'"
fi
case_end

case_start baddate "non-GMT Date: may be rejected, or ignored by an element that does not use it"
forwarded baddate udp INVITE "486 Busy Here|400 .*Date"
case_end

case_start regbadct "Contact with an escaped header not in <>: 400"
answered regbadct udp "400 .*Contact"
case_end

case_start badaspec "spaces within the addr-spec in To: 400"
answered badaspec udp "400 .*To"
case_end

case_start baddn "unquoted non-token characters in display names: 400"
answered baddn udp "400 .*(From|To|Display)"
case_end

case_start badvers "SIP/7.0: 505 Version Not Supported"
answered badvers udp "505 "
case_end

case_start mismatch01 "CSeq method differs from the Request-Line: 400"
answered mismatch01 udp "400 .*CSeq"
case_end

case_start mismatch02 "unknown method, CSeq method differs: 501 (400 acceptable)"
answered mismatch02 udp "501 |400 .*CSeq"
case_end

case_start bigcode "status code > 699: dropped"
played INVITE "$M/bigcode.sip" 300 "$WORK/486.sip"
[ "$(final "$WORK/played.out")" = "SIP/2.0 486 Busy Here" ] ||
	no "the caller got '$(final "$WORK/played.out")'"
grep -q '4294967301' "$WORK/played.out" && no "the 4294967301 response was relayed"
case_end

log "---- 3.1.3 transaction layer"
case_start badbranch "branch is the magic cookie alone: 400, or RFC 2543 matching"
forwarded badbranch udp OPTIONS "200 OK|400 .*branch"
case_end

log "---- 3.1.4 application layer"
case_start insuf "no Call-ID, From, To: 400"
answered insuf udp "400 "
case_end

case_start unkscm "unknown Request-URI scheme: 416"
answered unkscm udp "416 "
case_end

case_start novelsc "atypical Request-URI scheme: 416 (or 404)"
answered novelsc udp "416 |404 "
case_end

case_start unksm2 "REGISTER, To and From not SIP URIs: 400"
answered unksm2 udp "400 .*(To|From)"
case_end

case_start bext01 "Proxy-Require unsupported: 420 listing them"
answered bext01 udp "420 "
[ "$(sip_hdr "$OUT" Unsupported)" = "noProxiesSupportThis, norDoAnyProxiesSupportThis" ] ||
	no "Unsupported: '$(sip_hdr "$OUT" Unsupported)'"
case_end

case_start invut "unknown Content-Type: a proxy forwards it"
forwarded invut udp INVITE
case_end

case_start regaut01 "unknown Authorization scheme: a registrar without authentication ignores it"
answered regaut01 udp "200 OK"
case_end

case_start multi01 "several Call-ID, To, From, Max-Forwards, CSeq: 400"
answered multi01 udp "400 .*(Call-ID|CSeq|To|From|Max-Forwards)"
answered multi01 tcp "400 .*(Call-ID|CSeq|To|From|Max-Forwards)"
case_end

case_start mcl01 "two Content-Length values: an error"
answered mcl01 udp "400 .*Content-Length"
answered mcl01 tcp "400 .*Content-Length"
case_end

case_start bcast "200 whose second Via is 255.255.255.255: a proxy drops it"
mark=$(wc -l <"$WORK/locus.log")
silent bcast udp
tail -n +"$((mark + 1))" "$WORK/locus.log" | grep -q -- '-> 255\.255\.255\.255' &&
	no "locus sent something to 255.255.255.255"
case_end

case_start zeromf "Max-Forwards: 0 at a proxy: 483"
answered zeromf udp "483 "
case_end

case_start cparam01 "unknownparam is a contact parameter, not a URI parameter; 200"
answered cparam01 udp "200 OK"
c=$(sip_hdr "$OUT" Contact)
[[ $c == "<sip:+19725552222@gw1.example.net>;"*unknownparam* ]] || no "Contact in the 200: '$c'"
case_end

case_start cparam02 "unknownparam is a URI parameter; 200 and it is kept"
answered cparam02 udp "200 OK"
c=$(sip_hdr "$OUT" Contact)
[[ $c == "<sip:+19725552222@gw1.example.net;unknownparam>"* ]] || no "Contact in the 200: '$c'"
case_end

case_start regescrt "Contact with an escaped header: 200, the header kept in the binding"
answered regescrt udp "200 OK"
sip_hdr "$OUT" Contact | grep -qF '<sip:user@example.com?Route=%3Csip:sip.example.com%3E>' ||
	no "Contact in the 200: '$(sip_hdr "$OUT" Contact)'"
psql_q "DELETE FROM locus.location WHERE contact LIKE '%?Route=%'"
case_end

case_start sdp01 "Accept without application/sdp: a proxy forwards it"
forwarded sdp01 udp INVITE
case_end

log "---- 3.2 backward compatibility"
case_start inv2543 "RFC 2543 INVITE (no branch, no From tag, no Content-Length, no Max-Forwards): accepted"
forwarded inv2543 udp INVITE
# RFC 3261 §17.2.3: without a branch, a request matches a transaction by
# Request-URI, From, Call-ID, CSeq and top Via: its retransmission and
# the ACK of a non-2xx answer are absorbed, another request is not.
# From one socket: a retransmitted INVITE, its ACK, a second INVITE.
python3 - "$LOCUS_PORT" "$M/inv2543.sip" >"$WORK/2543.out" 2>&1 <<'PY' ||
import re, socket, sys, time
locus = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.2)
ip, port = s.getsockname()
tmpl = open(sys.argv[2], "rb").read()
tmpl = tmpl.replace(b"@LOCAL_IP@", ip.encode()).replace(b"@LOCAL_PORT@", str(port).encode())
def invite(cid):
    return tmpl.replace(b"inv2543.1717@", b"inv2543.%s@" % cid)
def collect(secs):
    got, end = [], time.time() + secs
    while time.time() < end:
        try:
            got.append(s.recv(65535))
        except socket.timeout:
            pass
    return got
s.sendto(invite(b"a"), locus)
time.sleep(0.3)
s.sendto(invite(b"a"), locus)
finals = [m for m in collect(2.0) if re.match(rb"SIP/2\.0 [2-6]", m)]
if not finals:
    sys.exit("no final answer to the INVITE")
totag = re.search(rb"(?im)^(?:to|t)[ \t]*:.*;tag=([^;\r]+)", finals[0]).group(1)
head = invite(b"a").split(b"\r\n\r\n")[0].split(b"\r\n")
ack = [b"ACK" + head[0][6:]]
for line in head[1:]:
    name = line.split(b":")[0].strip().lower()
    if name == b"to":
        line += b";tag=" + totag
    elif name == b"cseq":
        line = b"CSeq: 56 ACK"
    elif name == b"content-type":
        continue
    ack.append(line)
s.sendto(b"\r\n".join(ack) + b"\r\nContent-Length: 0\r\n\r\n", locus)
s.sendto(invite(b"b"), locus)
finals = [m for m in collect(2.0) if re.match(rb"SIP/2\.0 [2-6]", m)]
print("finals to the second INVITE: %d" % len(finals))
PY
	no "RFC 2543 exchange: $(cat "$WORK/2543.out")"
# calls CALLID METHOD: how many METHOD requests with Call-ID CALLID reached the UAS
calls() { grep -l "^Call-ID: $1" "$UAS_DIR"/*.sip 2>/dev/null | xargs -r grep -l "^$2 " | wc -l; }
[ "$(calls inv2543.a@ INVITE)" = 1 ] ||
	no "the retransmitted INVITE reached the UAS $(calls inv2543.a@ INVITE) times"
[ "$(calls inv2543.a@ ACK)" = 1 ] ||
	no "the UAS got $(calls inv2543.a@ ACK) ACKs: the caller's ACK was not absorbed"
[ "$(calls inv2543.b@ INVITE)" = 1 ] ||
	no "a second INVITE from the same Via was taken for the first"
case_end

log "---- summary"
log "$HOLD of 49 hold"
for c in "${!DEVIATE[@]}"; do log "deliberately not: $c (${DEVIATE[$c]})"; done
[ ${#BROKEN[@]} = 0 ] || fail "not holding: ${BROKEN[*]}"
log "ok"
