#!/usr/bin/env bash
# Live reload (README "Reload"): SIGHUP with a file that has an error is
# refused with FILE:LINE in the log and changes nothing; SIGHUP with a
# good file applies it at once (registrar.max_expires lowered, a domain
# added, the metrics endpoint moved) while a TCP connection stays open
# (sipp registers over it before and after) and an INVITE transaction is
# ringing (its 200 still reaches the caller); a changed listener needs a
# restart: it is named in the log and the old one keeps serving.
. "$(dirname "$0")/lib.sh"

M1=$(free_port)
M2=$(free_port)
OTHER=$(free_port)
UAS_PORT=$(free_port)

new_db
MAX_EXPIRES=3600 DEFAULT_EXPIRES=60 write_config
cat >>"$WORK/locus.conf" <<CONF
metrics   = { listen = "127.0.0.1:$M1"; };
CONF
start_locus
R=$WORK/r

# reloaded N: waits (5 s at most) until the log holds N "reload" outcome
# lines (applied or refused).
reloaded() {
	for _ in $(seq 1 50); do
		[ "$(grep -cE 'reload( refused|: .* applied)' "$WORK/locus.log")" -ge "$1" ] &&
			return 0
		sleep 0.1
	done
	fail "no reload outcome logged after SIGHUP #$1"
}

# until_file FILE PATTERN WHAT: waits (10 s at most) for PATTERN in FILE.
until_file() {
	for _ in $(seq 1 100); do
		grep -qa -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$3"
}

log "before: example.net is not ours"
sip_register "$R.net0" erin@example.net cid-e 1 "Contact: <sip:erin@127.0.0.1:5990>"
[ "$(sip_status "$R.net0" | cut -d' ' -f2)" = 404 ] ||
	fail "REGISTER in example.net before the reload: $(sip_status "$R.net0")"

log "a ringing INVITE and a TCP connection, both across the reloads"
mkdir -p "$WORK/uas"
printf '%s\r\n' "SIP/2.0 180 Ringing" @VIA@ @FROM@ @TO@ @CALLID@ @CSEQ@ \
	"Content-Length: 0" "" "#pause 5000" "SIP/2.0 200 OK" @VIA@ @FROM@ \
	@TO@ @CALLID@ @CSEQ@ "Contact: <sip:bob@127.0.0.1:$UAS_PORT>" \
	"Content-Length: 0" "" >"$WORK/uas/answer"
python3 "$TOP/tests/tools/rawuas.py" "$UAS_PORT" "$WORK/uas" "$LOCUS_PORT" \
	bob@example.com 2>"$WORK/uas.err" &
BG_PIDS+=("$!")
for _ in $(seq 1 50); do [ -f "$WORK/uas/ready" ] && break; sleep 0.1; done
[ -f "$WORK/uas/ready" ] || fail "rawuas did not start: $(cat "$WORK/uas.err")"
sip_send_text -n 1 -w 15000 >"$R.inv" <<'EOF' &
INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <sip:bob@example.com>
Call-ID: @CALLID@
CSeq: 1 INVITE
Contact: <sip:x@@LOCAL_IP@:@LOCAL_PORT@>
Content-Length: 0

EOF
CALLER=$!
BG_PIDS+=("$CALLER")
SIPP_PORT=$(free_port)
( cd "$WORK" && exec timeout 60 sipp -sf "$SIPP_DIR/reload_tcp.xml" -t t1 \
	-i 127.0.0.1 -p "$SIPP_PORT" -m 1 -nostdin -timeout 30s -timeout_error \
	-trace_msg -message_file "$WORK/tcp.msg" -trace_logs \
	-log_file "$WORK/tcp.log" -trace_err -error_file "$WORK/tcp.err" \
	"127.0.0.1:$LOCUS_PORT" >"$WORK/tcp.out" 2>&1 ) &
SIPP=$!
BG_PIDS+=("$SIPP")
until_file "$WORK/uas/requests" "^INVITE " "the INVITE did not reach bob's device"
until_file "$R.inv" "180 Ringing" "the caller got no 180"
until_file "$WORK/tcp.log" "FIRST" "sipp's first REGISTER over TCP got no 200"
# sipp's connection, as the kernel sees it
tcp_conn() {
	ss -Htn state established "( sport = :$SIPP_PORT and dport = :$LOCUS_PORT )"
}
conn_before=$(tcp_conn)
[ -n "$conn_before" ] || fail "sipp's TCP connection is not established"

log "a file with an error: refused, FILE:LINE logged, nothing changes"
cp "$WORK/locus.conf" "$WORK/good.conf"
sed -i -e 's/max_expires = 3600/max_expires = 120/' \
	-e 's/"example.com", "127.0.0.1" ]/"example.com", "127.0.0.1", "example.net" ]/' \
	-e "s/127.0.0.1:$M1/127.0.0.1:$M2/" \
	-e "s/transport = \"tcp\"; address = \"127.0.0.1:$LOCUS_PORT\"/transport = \"tcp\"; address = \"127.0.0.1:$OTHER\"/" \
	"$WORK/good.conf"
