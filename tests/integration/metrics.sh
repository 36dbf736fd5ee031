#!/usr/bin/env bash
# Prometheus metrics (README "Metrics"): GET /metrics on metrics.listen
# while sipp registers, every scrape accepted by promtool (Debian's
# prometheus), the figures checked against what sipp and the raw senders
# did: REGISTERs by outcome, requests and responses by method and status
# class, bindings and AORs, flows and WebSocket connections, GRUU lookups
# by result, forks per call, authentication failures and lockout blocks,
# NOTIFY reloads, reconnects after the database dropped the connections,
# commits, and nothing left in progress at the end.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh installs prometheus)"
N=40                      # AORs sipp registers
M_PORT=$(free_port)
WS_PORT=$(free_port)
new_db
AUTH_CONFIG='enabled = true; trusted = [ "127.0.0.1" ]; fail_limit = 2;' \
	WS_PORT=$WS_PORT write_config
cat >>"$WORK/locus.conf" <<CONF
metrics   = { listen = "127.0.0.1:$M_PORT"; };
CONF
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"

# scrape OUT: /metrics into OUT; fails unless 200 and promtool is content.
scrape() {
	curl -sS --max-time 5 -o "$1" -w '%{http_code} %{content_type}\n' \
		"http://127.0.0.1:$M_PORT/metrics" >"$1.status" ||
		fail "scrape failed: $(cat "$1.status")"
	grep -q '^200 text/plain; version=0.0.4' "$1.status" ||
		fail "scrape: $(cat "$1.status")"
	promtool check metrics <"$1" >"$1.lint" 2>&1 ||
		fail "promtool check metrics: $(cat "$1.lint")"
}

# value FILE SAMPLE: the value of SAMPLE (name with its labels, exactly as
# exposed) in FILE; fails when absent.
value() {
	local v
	v=$(awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1") ||
		fail "no sample $2 in $1"
	echo "$v"
}

# expect FILE SAMPLE WANT: SAMPLE is WANT.
expect() {
	local got; got=$(value "$1" "$2")
	[ "$got" = "$3" ] || fail "$2 is $got, expected $3"
}

log "an empty node: zeros, one page promtool accepts"
scrape "$WORK/m0"
expect "$WORK/m0" 'locus_bindings' 0
expect "$WORK/m0" 'locus_registers_total{outcome="ok"}' 0
start=$(value "$WORK/m0" locus_process_start_time_seconds)
now=$(date +%s)
[ "$start" -le "$now" ] && [ "$start" -gt $((now - 120)) ] ||
	fail "process start time $start is not shortly before $now"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M_PORT/")" = 404 ] ||
	fail "/ is not 404"

log "sipp registers $N AORs over TCP, scraped meanwhile"
( for i in $(seq 1 100); do
	[ -f "$WORK/sipp.done" ] && break
	curl -s --max-time 2 -o "$WORK/during.$i" "http://127.0.0.1:$M_PORT/metrics" || true
	sleep 0.1
  done ) &
SCRAPER=$!
status=0
sipp_run metrics_reg.xml -t t1 -m $N -r 20 -trace_logs -log_file "$WORK/reg.log" ||
	status=$?
touch "$WORK/sipp.done"
wait $SCRAPER
[ $status -eq 0 ] || fail "sipp: not every REGISTER got its 200"
sent=$(grep -c '^REGISTER sip:' "$WORK"/metrics_reg_*.msg)
[ "$sent" = $N ] || fail "sipp sent $sent REGISTERs, expected $N"

prev=0 flows_seen=0 scrapes=0
for i in $(seq 1 100); do
	f=$WORK/during.$i
	[ -s "$f" ] || continue
	promtool check metrics <"$f" >"$f.lint" 2>&1 ||
		fail "promtool check metrics (during the run): $(cat "$f.lint")"
	ok=$(value "$f" 'locus_registers_total{outcome="ok"}')
	[ "$ok" -ge "$prev" ] || fail "REGISTERs ok went down: $prev, then $ok"
	prev=$ok
	fl=$(value "$f" 'locus_flows{transport="tcp"}')
	[ "$fl" -le 1 ] || fail "$fl TCP flows for one connection"
	flows_seen=$((flows_seen + fl))
	scrapes=$((scrapes + 1))
done
[ $scrapes -ge 3 ] || fail "only $scrapes scrapes during the run"
[ $flows_seen -ge 1 ] || fail "sipp's connection never showed as a TCP flow"

