#!/usr/bin/env bash
# A browser softphone authenticates: JsSIP 3.13 in a headless Chromium
# (tests/browser) registers over SIP WebSocket with its password against
# locus offering SHA-256 and MD5; its credentials are for the REGISTER's
# Request-URI, which locus checks (RFC 3261 §22.4).  What is asserted is
# what JsSIP reports (and its own trace of what it sent).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_browser.sh"

new_db
WS_PORT=$(free_port)
AUTH_CONFIG='enabled = true;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('erin', 'example.com', 'e-pass')"

log "JsSIP registers sip:erin@example.com with its password"
br_start erin "--ws=ws://127.0.0.1:$WS_PORT" --uri=sip:erin@example.com \
	--password=e-pass --until=none --timeout=60000 --trace
br_wait erin registered 15 ||
	fail "JsSIP did not report registered within 15 s: $(grep -o '"event":"registrationFailed"[^}]*' "$WORK/erin.jsonl")"
[ "$(br_get status)" = 200 ] || fail "registered with status $(br_get status)"
br_sip erin in '^SIP/2\.0 401 ' '^CSeq: [0-9]+ REGISTER$' ||
	fail "JsSIP was not challenged"
br_sip erin out '^REGISTER sip:example\.com SIP/2\.0$' \
	'^Authorization: Digest .*uri="sip:example\.com"' ||
	fail "JsSIP's REGISTER carried no credentials for its Request-URI"
[ "$(psql_q "SELECT count(*) FROM locus.bindings
	WHERE aor = 'erin@example.com' AND transport = 'ws'")" = 1 ] ||
	fail "erin's binding is not in the database"
br_stop erin

log "with a wrong password: JsSIP reports the registration failed"
br_start mallory "--ws=ws://127.0.0.1:$WS_PORT" --uri=sip:erin@example.com \
	--password=wrong --until=none --timeout=60000
br_wait mallory registrationFailed 15 ||
	fail "JsSIP did not report registrationFailed within 15 s"
br_stop mallory
log "ok"
