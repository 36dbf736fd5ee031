#!/usr/bin/env bash
# Intercom calls (features.intercom = "*6"), with raw INVITEs (sipsend) as
# callers and four sipp devices of bob, each registered with the
# User-Agent of a phone of another dialect (intercom.style):
#  - no grant: alice dialling *6bob gets 403 Intercom Not Allowed and no
#    device gets anything;
#  - a grant with psql (locus.allow_intercom) takes effect without a
#    restart: the INVITE forks to all four, its Request-URI without the
#    code, each device with its own dialect's signalling (Call-Info and
#    Alert-Info / Alert-Info: Ring-Answer / ;intercom=true / Answer-Mode:
#    Auto) and none of what alice wrote herself; the log names the call;
#  - a grant for one callee covers that callee only; "%2A6" is "*6"; the
#    code in front of a pub-gruu reaches that one device;
#  - a revoke with psql takes effect without a restart: 403 again;
#  - a plain call whose caller writes Call-Info answer-after, Alert-Info
#    Ring-Answer, Answer-Mode and the like reaches every device without
#    them, and a Request-URI's ;intercom=true is gone too; from a peer in
#    intercom.trusted they stay;
#  - a revoke made while the grants connection is down counts once it is
#    back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

TRUSTED=127.0.0.5
new_db
# relaying on: a Request-URI that is not ours reaches the device as the
# caller wrote it, but for ;intercom=true
PROXY_RELAY=true write_config
cat >>"$WORK/locus.conf" <<CONF
features = { intercom = "*6"; };
intercom = {
  style = ( { user_agent = "Polycom*"; dialect = "ring-answer"; },
            { user_agent = "snom*";    dialect = "intercom-uri"; },
            { user_agent = "Avaya*";   dialect = "answer-mode"; } );
  trusted = [ "$TRUSTED" ];
};
CONF
start_locus
grep -q "intercom: 0 grant(s) loaded" "$WORK/locus.log" ||
	fail "locus did not say it loaded the (no) grants at start-up"

DEVICES=(yea pat sam ava)
declare -A UA=([yea]="Yealink SIP-T46S 66.86.0.15" [pat]="PolycomVVX-VVX_411-UA/6.4.3"
	[sam]="Snom D785 10.1.141.13" [ava]="Avaya one-X Deskphone 7.1")

# ua_device NAME USER_AGENT: a device of bob@example.com registering from
# a port of its own with that User-Agent (sipp/ic_reg.xml).
ua_device() {
	local name=$1 base="$WORK/reg_$1"
	alloc_port "DEV_PORT[$name]"
	DEV_INST[$name]=urn:uuid:1c000000-0000-4000-8000-00000000000$2
	( cd "$WORK" && timeout 30 sipp -sf "$SIPP_DIR/ic_reg.xml" -i 127.0.0.1 \
		-p "${DEV_PORT[$name]}" -m 1 -nostdin -timeout 20s -timeout_error \
		-trace_msg -message_file "$base.msg" -trace_logs -log_file "$base.log" \
		-key aor bob@example.com -key inst "${DEV_INST[$name]}" \
		-key ua "${UA[$name]}" "127.0.0.1:$LOCUS_PORT" >"$base.out" 2>&1 ) ||
		fail "REGISTER of device $name failed: $(tail -n 20 "$base.msg")"
	DEV_PUB[$name]=$(sed -n 's/^.*PUB \(sip:.*\)$/\1/p' "$base.log" | tail -n 1)
}
i=0
for d in "${DEVICES[@]}"; do ua_device "$d" $((i++)); done

all_reject() { local d; for d in "${DEVICES[@]}"; do uas_reject "$d" 486 "Busy Here" "X-Device: $d"; done; }
all_wait() { local d; for d in "${DEVICES[@]}"; do uas_wait "$d"; done; }
all_silent() { local d; for d in "${DEVICES[@]}"; do silent "$d"; done; }
all_silent_check() { local d; for d in "${DEVICES[@]}"; do silent_check "$d" "$1"; done; }