scrape "$WORK/m1"
expect "$WORK/m1" 'locus_registers_total{outcome="ok"}' $N
expect "$WORK/m1" 'locus_registers_total{outcome="challenged"}' 0
expect "$WORK/m1" 'locus_sip_requests_total{direction="received",method="REGISTER"}' $N
expect "$WORK/m1" 'locus_sip_responses_total{direction="sent",method="REGISTER",class="2xx"}' $N
expect "$WORK/m1" 'locus_sip_responses_total{direction="sent",method="REGISTER",class="4xx"}' 0
expect "$WORK/m1" locus_bindings $N
expect "$WORK/m1" locus_aors $N
expect "$WORK/m1" 'locus_transactions_in_progress{kind="register"}' 0
expect "$WORK/m1" locus_db_pipeline_transactions 0
commits=$(value "$WORK/m1" locus_db_commit_transactions_count)
txns=$(value "$WORK/m1" locus_db_commit_transactions_sum)
[ "$commits" -ge 1 ] && [ "$txns" -ge $N ] ||
	fail "$commits commit(s) of $txns transaction(s) for $N REGISTERs"
expect "$WORK/m1" 'locus_db_commit_duration_seconds_count' "$commits"
expect "$WORK/m1" 'locus_db_commit_duration_seconds_bucket{le="+Inf"}' "$commits"

log "sipp's connection closed: no flow left"
for _ in $(seq 1 50); do
	scrape "$WORK/m2"
	[ "$(value "$WORK/m2" 'locus_flows{transport="tcp"}')" = 0 ] && break
	sleep 0.1
done
expect "$WORK/m2" 'locus_flows{transport="tcp"}' 0

log "a WebSocket connection counts while it is open"
python3 "$TOP/tests/tools/wsclient.py" "$WS_PORT" "$WORK/ws.out" 2>"$WORK/ws.err" &
WS_PID=$!
BG_PIDS+=("$WS_PID")
for _ in $(seq 1 50); do [ -s "$WORK/ws.out" ] && break; sleep 0.1; done
[ "$(cat "$WORK/ws.out" 2>/dev/null)" = "SIP/2.0 200 OK" ] ||
	fail "OPTIONS over WebSocket: $(cat "$WORK/ws.out" "$WORK/ws.err" 2>/dev/null)"
scrape "$WORK/m3"
expect "$WORK/m3" locus_websocket_connections 1
expect "$WORK/m3" 'locus_sip_requests_total{direction="received",method="OPTIONS"}' 1
expect "$WORK/m3" 'locus_sip_responses_total{direction="sent",method="OPTIONS",class="2xx"}' 1
kill "$WS_PID"
for _ in $(seq 1 50); do
	scrape "$WORK/m3"
	[ "$(value "$WORK/m3" locus_websocket_connections)" = 0 ] && break
	sleep 0.1
done
expect "$WORK/m3" locus_websocket_connections 0

log "authentication: challenged, wrong passwords, then the lockout"
A=alice@example.com
R=$WORK/r
REG_SRC=127.0.0.5 sip_register "$R.ch" $A cid-a 1 "Contact: <sip:alice@127.0.0.5:5999>"
expect_status "$R.ch" "401 Unauthorized" "REGISTER without credentials"
for nc in 1 2 3; do
	REG_SRC=127.0.0.5 sip_register "$R.$nc" $A cid-a $((nc + 1)) \
		"Contact: <sip:alice@127.0.0.5:5999>" \
		"$(digest_credentials Authorization "$R.ch" SHA-256 alice wrong \
		REGISTER sip:example.com "$(printf %08x $nc)")"
done
expect_status "$R.1" "401 Unauthorized" "first wrong password"
expect_status "$R.2" "401 Unauthorized" "second wrong password"
expect_status "$R.3" "403 Forbidden: Too Many Failed Authentications" "third attempt"
scrape "$WORK/m4"
expect "$WORK/m4" 'locus_registers_total{outcome="challenged"}' 3
expect "$WORK/m4" 'locus_registers_total{outcome="refused"}' 1
expect "$WORK/m4" 'locus_auth_failures_total{reason="wrong_password"}' 2
expect "$WORK/m4" 'locus_auth_failures_total{reason="no_such_user"}' 0
expect "$WORK/m4" 'locus_auth_limiter_blocks_total{rule="address_aor"}' 1
expect "$WORK/m4" 'locus_sip_responses_total{direction="sent",method="REGISTER",class="4xx"}' 4

log "GRUU lookups: routed, 404, 480"
INST=urn:uuid:00000000-0000-1000-8000-00000000d0d0
sip_register "$R.d" dave@example.com cid-d 1 "Supported: gruu" \
	"Contact: <sip:dave@127.0.0.1:5998>;+sip.instance=\"<$INST>\"" "Expires: 600"
expect_status "$R.d" "200 OK" "dave's REGISTER"
PUB="sip:dave@example.com;gr=$INST"
# an ACK is forwarded statelessly: routed, and nothing waits for it
sip_send_text -n 1 -w 300 >/dev/null <<EOF || true
ACK $PUB SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <$PUB>;tag=t1
Call-ID: @CALLID@
CSeq: 1 ACK
Content-Length: 0

