#!/usr/bin/env bash
# A browser softphone over SIP WebSocket (RFC 7118): JsSIP 3.13
# in a headless Chromium (tests/browser) registers with locus, first over
# ws://, then over wss:// with a self-signed certificate, and what JsSIP
# itself reports is checked:
#  - registered, with the pub-gruu sip:USER@example.com;gr=urn:uuid:<the
#    instance id it was given> and a temp-gruu sip:tgruu.…@example.com;gr
#    (RFC 5627 §5.2), and a 200 OK that carries Require: outbound (RFC 5626
#    §6: JsSIP sent reg-id and Supported: outbound); psql shows the
#    binding with transport ws (wss);
#  - baresip (bob, over UDP) calls the browser's pub-gruu (ws) or temp-gruu
#    (wss): JsSIP reports the incoming INVITE addressed to the Contact it
#    registered, To the GRUU bob dialled, and bob hears it ring (the 180
#    came back down the WebSocket).  JsSIP cannot answer plain-RTP SDP, so
#    bob hangs up and JsSIP reports the session failed: Canceled;
#  - the browser is closed (no de-registration): its flow is gone, so
#    bob's next call to the same GRUU gets 480 (RFC 5626 §5.3, RFC 5627
#    §5.3) instead of waiting on a dead connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"
. "$(dirname "$0")/lib_browser.sh"

# locus logs every SIP message at debug: the un-REGISTER check below
# reads them
LOG_LEVEL=debug
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 2>/dev/null
new_db
WS_PORT=$(free_port)
WSS_PORT=$(free_port)
write_config
start_locus

bs_new bob bob auto
bs_start bob
bs_wait_registered bob