grep -q 'max_expires = 120' "$WORK/good.conf" && grep -q example.net "$WORK/good.conf" &&
	grep -q ":$OTHER" "$WORK/good.conf" && grep -q ":$M2" "$WORK/good.conf" ||
	fail "could not write the new configuration"
sed 's/max_expires = 120/max_expire = 120/' "$WORK/good.conf" >"$WORK/locus.conf"
bad_line=$(grep -n 'max_expire = 120' "$WORK/locus.conf" | cut -d: -f1)
kill -HUP "$LOCUS_PID"
reloaded 1
grep -q "reload refused: $WORK/locus.conf:$bad_line: unknown setting 'max_expire'" "$WORK/locus.log" ||
	fail "the refusal does not name $WORK/locus.conf:$bad_line: $(grep 'reload' "$WORK/locus.log")"
sip_register "$R.kept" dave@example.com cid-d 1 "Contact: <sip:dave@127.0.0.1:5991>" "Expires: 3000"
expect_status "$R.kept" "200 OK" "REGISTER after the refused reload"
[ "$(contact_expires "$R.kept" "<sip:dave@127.0.0.1:5991>")" = 3000 ] ||
	fail "max_expires changed by a refused reload: $(sip_hdr "$R.kept" Contact)"
curl -sf -o /dev/null "http://127.0.0.1:$M1/metrics" || fail "metrics moved by a refused reload"

log "a good file: applied; the listener change needs a restart"
cp "$WORK/good.conf" "$WORK/locus.conf"
kill -HUP "$LOCUS_PID"
reloaded 2
grep -q "reload: $WORK/locus.conf applied, but for 1 change(s) that need a restart" "$WORK/locus.log" ||
	fail "no applied line: $(grep 'reload' "$WORK/locus.log")"
grep -q "reload: listen\[1\] changed (TCP 127.0.0.1:$LOCUS_PORT to TCP 127.0.0.1:$OTHER.*needs a restart" "$WORK/locus.log" ||
	fail "the listener change is not named: $(grep 'reload' "$WORK/locus.log")"
grep -q "reload: registrar.max_expires: 120, was 3600" "$WORK/locus.log" ||
	fail "max_expires change not logged"
grep -q "reload: domain example.net added" "$WORK/locus.log" || fail "domain not logged"
grep -q "SECOND" "$WORK/tcp.log" 2>/dev/null &&
	fail "sipp's second REGISTER went before the reload (machine too slow?)"
[ "$(tcp_conn)" = "$conn_before" ] ||
	fail "sipp's TCP connection did not survive the reloads: '$(tcp_conn)'"
grep -qa "^SIP/2.0 200" "$R.inv" &&
	fail "the INVITE was answered before the reload (machine too slow?)"

log "the new settings hold for new requests"
sip_register "$R.new" frank@example.com cid-f 1 "Contact: <sip:frank@127.0.0.1:5992>" "Expires: 3000"
expect_status "$R.new" "200 OK" "REGISTER after the reload"
[ "$(contact_expires "$R.new" "<sip:frank@127.0.0.1:5992>")" = 120 ] ||
	fail "max_expires 120 not applied: $(sip_hdr "$R.new" Contact)"
sip_register "$R.net1" erin@example.net cid-e 2 "Contact: <sip:erin@127.0.0.1:5990>"
expect_status "$R.net1" "200 OK" "REGISTER in the added domain"
curl -sf -o "$WORK/m2" "http://127.0.0.1:$M2/metrics" || fail "metrics not served on the new address"
curl -s -o /dev/null "http://127.0.0.1:$M1/metrics" && fail "metrics still served on the old address"
grep -q '^locus_config_reloads_total{result="applied"} 1$' "$WORK/m2" &&
	grep -q '^locus_config_reloads_total{result="refused"} 1$' "$WORK/m2" ||
	fail "reload counters: $(grep reloads "$WORK/m2")"
# the TCP listener is still the old one
REG_TRANSPORT=tcp sip_register "$R.tcp" gina@example.com cid-g 1 "Contact: <sip:gina@127.0.0.1:5993;transport=tcp>"
expect_status "$R.tcp" "200 OK" "a new TCP connection to the running listener"

log "the ringing call and the TCP connection went on"
wait "$SIPP" || fail "sipp over TCP: $(cat "$WORK/tcp.err" 2>/dev/null | tail -n 5)"
grep -q "SECOND ;expires=120" "$WORK/tcp.log" ||
	fail "second REGISTER over the same connection: $(grep SECOND "$WORK/tcp.log")"
wait "$CALLER" || true
grep -qa "^SIP/2.0 200 OK" "$R.inv" || fail "the caller did not get the 200: $(grep -a '^SIP/2.0' "$R.inv")"
locus_alive || fail "locus died"
