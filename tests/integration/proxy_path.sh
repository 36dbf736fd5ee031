#!/usr/bin/env bash
# A binding's Path routes requests to it (RFC 3327 §5.4): an INVITE to the
# AOR goes to the Path's first value and carries every value, in order, as
# Route; a display name holding a comma is part of its value.  The same
# after a restart, when the binding comes back from PostgreSQL's text[].
. "$(dirname "$0")/lib.sh"

new_db
start_locus
R=$WORK/resp
EDGE_PID=

path_cleanup() {
	local status=$?
	[ -z "$EDGE_PID" ] || kill "$EDGE_PID" 2>/dev/null || true
	( exit $status )
	cleanup
}
trap path_cleanup EXIT

# the edge proxy: records what reaches it, answers an INVITE 486
mkdir -p "$WORK/edge"
EDGE_PORT=$(free_port)
python3 "$TOP/tests/tools/rawuas.py" "$EDGE_PORT" "$WORK/edge" \
	2>"$WORK/rawuas.err" &
EDGE_PID=$!
for _ in $(seq 1 100); do [ -f "$WORK/edge/ready" ] && break; sleep 0.1; done
[ -f "$WORK/edge/ready" ] || fail "rawuas did not start: $(cat "$WORK/rawuas.err")"

E1="\"edge, one\" <sip:127.0.0.1:$EDGE_PORT;lr>"
E2="<sip:p2.example.net;lr>"
sip_register "$R" erin@example.com cid-e 1 "Supported: path" \
	"Path: $E1, $E2" "Contact: <sip:erin@192.0.2.8:5060>" "Expires: 600" ||
	fail "no answer to the REGISTER"
expect_status "$R" "200 OK" "REGISTER with Path"
[ "$(sip_hdr "$R" Path)" = "$E1, $E2" ] ||
	fail "200 Path: '$(sip_hdr "$R" Path)', expected '$E1, $E2'"
stored=$(psql_q "SELECT array_length(path, 1) || '|' || array_to_string(path, '|')
		   FROM locus.bindings WHERE aor = 'erin@example.com'")
[ "$stored" = "2|$E1|$E2" ] || fail "psql path: '$stored', expected '2|$E1|$E2'"

# invite N WHAT: an INVITE to erin; it must reach the edge as request N,
# with the Path as its Route, and its 486 come back
invite() {
	printf '%s\r\n' "INVITE sip:erin@example.com SIP/2.0" \
		"Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: 70" "From: <sip:frank@example.com>;tag=@TAG@" \
		"To: <sip:erin@example.com>" "Call-ID: @CALLID@" "CSeq: 1 INVITE" \
		"Contact: <sip:frank@@LOCAL_IP@:@LOCAL_PORT@>" "Content-Length: 0" "" |
		"$BUILD/sipsend" -n 1 -w 3000 127.0.0.1 "$LOCUS_PORT" - >"$R" ||
		fail "$2: no answer to the INVITE"
	final=$(sed -n '/^SIP\/2\.0 [2-6]/{s/\r$//;p;q}' "$R")
	[ "$final" = "SIP/2.0 486 Busy Here" ] ||
		fail "$2: final response '${final:-none}', expected 486 from the edge"
	[ -f "$WORK/edge/$1.sip" ] || fail "$2: the INVITE did not reach the edge"
	head -n 1 "$WORK/edge/$1.sip" | grep -q '^INVITE sip:erin@192.0.2.8:5060 SIP/2.0' ||
		fail "$2: Request-URI at the edge: $(head -n 1 "$WORK/edge/$1.sip")"
	route=$(sed -n 's/\r$//; s/^Route: //p' "$WORK/edge/$1.sip")
	[ "$route" = "$E1, $E2" ] || fail "$2: Route at the edge '$route', expected '$E1, $E2'"
}

log "INVITE: to the Path's first value, the whole Path as Route"
invite 1 "from memory"

log "the same after a restart (the binding read back from PostgreSQL)"
stop_locus
start_locus_again
invite 3 "after a restart"   # request 2 was the ACK of the 486

locus_alive || fail "locus died"
log "ok"
