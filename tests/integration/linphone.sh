#!/usr/bin/env bash
# Linphone through locus: two linphone-daemons (Debian
# linphone-cli 5.1.65) register over UDP (carol) and over TCP (dave); a
# baresip 1.0.0 (bob) auto-answers.  What is asserted comes from the
# clients' own reports (daemon events and answers, linphone's log of its
# SIP traffic, baresip's ctrl_tcp events), locus's log and database only
# add where the messages went.  For each linphone:
#  1. register-status says LinphoneRegistrationOk, and the 200 OK it
#     received to its REGISTER gave it the pub-gruu
#     sip:USER@example.com;gr=urn:uuid:<its instance id> (RFC 5627 §5.1);
#     locus's binding has its Contact and the transport it used.
#  2. bob dials sip:USER@example.com; linphone (--auto-answer) reports
#     IncomingReceived from bob, Connected, StreamsRunning, and bob
#     CALL_ESTABLISHED.  bob hangs up: linphone's 200 OK carried its GRUU as
#     Contact (linphone's log shows it), so bob's BYE goes to that GRUU and
#     locus must route it to linphone (RFC 5627 §6.1), which reports End
#     and Released.
#  3. linphone dials sip:bob@example.com (its INVITE's Contact: its GRUU):
#     OutgoingInit ... Connected, StreamsRunning, and bob CALL_ESTABLISHED
#     with USER as peer; linphone hangs up: Released, and bob CALL_CLOSED.
#  4. "quit": linphone logs LinphoneRegistrationCleared and its binding
#     is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"
. "$(dirname "$0")/lib_linphone.sh"

LOG_LEVEL=debug
new_db
write_config
start_locus
L=127.0.0.1:$LOCUS_PORT

ld_new carol carol udp
ld_new dave dave tcp
bs_new bob bob auto
ld_start carol auto
ld_start dave auto
bs_start bob
ld_cmd carol version
log "linphone-daemon: $(printf '%s\n' "$LD_DATA" | sed -n 's/^Version: //p')"
B=127.0.0.1:${BS_PORT[bob]}

