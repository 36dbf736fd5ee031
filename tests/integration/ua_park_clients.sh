#!/usr/bin/env bash
# Call parking with real softphones: Linphone alice (linphone-daemon)
# calls Linphone bob (--auto-answer); bob parks her with a blind transfer
# (REFER, RFC 3515) to slot 701; baresip 1.0.0 carol dials 701 and picks
# her up.  (Linphone, as transferor, puts Referred-By in its REFER and,
# as transferee, in its INVITE to the slot: baresip 1.0.0 does neither,
# and a park without Referred-By has no parker to call back.)  Then bob parks her again and nobody picks her up: after
# the park timeout locus calls bob back (the Referred-By of alice's
# INVITE to the slot) and joins them.  What is asserted is what the
# phones report (Linphone's call states, baresip's ctrl_tcp events),
# locus.parked at each step, and the SDP alice's phone received.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"
. "$(dirname "$0")/lib_linphone.sh"
. "$(dirname "$0")/lib_ua.sh"

LOG_LEVEL=debug
new_db
write_config
echo 'features = { park = { slots = "701-709"; timeout = 4; }; };' \
	>>"$WORK/locus.conf"
start_locus
L=127.0.0.1:$LOCUS_PORT

ld_new alice alice udp
ld_new bob bob udp
bs_new carol carol auto
ld_start alice
ld_start bob auto
bs_start carol
ld_wait_registered alice
ld_wait_registered bob
bs_wait_registered carol
A=127.0.0.1:${LD_PORT[alice]}

ev() {
	bs_wait_event "$1" "$2" "${4:-10}" ||
		fail "$3: $1 reported no $2; its events: $(bs_events "$1" | tr '\n' ' ')"
}
lev() {
	ld_wait_event "$1" "LinphoneCall$2" ||
		fail "$3: $1 reported no LinphoneCall$2 within 10 s; its events: $(ld_events "$1" | tr '\n' ' ')"
}
# parked_row: "slot|parked|parked_by|state" of the latest park.
parked_row() {
	psql_q "SELECT slot || '|' || parked || '|' || coalesce(parked_by, '') || '|' || state FROM locus.parked ORDER BY since DESC LIMIT 1"
}
# park_by_transfer WHAT: alice calls bob, bob transfers her to 701, and
# her phone's call to the slot is up.
park_by_transfer() {
	local id
	ld_mark bob; ld_mark alice
	ld_cmd alice call sip:bob@example.com
	lev bob StreamsRunning "$1: alice's call"
	id=$(ld_event_field 3)
	lev alice StreamsRunning "$1: alice's call"
	ld_mark bob; ld_mark alice
	ld_cmd bob call-transfer "$id" sip:701@example.com
	lev alice Refered "$1: bob's transfer"
	lev bob End "$1: the transfer"
	park_wait 701 parked
	# an answer in which no media flows: the call is on hold for her
	lev alice PausedByRemote "$1: alice's call to the slot"
	case $(parked_row) in
	"701|sip:alice@example.com|sip:bob@example.com"*"|parked") ;;
	*) fail "$1: locus.parked: $(parked_row)" ;;
	esac
}

log "1. bob parks alice in 701; carol picks her up"
park_by_transfer "park 1"
bs_mark carol; ld_mark alice
bs_cmd carol dial sip:701@example.com
ev carol CALL_ESTABLISHED "carol's call to 701"
# the re-INVITE takes her call off hold
lev alice StreamsRunning "the re-INVITE to the parked call"
park_wait 701 retrieved
# the re-INVITE alice's phone received carries carol's offer as locus
# received it from carol's phone
carol_sdp=$(locus_msgs received "127.0.0.1:${BS_PORT[carol]}" "$L" \
	'INVITE sip:701@example\.com' | awk 'b; /^$/ { b = 1 }' | sed '/^$/d')
[ -n "$carol_sdp" ] || fail "locus.log: no INVITE from carol to 701"
alice_sdp=$(ld_msgs alice received 'INVITE ' | awk 'b; /^$/ { b = 1 } /^----$/ { b = 0; n++ }' |
	sed '/^$/d; /^----$/d' | tail -n "$(wc -l <<<"$carol_sdp")")
[ "$alice_sdp" = "$carol_sdp" ] ||
	fail "the parked phone did not get carol's SDP: got
$alice_sdp
expected
$carol_sdp"
bs_mark carol; ld_mark alice
bs_cmd carol hangup
lev alice End "carol's hang-up"

log "2. bob parks alice again; the timeout rings bob back"
park_by_transfer "park 2"
ld_mark bob; ld_mark alice
# bob's phone answers at once: 'calling parker' is in locus.parked for
# moments only (ua_park.sh watches it there with a phone that waits)
lev bob StreamsRunning "the call back to the parker"
lev alice StreamsRunning "the re-INVITE with bob's offer"
park_wait 701 returned
grep -q "(slot 701): parked -> calling parker" "$WORK/locus.log" ||
	fail "locus.log: the park did not go to 'calling parker'"
ld_mark bob; ld_mark alice
ld_cmd bob terminate
lev alice End "bob's hang-up"
[ "$(psql_q "SELECT count(*) FROM locus.parked WHERE ended_at IS NULL")" = 0 ] ||
	fail "parks left over: $(psql_q 'TABLE locus.parked')"

ld_stop alice
ld_stop bob
bs_stop carol
log "ok"