# check_dev NAME WHAT RURI_TAIL CALL_INFO ALERT_INFO ANSWER_MODE: the
# INVITE device NAME got had the Request-URI of its Contact followed by
# RURI_TAIL, and exactly these values (one a line, "" for none) of
# Call-Info, Alert-Info and Answer-Mode; never Priv-Answer-Mode,
# P-Auto-Answer or a Require with answermode.
check_dev() {
	local name=$1 what=$2 tail=$3 inv line h want got
	inv=$(msg_nth "${UAS_BASE[$name]}.msg" received '^INVITE ' 1)
	[ -n "$inv" ] || fail "$what: device $name got no INVITE"
	line=$(head -n 1 <<<"$inv" | tr -d '\r')
	[ "$line" = "INVITE sip:dev@127.0.0.1:${DEV_PORT[$name]}$tail SIP/2.0" ] ||
		fail "$what: device $name got '$line'"
	for h in Call-Info Alert-Info Answer-Mode; do
		case $h in Call-Info) want=$4 ;; Alert-Info) want=$5 ;; *) want=$6 ;; esac
		got=$(hdr_of "$h" <<<"$inv")
		[ "$got" = "$want" ] ||
			fail "$what: device $name got $h '$got', expected '$want'"
	done
	for h in Priv-Answer-Mode P-Auto-Answer; do
		[ -z "$(hdr_of "$h" <<<"$inv")" ] || fail "$what: device $name got $h"
	done
	! hdr_of Require <<<"$inv" | grep -qi answermode ||
		fail "$what: device $name got Require: answermode"
}

# wait_grants N: until locus logs that it loaded N grant(s) after line
# MARK of its log (at most 5 s); prints how long that took.
wait_grants() {
	local t0; t0=$(date +%s%N)
	for _ in $(seq 1 50); do
		if tail -n +"$((MARK + 1))" "$WORK/locus.log" |
			grep -q "intercom: $1 grant(s) loaded"; then
			log "locus reloaded the grants ($1) $(( ($(date +%s%N) - t0) / 1000000 )) ms after psql returned"
			return 0
		fi
		sleep 0.1
	done
	fail "locus did not load $1 grant(s) within 5 s of the change"
}

# What callers write to make the callee answer by itself.
OWN=("Call-Info: <sip:evil.example.net>;answer-after=0"
	"Alert-Info: <http://evil.example.net/>;info=alert-autoanswer;delay=0"
	"Alert-Info: Ring-Answer" "Answer-Mode: Auto" "Priv-Answer-Mode: Auto"
	"P-Auto-Answer: normal")
DEFAULT_CI="<sip:example.com>;answer-after=0"
DEFAULT_AI="<http://127.0.0.1/intercom>;info=alert-autoanswer;delay=0"

log "no grant: alice dialling *6bob gets 403, no device gets anything"
all_silent
INV_FROM=sip:alice@example.com invite_final "sip:*6bob@example.com" "${OWN[@]}"
expect_final "403 Intercom Not Allowed" "*6bob without a grant"
all_silent_check "*6bob without a grant"
grep -q "intercom refused: alice@example.com may not call bob@example.com" \
	"$WORK/locus.log" || fail "no log line for the refused intercom call"

log "psql grants alice: without a restart, *6bob forks to all four in their dialects"
MARK=$(wc -l <"$WORK/locus.log")
psql_q "SELECT locus.allow_intercom('alice', 'example.com')"
wait_grants 1
all_reject
INV_FROM=sip:alice@example.com invite_final "sip:*6bob@example.com" "${OWN[@]}"
all_wait
expect_final "486 Busy Here" "*6bob with a grant"
check_dev yea "*6bob, default dialect" "" "$DEFAULT_CI" "$DEFAULT_AI" ""
check_dev pat "*6bob, ring-answer dialect" "" "" "Ring-Answer" ""
check_dev sam "*6bob, intercom-uri dialect" ";intercom=true" "" "" ""
check_dev ava "*6bob, answer-mode dialect" "" "" "" "Auto"
to=$(msg_nth "${UAS_BASE[yea]}.msg" received '^INVITE ' 1 | hdr_of To)
[ "$to" = "<sip:*6bob@example.com>" ] || fail "*6bob: To at the device is '$to'"
grep -q "intercom call: alice@example.com -> bob@example.com" "$WORK/locus.log" ||
	fail "no log line naming the intercom call"