# browser_part NAME USER URL GRUU_KIND [HARNESS ARGS...]: the whole story
# for one browser; GRUU_KIND (pub_gruu or temp_gruu) is the GRUU bob calls.
browser_part() {
	local name=$1 user=$2 url=$3 kind=$4 tp=${3%%:*}; shift 4
	local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)

	log "$name: JsSIP registers sip:$user@example.com over $url"
	# --timeout: far beyond this part's few seconds; br_stop ends it
	br_start "$name" "--ws=$url" "--uri=sip:$user@example.com" \
		"--instance=$uuid" --until=none --timeout=60000 --trace "$@"
	br_wait "$name" registered 15 ||
		fail "$name: JsSIP did not report registered within 15 s"
	local reg=$BR_LINE pub tmp contact
	pub=$(br_get pub_gruu "$reg")
	tmp=$(br_get temp_gruu "$reg")
	contact=$(br_get contact_uri "$reg")
	log "$name: JsSIP's pub-gruu $pub, temp-gruu $tmp"
	[ "$(br_get status "$reg")" = 200 ] || fail "$name: registered with status $(br_get status "$reg")"
	[ "$pub" = "sip:$user@example.com;gr=urn:uuid:$uuid" ] ||
		fail "$name: JsSIP's pub-gruu '$pub', expected sip:$user@example.com;gr=urn:uuid:$uuid"
	[[ $tmp =~ ^sip:tgruu\.[A-Za-z0-9_-]+@example\.com\;gr$ ]] ||
		fail "$name: JsSIP's temp-gruu '$tmp' is not sip:tgruu.<token>@example.com;gr"
	br_wait "$name" ws_open 1 || fail "$name: no ws_open before registered"
	[ "$(br_get protocol)" = sip ] ||
		fail "$name: WebSocket subprotocol '$(br_get protocol)', expected sip (RFC 7118 §4.1)"

	# What JsSIP sent makes Require: outbound due (RFC 5626 §6); check
	# that it did, so that a JsSIP update cannot make the next check moot.
	br_sip "$name" out '^REGISTER ' ';reg-id=1[;>]?' '^Supported:.*\boutbound\b' ||
		fail "$name: JsSIP's REGISTER carries no reg-id=1 with Supported: outbound"
	local reg_callid
	reg_callid=$(printf '%s\n' "$BR_SIP" | sed -n 's/^Call-ID: //p')
	[ -n "$reg_callid" ] || fail "$name: no Call-ID in JsSIP's REGISTER"
	br_sip "$name" in '^SIP/2\.0 200 ' '^CSeq: [0-9]+ REGISTER$' ||
		fail "$name: no 200 OK to REGISTER in the trace"
	printf '%s\n' "$BR_SIP" | grep -Eiq '^Require:.*\boutbound\b' ||
		fail "$name: the 200 OK to JsSIP's REGISTER lacks Require: outbound (RFC 5626 §6): $(printf '%s\n' "$BR_SIP" | tr '\n' '|')"

	local row
	row=$(psql_q "SELECT transport || ' ' || reg_id FROM locus.bindings
		WHERE aor = '$user@example.com' AND instance = 'urn:uuid:$uuid'")
	[ "$row" = "$tp 1" ] ||
		fail "$name: psql binding (transport reg_id) '$row', expected '$tp 1': $(psql_q 'TABLE locus.bindings')"

	local gruu=$pub
	[ "$kind" = temp_gruu ] && gruu=$tmp
	log "$name: bob calls its $kind $gruu"
	br_mark "$name"
	bs_mark bob
	bs_cmd bob dial "$gruu"
	br_wait "$name" newRTCSession 10 ||
		fail "$name: JsSIP reported no incoming call within 10 s"
	local inv=$BR_LINE
	[ "$(br_get originator "$inv")" = remote ] || fail "$name: newRTCSession not from remote: $inv"
	[ "$(br_get ruri "$inv")" = "$contact" ] ||
		fail "$name: INVITE's Request-URI '$(br_get ruri "$inv")', expected the registered Contact $contact"
	[[ $(br_get to "$inv") == "<$gruu>"* ]] ||
		fail "$name: INVITE's To '$(br_get to "$inv")', expected the GRUU bob dialled <$gruu>"
	[[ $(br_get from "$inv") == "<sip:bob@example.com>;tag="* ]] ||
		fail "$name: INVITE's From '$(br_get from "$inv")' is not bob"
	bs_wait_event bob CALL_RINGING 10 ||
		fail "$name: bob heard no ringing (JsSIP's 180 did not come back); his events: $(bs_events bob | tr '\n' ' ')"

	log "$name: bob hangs up before JsSIP answers"
	bs_cmd bob hangup
	br_wait "$name" session_failed 10 ||
		fail "$name: JsSIP reported no end of the call within 10 s"
	[ "$(br_get cause)/$(br_get originator)" = Canceled/remote ] ||
		fail "$name: call ended with '$(br_get cause)' ($(br_get originator)), expected Canceled by the remote side"
	bs_wait_event bob CALL_CLOSED 10 || fail "$name: bob's call did not close"

	log "$name: the browser is closed; bob's next call to $gruu gets 480"
	br_stop "$name"
	[ "$BR_STATUS" = 0 ] || fail "$name: harness exited $BR_STATUS"
	bs_mark bob
	bs_cmd bob dial "$gruu"
	bs_wait_event bob CALL_CLOSED 15 ||
		fail "$name: bob's call to the closed browser's GRUU did not end within 15 s; his events: $(bs_events bob | tr '\n' ' ')"
	case $BS_EVENT in
	*'"param":"480 '*) ;;
	*) fail "$name: bob's call to the closed browser's GRUU: expected 480, got: $BS_EVENT" ;;
	esac
	# A browser that de-registered would make the 480 prove nothing
	# about flows: JsSIP must have left without an un-REGISTER (checked
	# last, when whatever it sent has surely been logged).
	if locus_msgs received '*' '*' 'REGISTER ' "^Call-ID: $reg_callid\$" \
		'^(Expires: 0|Contact: .*;expires=0)' >/dev/null; then
		fail "$name: JsSIP de-registered when the browser closed"
	fi
}

browser_part alice alice "ws://127.0.0.1:$WS_PORT" pub_gruu
# Chromium accepts the self-signed certificate only when told to
browser_part carol carol "wss://127.0.0.1:$WSS_PORT" temp_gruu --ignore-cert-errors

bs_stop bob
log "ok"
