#!/usr/bin/env bash
# Tracing one user (README "Tracing"): locus.trace('alice@example.com')
# makes locus log, at log level info, every SIP message to or from alice's
# AOR, her GRUUs and her devices' addresses, whole, and send each as HEP v3
# to trace.hep (decoded here by tests/tools/hepd.py); bob's messages are
# not logged; before the trace and after locus.untrace() no message is
# logged whole; a trace whose time is up ends by itself.  Each start and
# end is logged.
. "$(dirname "$0")/lib.sh"

HEP_PORT=$(free_port)
ALICE_PORT=$(free_port)
BOB_PORT=$(free_port)

new_db
write_config
cat >>"$WORK/locus.conf" <<CONF
trace     = { hep = "127.0.0.1:$HEP_PORT"; hep_id = 7; };
CONF
python3 "$TOP/tests/tools/hepd.py" "$HEP_PORT" "$WORK/hep.json" >"$WORK/hepd.out" 2>&1 &
BG_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q ready "$WORK/hepd.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$WORK/hepd.out" || fail "hepd did not start: $(cat "$WORK/hepd.out")"
start_locus

# device NAME PORT AOR: a rawuas (tests/tools/rawuas.py) on PORT, registered
# as AOR, answering 200 to everything but INVITE.
device() {
	mkdir -p "$WORK/$1"
	python3 "$TOP/tests/tools/rawuas.py" "$2" "$WORK/$1" "$LOCUS_PORT" "$3" \
		2>"$WORK/$1.err" &
	BG_PIDS+=("$!")
	for _ in $(seq 1 50); do [ -f "$WORK/$1/ready" ] && break; sleep 0.1; done
	[ -f "$WORK/$1/ready" ] || fail "device $1: $(cat "$WORK/$1.err")"
}
device alice "$ALICE_PORT" alice@example.com
device bob "$BOB_PORT" bob@example.com

# message TO CALLID: a MESSAGE from a caller outside to TO; prints the
# final answer's status line.
message() {
	sip_send_text -n 1 -w 3000 >"$WORK/$2.out" <<EOF || true
MESSAGE $1 SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <$1>
Call-ID: $2
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: @CLEN@

hello $2
EOF
	sip_status "$WORK/$2.out"
}

# traced CALLID: how many messages of that Call-ID locus logged for a trace.
traced() {
	awk -v cid="Call-ID: $1" '
		/ info  trace of / { body = 1; next }
		/^[0-9-]+T[0-9:.]+Z / { body = 0 }
		body && index($0, cid) == 1 { n++ }
		END { print n + 0 }' "$WORK/locus.log"
}

# hep CALLID: how many well-formed HEP packets carried that Call-ID.
hep() {
	hep_count "$WORK/hep.json" "Call-ID: $1\r\n"
}

log "no trace: nothing is logged whole"
[ "$(message sip:alice@example.com before-1)" = "SIP/2.0 200 OK" ] ||
	fail "MESSAGE to alice before the trace"
grep -q "before-1" "$WORK/locus.log" && fail "a message was logged whole without a trace"

log "locus.trace('alice@example.com'): started"
psql_q "SELECT locus.trace('sip:alice@EXAMPLE.com.', interval '10 minutes')" >/dev/null
until_log "trace of alice@example.com started: .* until 20" "the trace start is not logged"

log "alice's messages are logged whole and sent as HEP, bob's are not"
[ "$(message sip:alice@example.com during-1)" = "SIP/2.0 200 OK" ] ||
	fail "MESSAGE to alice during the trace"
[ "$(message sip:bob@example.com during-bob)" = "SIP/2.0 200 OK" ] ||
	fail "MESSAGE to bob during the trace"
