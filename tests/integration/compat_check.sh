#!/usr/bin/env bash
# locus refuses to start, naming the override and what to do, when libre's
# own calls do not reach what compat/ puts in libre's place: daemons built
# with one symbol of each compat/ file kept out of the dynamic symbol
# table (tests/CMakeLists.txt; libre then calls its own, as a libre linked
# with -Bsymbolic-functions would) exit 1 before they listen, while locus
# itself starts with the same configuration and its timers fire (the
# REGISTER's database flush).
. "$(dirname "$0")/lib.sh"

new_db
write_config

for unexported in tmr_poll:timer_wheel rand_u64:random http_reply:sipws_http \
		  sip_via_decode:sip_decode; do
	symbol=${unexported%%:*}
	file=compat/${unexported#*:}.c
	exe=$BUILD/tests/locus_unexported_$symbol
	[ -x "$exe" ] || fail "$exe is not built"
	status=0
	timeout 20 "$exe" -f "$WORK/locus.conf" >"$WORK/out" 2>&1 || status=$?
	[ $status -eq 1 ] ||
		fail "$symbol unexported: exit status $status, expected 1: $(cat "$WORK/out")"
	line=$(grep "not in effect" "$WORK/out") ||
		fail "$symbol unexported: no refusal: $(cat "$WORK/out")"
	[[ $line == *"$file is not in effect: libre calls its own $symbol(), so "*"; export $symbol from the executable"* ]] ||
		fail "$symbol unexported: message not as expected: $line"
	! grep -q "ready" "$WORK/out" ||
		fail "$symbol unexported: it got ready: $(cat "$WORK/out")"
	log "$symbol: $line"
done

log "locus itself starts and answers a REGISTER after its database flush"
start_locus
sip_register "$WORK/resp" alice@example.com compat-check-1 1 \
	"Contact: <sip:alice@127.0.0.1:5999>" "Expires: 600" ||
	fail "no answer to the REGISTER: $(tail -n 5 "$WORK/locus.log")"
expect_status "$WORK/resp" "200 OK" "REGISTER"
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = 1 ] ||
	fail "the binding is not in the database"
log "ok"