log "a grant for one callee: reception may call bob, not carol"
MARK=$(wc -l <"$WORK/locus.log")
psql_q "SELECT locus.allow_intercom('reception', 'example.com', callee => 'bob')"
wait_grants 2
all_reject
INV_FROM=sip:reception@example.com invite_final "sip:*6bob@example.com"
all_wait
expect_final "486 Busy Here" "reception dialling *6bob"
check_dev yea "reception dialling *6bob" "" "$DEFAULT_CI" "$DEFAULT_AI" ""
INV_FROM=sip:reception@example.com invite_final "sip:*6carol@example.com"
expect_final "403 Intercom Not Allowed" "reception dialling *6carol"
# not 404: a refused caller learns nothing about the callee
INV_FROM=sip:mallory@example.com invite_final "sip:*6nobody@example.com"
expect_final "403 Intercom Not Allowed" "mallory dialling *6nobody"

log "%2A6 is *6 (RFC 3261 §19.1.4); the code before a pub-gruu rings that device only"
all_reject
INV_FROM=sip:alice@example.com invite_final "sip:%2A6bob@example.com"
all_wait
expect_final "486 Busy Here" "%2A6bob"
check_dev ava "%2A6bob" "" "" "" "Auto"
uas_reject pat 486 "Busy Here" "X-Device: pat"
for d in yea sam ava; do silent "$d"; done
INV_FROM=sip:alice@example.com invite_final "sip:*6${DEV_PUB[pat]#sip:}"
uas_wait pat
for d in yea sam ava; do silent_check "$d" "*6 before pat's pub-gruu"; done
expect_final "486 Busy Here" "*6 before pat's pub-gruu"
check_dev pat "*6 before pat's pub-gruu" "" "" "Ring-Answer" ""

log "psql revokes alice: without a restart, 403 again"
MARK=$(wc -l <"$WORK/locus.log")
[ "$(psql_q "SELECT locus.disallow_intercom('alice', 'example.com')")" = 1 ] ||
	fail "disallow_intercom did not remove alice's grant"
wait_grants 1
all_silent
INV_FROM=sip:alice@example.com invite_final "sip:*6bob@example.com"
expect_final "403 Intercom Not Allowed" "*6bob after the revoke"
all_silent_check "*6bob after the revoke"

log "a plain call: what the caller wrote to make bob answer by itself is gone"
all_reject
INV_FROM=sip:mallory@example.com invite_final "sip:bob@example.com" "${OWN[@]}" \
	"Call-Info: <http://example.net/photo.png>;purpose=icon"
all_wait
expect_final "486 Busy Here" "plain call with auto-answer headers"
for d in "${DEVICES[@]}"; do
	check_dev "$d" "plain call with auto-answer headers" "" \
		"<http://example.net/photo.png>;purpose=icon" "" ""
done

log "a relayed Request-URI loses its ;intercom=true"
uas_reject sam 486 "Busy Here" "X-Device: sam"
INV_FROM=sip:mallory@example.com invite_final \
	"sip:dev@127.0.0.1:${DEV_PORT[sam]};intercom=true"
uas_wait sam
expect_final "486 Busy Here" "relayed ;intercom=true"
check_dev sam "relayed ;intercom=true" "" "" "" ""

log "from intercom.trusted ($TRUSTED) the caller's own headers stay"
uas_reject yea 486 "Busy Here" "X-Device: yea"
INV_SRC=$TRUSTED INV_FROM=sip:pbx@example.com invite_final \
	"sip:dev@127.0.0.1:${DEV_PORT[yea]};intercom=true" "${OWN[0]}" "${OWN[2]}" "${OWN[3]}"
uas_wait yea
expect_final "486 Busy Here" "trusted peer"
check_dev yea "trusted peer" ";intercom=true" "<sip:evil.example.net>;answer-after=0" \
	"Ring-Answer" "Auto"

log "the grants connection is cut: a revoke made meanwhile counts once it is back"
MARK=$(wc -l <"$WORK/locus.log")
[ "$(psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE datname = current_database() AND pid <> pg_backend_pid()
	AND query LIKE '%FROM locus.intercom%'")" = 1 ] ||
	fail "no grants connection found to cut"
psql_q "SELECT locus.disallow_intercom('reception', 'example.com')" >/dev/null
wait_grants 0
tail -n +"$((MARK + 1))" "$WORK/locus.log" | grep -q "intercom: grants connection lost" ||
	fail "locus did not notice the grants connection was cut"
INV_FROM=sip:reception@example.com invite_final "sip:*6bob@example.com"
expect_final "403 Intercom Not Allowed" "reception after the revoke during the outage"

log "ok"