# the MESSAGE in and out, the device's 200 in and out
for _ in $(seq 1 30); do [ "$(hep during-1)" = 4 ] && break; sleep 0.1; done
[ "$(traced during-1)" = 4 ] || fail "$(traced during-1) of alice's 4 messages logged"
[ "$(hep during-1)" = 4 ] || fail "$(hep during-1) of alice's 4 messages sent as HEP"
[ "$(traced during-bob)" = 0 ] || fail "bob's messages logged whole"
[ "$(hep during-bob)" = 0 ] || fail "bob's messages sent as HEP"
grep -q "during-bob" "$WORK/locus.log" && fail "bob's message appears in the log"
grep -q "^hello during-1" "$WORK/locus.log" || fail "the traced MESSAGE's body is not logged"
# the MESSAGE forwarded to alice's device: as the device got it, byte for
# byte, with its addresses, ports, time and the agent ID of trace.hep_id
python3 - "$WORK/hep.json" "$WORK/alice" "$ALICE_PORT" "$LOCUS_PORT" <<'EOF' ||
import glob, json, sys, time
recs = [json.loads(l) for l in open(sys.argv[1])]
got = [open(f, "rb").read().decode() for f in glob.glob(sys.argv[2] + "/*.sip")]
fwd = [r for r in recs if r["dport"] == int(sys.argv[3])
       and r["payload"].startswith("MESSAGE ")]
assert len(fwd) == 1, "forwarded MESSAGEs in HEP: %d" % len(fwd)
r = fwd[0]
assert r["payload"] in got, "HEP payload differs from what the device got"
assert (r["family"], r["proto"], r["type"], r["agent"]) == (2, 17, 1, 7), r
assert (r["src"], r["dst"], r["sport"]) == ("127.0.0.1", "127.0.0.1",
                                             int(sys.argv[4])), r
assert abs(r["secs"] - time.time()) < 60 and r["usecs"] < 1000000, r
EOF
	fail "the HEP packet of the forwarded MESSAGE is not what was sent"

log "alice's temp-GRUU, from an address that is not hers, is hers"
INST=urn:uuid:00000000-0000-1000-8000-0000000a11ce
sip_register "$WORK/reg" alice@example.com cid-a 1 "Supported: gruu" \
	"Contact: <sip:alice@127.0.0.1:5997>;+sip.instance=\"<$INST>\"" "Expires: 600"
expect_status "$WORK/reg" "200 OK" "alice's REGISTER with an instance"
TMP=$(sip_hdr "$WORK/reg" Contact | sed -n 's/.*temp-gruu="\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$TMP" ] || fail "no temp-gruu for alice"
sip_send_text -n 1 -w 300 >/dev/null <<EOF || true
OPTIONS $TMP SIP/2.0
Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@
Max-Forwards: 70
From: <sip:x@example.org>;tag=@TAG@
To: <sip:someone@example.org>
Call-ID: gruu-1
CSeq: 1 OPTIONS
Content-Length: 0

EOF
for _ in $(seq 1 30); do [ "$(traced gruu-1)" -ge 1 ] && break; sleep 0.1; done
[ "$(traced gruu-1)" -ge 1 ] || fail "the OPTIONS to alice's temp-GRUU was not traced"

log "locus.untrace(): ended, nothing more is logged whole"
[ "$(psql_q "SELECT locus.untrace('alice@example.com')")" = t ] || fail "untrace said no trace"
until_log "trace of alice@example.com ended: locus.untrace()" "the trace end is not logged"
[ "$(message sip:alice@example.com after-1)" = "SIP/2.0 200 OK" ] ||
	fail "MESSAGE to alice after the trace"
sleep 0.3
[ "$(traced after-1)" = 0 ] || fail "alice's messages still logged after untrace"
grep -q "after-1" "$WORK/locus.log" && fail "a message was logged whole after the trace"
[ "$(hep after-1)" = 0 ] || fail "HEP sent after the trace"

log "a trace whose time is up ends by itself"
psql_q "SELECT locus.trace('alice@example.com', interval '1 second')" >/dev/null
until_log "trace of alice@example.com started" "second trace not started" 2
until_log "trace of alice@example.com ended: its time is up" "the trace did not end when its time was up"
[ "$(message sip:alice@example.com late-1)" = "SIP/2.0 200 OK" ] ||
	fail "MESSAGE to alice after the time was up"
sleep 0.3
[ "$(traced late-1)" = 0 ] || fail "alice's messages logged after the trace's time was up"
locus_alive || fail "locus died"