EOF
options_to() {
	sip_send_text -n 1 -w 3000 >"$2" <<EOF
OPTIONS $1 SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <$1>
Call-ID: @CALLID@
CSeq: 1 OPTIONS
Content-Length: 0

EOF
}
options_to "sip:dave@example.com;gr=urn:uuid:00000000-0000-1000-8000-0000000000ff" "$R.404"
expect_status "$R.404" "404 Unknown GRUU" "OPTIONS to an unknown GRUU"
sip_register "$R.d0" dave@example.com cid-d 2 \
	"Contact: <sip:dave@127.0.0.1:5998>;+sip.instance=\"<$INST>\"" "Expires: 0"
expect_status "$R.d0" "200 OK" "dave's deregistration"
options_to "$PUB" "$R.480"
expect_status "$R.480" "480 Temporarily Unavailable" "OPTIONS to an offline GRUU"
scrape "$WORK/m5"
expect "$WORK/m5" 'locus_gruu_lookups_total{result="routed"}' 1
expect "$WORK/m5" 'locus_gruu_lookups_total{result="not_found"}' 1
expect "$WORK/m5" 'locus_gruu_lookups_total{result="unavailable"}' 1

log "an INVITE forked to carol's two devices"
scrape "$WORK/m5b"
acks=$(value "$WORK/m5b" 'locus_sip_requests_total{direction="sent",method="ACK"}')
for d in c1 c2; do
	P=$(free_port)
	mkdir -p "$WORK/$d"
	python3 "$TOP/tests/tools/rawuas.py" "$P" "$WORK/$d" "$LOCUS_PORT" \
		carol@example.com 2>"$WORK/$d.err" &
	BG_PIDS+=("$!")
	for _ in $(seq 1 50); do [ -f "$WORK/$d/ready" ] && break; sleep 0.1; done
	[ -f "$WORK/$d/ready" ] || fail "rawuas $d: $(cat "$WORK/$d.err")"
done
sip_send_text -n 1 -w 5000 >"$R.inv" <<'EOF'
INVITE sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <sip:carol@example.com>
Call-ID: @CALLID@
CSeq: 1 INVITE
Contact: <sip:x@@LOCAL_IP@:@LOCAL_PORT@>
Content-Length: 0

EOF
final=$(grep -a '^SIP/2.0 [2-6]' "$R.inv" | tr -d '\r' | head -n 1)
[ "$final" = "SIP/2.0 486 Busy Here" ] ||
	fail "INVITE to carol (both devices busy): ${final:-no final answer}"
for _ in $(seq 1 50); do
	scrape "$WORK/m6"
	[ "$(value "$WORK/m6" 'locus_transactions_in_progress{kind="proxy"}')" = 0 ] && break
	sleep 0.1
done
expect "$WORK/m6" 'locus_transactions_in_progress{kind="proxy"}' 0
expect "$WORK/m6" 'locus_call_forks_count' 1
expect "$WORK/m6" 'locus_call_forks_bucket{le="1"}' 0
expect "$WORK/m6" 'locus_call_forks_bucket{le="2"}' 1
expect "$WORK/m6" 'locus_call_forks_sum' 2
expect "$WORK/m6" 'locus_sip_requests_total{direction="sent",method="INVITE"}' 2
expect "$WORK/m6" 'locus_sip_responses_total{direction="received",method="INVITE",class="4xx"}' 2
# the ACK of each 486 (RFC 3261 §17.1.1.3)
expect "$WORK/m6" 'locus_sip_requests_total{direction="sent",method="ACK"}' $((acks + 2))

log "a change made with psql: one NOTIFY reload"
psql_q "SELECT locus.unregister_aor('mreg1@example.com')" >/dev/null
for _ in $(seq 1 50); do
	scrape "$WORK/m7"
	[ "$(value "$WORK/m7" locus_bindings)" = $((N - 1 + 2)) ] && break
	sleep 0.1
done
expect "$WORK/m7" locus_bindings $((N - 1 + 2))
expect "$WORK/m7" locus_notify_reloads_total 1

log "the database drops every connection: each one comes back"
psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
for _ in $(seq 1 100); do
	scrape "$WORK/m8"
	[ "$(value "$WORK/m8" 'locus_db_reconnects_total{connection="writer"}')" = 1 ] &&
	[ "$(value "$WORK/m8" 'locus_db_reconnects_total{connection="listen"}')" = 1 ] &&
	[ "$(value "$WORK/m8" 'locus_db_reconnects_total{connection="trace"}')" = 1 ] && break
	sleep 0.1
done
for c in writer listen trace; do
	expect "$WORK/m8" "locus_db_reconnects_total{connection=\"$c\"}" 1
done
locus_alive || fail "locus died"