# ld_seq LD WHAT STATE...: linphone LD's call events since the mark hold
# the given LinphoneCall* states in this order (others may come between),
# and no Error.
ld_seq() {
	local ld=$1 what=$2; shift 2
	local want=("$@") i=0 e got
	got=$(ld_events "$ld" | tr '\n' ' ')
	for e in $got; do
		[ "$e" != LinphoneCallError ] ||
			fail "$what: linphone $ld reported an error: $got"
		if [ $i -lt ${#want[@]} ] && [ "$e" = "LinphoneCall${want[$i]}" ]; then
			i=$((i + 1))
		fi
	done
	[ $i -eq ${#want[@]} ] ||
		fail "$what: linphone $ld reported '$got', expected the states $* in this order"
}
# ld_ev LD STATE WHAT: waits (10 s) for that call event at LD.
ld_ev() {
	ld_wait_event "$1" "LinphoneCall$2" ||
		fail "$3: linphone $1 reported no LinphoneCall$2 within 10 s; its events: $(ld_events "$1" | tr '\n' ' ')"
}
# bs_ev UA TYPE WHAT: waits (10 s) for that event at baresip UA.
bs_ev() {
	bs_wait_event "$1" "$2" ||
		fail "$3: baresip $1 reported no $2 within 10 s; its events: $(bs_events "$1" | tr '\n' ' ')"
}

ld_wait_registered carol
ld_wait_registered dave
bs_wait_registered bob

for ld in carol dave; do
	user=${LD_USER[$ld]}
	tp=${LD_TP[$ld]}
	gruu="sip:$user@example.com;gr=urn:uuid:${LD_UUID[$ld]}"
	gruu_re=${gruu//./\\.}
	P=127.0.0.1:${LD_PORT[$ld]}

	log "1. $ld ($tp) registered; its pub-gruu"
	ld_pub_gruu "$ld"
	[ "$LD_PUB_GRUU" = "$gruu" ] ||
		fail "$ld: the pub-gruu in the 200 OK to its REGISTER is '$LD_PUB_GRUU', expected $gruu"
	# Over TCP, received is the port linphone connected from, not P.
	b=$(psql_q "SELECT transport || ' ' || contact FROM locus.bindings
	            WHERE aor = '$user@example.com'
	              AND instance = 'urn:uuid:${LD_UUID[$ld]}'")
	[ "$b" = "$tp sip:$user@$P;transport=$tp" ] ||
		fail "$ld: binding '$b', expected '$tp sip:$user@$P;transport=$tp'"
	# where locus sends requests for it: P, or the TCP connection's end
	R=$(psql_q "SELECT received FROM locus.bindings
	            WHERE instance = 'urn:uuid:${LD_UUID[$ld]}'")
	[ "$tp" = tcp ] || [ "$R" = "$P" ] ||
		fail "$ld: binding's received address '$R', expected $P"

	log "2. bob dials sip:$user@example.com; $ld auto-answers"
	ld_mark "$ld"; bs_mark bob
	bs_cmd bob dial "sip:$user@example.com"
	ld_ev "$ld" IncomingReceived "bob's call"
	[ "$(ld_event_field 2)" = sip:bob@example.com ] ||
		fail "$ld: incoming call from '$(ld_event_field 2)', expected sip:bob@example.com"
	ld_ev "$ld" StreamsRunning "bob's call"
	bs_ev bob CALL_ESTABLISHED "bob's call to $user"
	case $BS_EVENT in *"\"peeruri\":\"sip:$user@example.com\""*) ;;
	*) fail "bob's call established with the wrong peer: $BS_EVENT" ;; esac
	ld_seq "$ld" "bob's call" IncomingReceived Connected StreamsRunning

	# linphone's own log of its 200 OK: its GRUU as Contact (RFC 5627 §4.4)
	ld_msgs "$ld" sent 'SIP/2\.0 200 ' '^CSeq: [0-9]+ INVITE$' "^Contact: <$gruu_re>" \
		>/dev/null || fail "$ld: its 200 OK to bob's INVITE did not carry Contact: <$gruu>"

	log "bob hangs up: his BYE goes to $ld's GRUU"
	ld_mark "$ld"; bs_mark bob
	bs_cmd bob hangup
	bs_ev bob CALL_CLOSED "bob's hang-up"
	ld_ev "$ld" Released "bob's hang-up"
	ld_seq "$ld" "bob's hang-up" End Released
	locus_msgs received "$B" "$L" "BYE $gruu SIP/2.0" >/dev/null ||
		fail "locus.log: bob's BYE was not addressed to $ld's GRUU $gruu"
	locus_msgs sent "$L" "$R" 'BYE ' >/dev/null ||
		fail "locus.log: locus did not send bob's BYE to $ld at $R"

	log "3. $ld dials sip:bob@example.com; bob auto-answers"
	ld_mark "$ld"; bs_mark bob
	ld_cmd "$ld" call sip:bob@example.com
	ld_ev "$ld" StreamsRunning "$ld's call"
	bs_ev bob CALL_ESTABLISHED "$ld's call to bob"
	case $BS_EVENT in *"\"peeruri\":\"sip:$user@example.com\""*) ;;
	*) fail "$ld's call established at bob with the wrong peer: $BS_EVENT" ;; esac
	ld_seq "$ld" "$ld's call" OutgoingInit Connected StreamsRunning
	ld_msgs "$ld" sent 'INVITE sip:bob@example\.com ' "^Contact: <$gruu_re>" >/dev/null ||
		fail "$ld: its INVITE to bob did not carry Contact: <$gruu>"
	ld_cmd "$ld" call-status
	[[ $LD_DATA == *"State: LinphoneCallStreamsRunning"*"Direction: out"* ]] ||
		fail "$ld: call-status during its call to bob: $LD_DATA"

	log "$ld hangs up"
	ld_mark "$ld"; bs_mark bob
	ld_cmd "$ld" terminate
	ld_ev "$ld" Released "$ld's hang-up"
	ld_seq "$ld" "$ld's hang-up" End Released
	bs_ev bob CALL_CLOSED "$ld's hang-up"

	log "4. $ld quits: it de-registers"
	ld_stop "$ld"
	[ "$(ld_reg_states "$ld" | tail -n 1)" = LinphoneRegistrationCleared ] ||
		fail "$ld: registration states logged: $(ld_reg_states "$ld" | tr '\n' ' ')(expected ...Cleared last)"
	[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = '$user@example.com'")" = 0 ] ||
		fail "$ld's binding is left after quit: $(psql_q "SELECT contact FROM locus.bindings WHERE aor = '$user@example.com'")"
done

bs_stop bob
[ "$(psql_q "SELECT count(*) FROM locus.bindings")" = 0 ] ||
	fail "bindings left after every phone quit: $(psql_q 'TABLE locus.bindings')"
log "ok"
