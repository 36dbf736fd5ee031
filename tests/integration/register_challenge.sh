#!/usr/bin/env bash
# Retransmitted REGISTERs over UDP with authentication on (RFC 3261
# §17.2.2, §22.4).  A challenge is not kept for retransmissions: anyone
# can make us answer one, and it costs nothing to give again (the nonce
# needs no state), so a retransmission of a REGISTER without credentials
# is challenged afresh, with a new nonce.  The 200 to an authenticated
# REGISTER is kept: its retransmission gets it again, byte for byte, and
# is not processed twice (its nonce count would look like a replay).
. "$(dirname "$0")/lib.sh"

new_db
AUTH_CONFIG='enabled = true;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('rc', 'example.com', 'secret')" >/dev/null

# register_fixed OUT BRANCH CSEQ [HEADER]: a REGISTER whose Via (sent-by
# 127.0.0.1:5999, rport) and branch are the same every time it is sent
register_fixed() {
	local out=$1 branch=$2 cseq=$3; shift 3
	{
		echo "REGISTER sip:example.com SIP/2.0"
		echo "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=$branch;rport"
		echo "Max-Forwards: 70"
		echo "From: <sip:rc@example.com>;tag=f1"
		echo "To: <sip:rc@example.com>"
		echo "Call-ID: challenge-1"
		echo "CSeq: $cseq REGISTER"
		echo "Contact: <sip:rc@127.0.0.1:5999>"
		[ $# -gt 0 ] && echo "$1"
		echo "Content-Length: 0"
		echo
	} | sip_send_text -n 1 -w 3000 >"$out"
}
answer() { sed -n '/^SIP\/2.0/,/^----$/p' "$1" | sed '/^----$/d'; }
nonces() { sip_hdr "$1" WWW-Authenticate | sed -n 's/.*nonce="\([^"]*\)".*/\1/p'; }

log "no credentials, then the same again: challenged afresh, new nonces"
register_fixed "$WORK/c1" z9hG4bKchallenge1 1
register_fixed "$WORK/c2" z9hG4bKchallenge1 1
expect_status "$WORK/c1" "401 Unauthorized" "REGISTER without credentials"
expect_status "$WORK/c2" "401 Unauthorized" "its retransmission"
[ -n "$(nonces "$WORK/c1")" ] || fail "no nonce in $(cat "$WORK/c1")"
[ "$(nonces "$WORK/c1")" != "$(nonces "$WORK/c2")" ] ||
	fail "the retransmission got the first challenge again: it was kept"

log "credentials (answering the second challenge): 200, and the same 200 again"
auth=$(digest_credentials Authorization "$WORK/c2" SHA-256 rc secret \
	REGISTER sip:example.com 00000001)
register_fixed "$WORK/a1" z9hG4bKauthorized1 2 "$auth"
register_fixed "$WORK/a2" z9hG4bKauthorized1 2 "$auth"
expect_status "$WORK/a1" "200 OK" "REGISTER with credentials"
diff <(answer "$WORK/a1") <(answer "$WORK/a2") ||
	fail "the retransmission of the authenticated REGISTER got another answer"
[ "$(psql_q "SELECT cseq FROM locus.location WHERE aor = 'rc@example.com'")" = 2 ] ||
	fail "binding: $(psql_q 'TABLE locus.location')"

log "those credentials in a new transaction: a replay, refused"
register_fixed "$WORK/a3" z9hG4bKauthorized2 3 "$auth"
expect_status "$WORK/a3" "401 Unauthorized" "replayed nonce count"
locus_alive || fail "locus died"
log "ok"
