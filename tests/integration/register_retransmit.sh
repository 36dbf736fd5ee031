#!/usr/bin/env bash
# Retransmitted REGISTERs over UDP (RFC 3261 §17.2.2): one that arrives
# after the answer gets the same answer again, byte for byte, and is not
# processed twice — the same Call-ID and CSeq as a new request would be
# refused (§10.3 step 7), as the last case shows; one that arrives while
# the first is still being processed is absorbed; an error answer is
# repeated as well.
. "$(dirname "$0")/lib.sh"

LOG_LEVEL=debug
new_db
write_config
start_locus

# register_fixed OUT BRANCH CSEQ [HEADER]: a REGISTER whose Via (sent-by
# 127.0.0.1:5999, rport) and branch are the same every time it is sent
register_fixed() {
	local out=$1 branch=$2 cseq=$3; shift 3
	{
		echo "REGISTER sip:example.com SIP/2.0"
		echo "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=$branch;rport"
		echo "Max-Forwards: 70"
		echo "From: <sip:rt@example.com>;tag=f1"
		echo "To: <sip:rt@example.com>"
		echo "Call-ID: retransmit-1"
		echo "CSeq: $cseq REGISTER"
		echo "Contact: <sip:rt@127.0.0.1:5999>"
		[ $# -gt 0 ] && echo "$1"
		echo "Content-Length: 0"
		echo
	} | sip_send_text -n 1 -w 3000 >"$out"
}
answer() { sed -n '/^SIP\/2.0/,/^----$/p' "$1" | sed '/^----$/d'; }

log "a REGISTER, then the same again: the same 200, processed once"
register_fixed "$WORK/a1" z9hG4bKretransmit1 1
register_fixed "$WORK/a2" z9hG4bKretransmit1 1
expect_status "$WORK/a1" "200 OK" "first REGISTER"
diff <(answer "$WORK/a1") <(answer "$WORK/a2") ||
	fail "the retransmission got another answer"
[ "$(psql_q "SELECT cseq FROM locus.location WHERE aor = 'rt@example.com'")" = 1 ] ||
	fail "binding: $(psql_q 'TABLE locus.location')"

log "the same Call-ID and CSeq in a new transaction: refused, as it must be"
register_fixed "$WORK/a3" z9hG4bKretransmit2 1
expect_status "$WORK/a3" "500 Stale CSeq: Out-of-Order REGISTER Not Applied" \
	"same CSeq, new branch"

log "two copies back to back: one is processed, the other absorbed or answered alike"
msg=$(printf '%s\r\n' "REGISTER sip:example.com SIP/2.0" \
	"Via: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bKburst;rport" \
	"Max-Forwards: 70" "From: <sip:burst@example.com>;tag=f2" \
	"To: <sip:burst@example.com>" "Call-ID: burst-1" "CSeq: 7 REGISTER" \
	"Contact: <sip:burst@127.0.0.1:5998>" "Content-Length: 0" "")
# $(...) ate the last LF of the final CRLF: put it back.  cat sends the
# file in one write, i.e. one datagram (printf may write line by line).
printf '%s\n' "$msg" >"$WORK/burst.msg"
cat "$WORK/burst.msg" >/dev/udp/127.0.0.1/"$LOCUS_PORT"
cat "$WORK/burst.msg" >/dev/udp/127.0.0.1/"$LOCUS_PORT"
for i in $(seq 1 31); do
	[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = 'burst@example.com'")" = 1 ] && break
	[ "$i" = 31 ] && fail "the burst REGISTER was not stored"
	sleep 0.1
done
sleep 0.3
[ "$(grep -c "^CSeq: 7 REGISTER" <(grep -A8 "^SIP/2.0 500" "$WORK/locus.log"))" = 0 ] ||
	fail "a copy of the burst was processed as a new request (500)"

log "an error answer is repeated too"
register_fixed "$WORK/e1" z9hG4bKretransmit3 2 "Expires: 5"
register_fixed "$WORK/e2" z9hG4bKretransmit3 2 "Expires: 5"
expect_status "$WORK/e1" "423 Interval Too Brief" "Expires: 5"
diff <(answer "$WORK/e1") <(answer "$WORK/e2") ||
	fail "the retransmitted error got another answer"

stop_locus
grep -q "registrar: 2 REGISTER(s) answered 2xx" "$WORK/locus.log" ||
	fail "expected 2 REGISTERs processed to a 2xx: $(grep 'answered 2xx' "$WORK/locus.log")"
log "ok"
