#!/usr/bin/env bash
# What locus tells systemd (sd_notify(3), Type=notify): READY=1 only once
# it listens and has loaded the bindings; WATCHDOG=1 from its event loop
# at half WATCHDOG_USEC; STOPPING=1 when SIGTERM ends it.  And SIGHUP
# (systemctl reload) neither ends it nor passes unnoticed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_service.sh"

new_db
write_config
# a binding locus can only know by loading it from the database
psql_q "SELECT locus.add_static_binding('pbx@example.com',
                                        'sip:pbx@127.0.0.1:5090')" >/dev/null

notify_listen
log "start with NOTIFY_SOCKET and WATCHDOG_USEC=400000, as systemd would"
export WATCHDOG_USEC=400000
# WATCHDOG_PID names the process the watchdog is for: locus itself
sh -c 'export WATCHDOG_PID=$$; exec "$0" -f "$1"' "$BUILD/locus" \
	"$WORK/locus.conf" >>"$WORK/locus.log" 2>&1 &
LOCUS_PID=$!
notify_wait READY=1
[ "$(head -n 1 "$WORK/notify.out")" = READY=1 ] ||
	fail "the first notice is not READY=1: $(head -n 1 "$WORK/notify.out")"
grep -q "locus .* ready" "$WORK/locus.log" ||
	fail "READY=1 came before locus said it was ready"

log "at READY=1 it answers, and knows the bindings of the database"
sip_register "$WORK/q" pbx@example.com "q-$RANDOM" 1 ||
	fail "no answer to a REGISTER right after READY=1"
expect_status "$WORK/q" "200 OK" "query after READY=1"
sip_hdr "$WORK/q" Contact | grep -qF "<sip:pbx@127.0.0.1:5090>" ||
	fail "READY=1 before the bindings were loaded: $(sip_hdr "$WORK/q" Contact)"

log "watchdog pings from the event loop"
notify_wait WATCHDOG=1 3 10
grep -q "service: watchdog ping every 200 ms" "$WORK/locus.log" ||
	fail "no 'watchdog ping every 200 ms' in the log"

log "SIGHUP: the configuration is read again, and locus goes on serving"
kill -HUP "$LOCUS_PID"
kill -HUP "$LOCUS_PID"
for _ in $(seq 1 50); do
	grep -q "reload: .* applied" "$WORK/locus.log" && break
	sleep 0.1
done
grep -q "reload: .* applied" "$WORK/locus.log" ||
	fail "SIGHUP did not reload the configuration"
locus_alive || fail "SIGHUP ended locus"
sip_register "$WORK/r" alice@example.com "hup-$RANDOM" 1 \
	"Contact: <sip:alice@127.0.0.1:5099>" || fail "no answer after SIGHUP"
expect_status "$WORK/r" "200 OK" "REGISTER after SIGHUP"
pings=$(notify_count WATCHDOG=1)
notify_wait WATCHDOG=1 $((pings + 1)) 10

log "SIGTERM: STOPPING=1, exit status 0"
kill -TERM "$LOCUS_PID"
status=0
wait "$LOCUS_PID" || status=$?
LOCUS_PID=
[ $status -eq 0 ] || fail "locus exited $status after SIGTERM"
[ "$(tail -n 1 "$WORK/notify.out")" = STOPPING=1 ] ||
	fail "the last notice is not STOPPING=1: $(tail -n 3 "$WORK/notify.out")"
[ "$(notify_count READY=1)" -eq 1 ] || fail "READY=1 sent more than once"
log "notices: $(sort "$WORK/notify.out" | uniq -c | tr -s ' \n' ' ')"
