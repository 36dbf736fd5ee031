#!/usr/bin/env bash
# REGISTER over TCP: sipp (-t t1) gets its 200 OK on the connection, and
# psql shows transport 'tcp' with the connection's source address in
# `received`; the same for a raw REGISTER from sipsend over TCP, whose
# local port is known from its Contact; a UDP binding says 'udp'.
. "$(dirname "$0")/lib.sh"

new_db
start_locus

log "sipp over TCP"
sipp_run register_tcp.xml -t t1 -m 1 -trace_logs -log_file "$WORK/tcp.log" ||
	fail "REGISTER over TCP (sipp)"
src=$(sed -n 's/^.*LOCAL \([0-9.]*:[0-9]*\)$/\1/p' "$WORK/tcp.log")
[ -n "$src" ] || fail "sipp did not log its local address"
row=$(psql_q "SELECT transport || ' ' || received FROM locus.bindings
	      WHERE aor = 'tcpuser@example.com'")
[ "$row" = "tcp $src" ] || fail "psql transport/received: '$row', expected 'tcp $src'"

log "sipsend over TCP"
R=$WORK/resp
REG_TRANSPORT=tcp sip_register "$R" rawtcp@example.com cid-t 1 \
	"Contact: <sip:rawtcp@@LOCAL_IP@:@LOCAL_PORT@;transport=tcp>" \
	"Expires: 600" || fail "no answer over TCP"
expect_status "$R" "200 OK" "REGISTER over TCP (sipsend)"
row=$(psql_q "SELECT transport || ' ' || received || ' ' || contact
	      FROM locus.bindings WHERE aor = 'rawtcp@example.com'")
[[ $row =~ ^tcp\ (127\.0\.0\.1:[0-9]+)\ sip:rawtcp@(127\.0\.0\.1:[0-9]+)\;transport=tcp$ ]] ||
	fail "psql row for the sipsend TCP binding: '$row'"
[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
	fail "received ${BASH_REMATCH[1]} is not the TCP source ${BASH_REMATCH[2]}"

log "UDP for comparison"
sip_register "$R" rawudp@example.com cid-u 1 \
	"Contact: <sip:rawudp@@LOCAL_IP@:@LOCAL_PORT@>" "Expires: 600" ||
	fail "no answer over UDP"
expect_status "$R" "200 OK" "REGISTER over UDP"
row=$(psql_q "SELECT transport || ' ' || received || ' ' || contact
	      FROM locus.bindings WHERE aor = 'rawudp@example.com'")
[[ $row =~ ^udp\ (127\.0\.0\.1:[0-9]+)\ sip:rawudp@(127\.0\.0\.1:[0-9]+)$ ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
	fail "psql row for the UDP binding: '$row'"

locus_alive || fail "locus died"
log "ok"
