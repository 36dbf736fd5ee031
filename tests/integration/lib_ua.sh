# Helpers for the tests of locus's own calls (ua/: click-to-call and
# parking).  Source it after lib.sh and lib_proxy.sh.
#
#   originate ARGS...           SELECT locus.originate(ARGS); the id in CALL
#   call_wait ID STATE [SECS]   until locus.calls says STATE for call ID
#                               (5 s by default); fails otherwise
#   call_cause ID               its cause
#   recv_body DEV START N       the body of the Nth message whose first line
#                               matches START that device DEV's sipp
#                               received, as on the wire
#   answer_body DEV REQUEST N  the body of device DEV's 200 to the Nth
#                               REQUEST (e.g. INVITE) it received, found by
#                               CSeq (not a retransmission of an earlier 2xx)
#   caller_bg NAME SCENARIO ARGS...
#                               a sipp client scenario against locus, in the
#                               background, from a port of its own; its files
#                               ${UAS_BASE[NAME]}.*, waited for by uas_wait
#   park_wait SLOT STATE [SECS] until locus.parked's latest row of SLOT says
#                               STATE (5 s by default)
#   same_body WHAT FILE1 FILE2  fails unless the two bodies are equal byte
#                               for byte, and not empty

# originate ARGS: the call's id in CALL.
originate() {
	CALL=$(psql_q "SELECT locus.originate($1)")
	[ -n "$CALL" ] || fail "locus.originate($1) returned nothing"
}

call_wait() {
	local id=$1 want=$2 secs=${3:-5} got=
	for _ in $(seq 1 $((secs * 20))); do
		got=$(psql_q "SELECT state FROM locus.calls WHERE id = $id")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	fail "call $id: state '$got' after $secs s, expected '$want' ($(psql_q "SELECT cause FROM locus.calls WHERE id = $id"))"
}

call_cause() {
	psql_q "SELECT cause FROM locus.calls WHERE id = $1"
}

recv_body() {
	msg_nth "${UAS_BASE[$1]}.msg" received "$2" "$3" | body_of
}

answer_body() {
	local f="${UAS_BASE[$1]}.msg" cseq n i
	cseq=$(msg_nth "$f" received "^$2 " "$3" | hdr_of CSeq)
	[ -n "$cseq" ] || return 0
	n=$(msg_count "$f" sent '^SIP/2.0 2')
	for i in $(seq 1 "$n"); do
		if [ "$(msg_nth "$f" sent '^SIP/2.0 2' "$i" | hdr_of CSeq)" = "$cseq" ]; then
			msg_nth "$f" sent '^SIP/2.0 2' "$i" | body_of
			return 0
		fi
	done
}

same_body() {
	[ -s "$2" ] || fail "$1: no body in $2"
	cmp -s "$2" "$3" || {
		echo "---- $2"; cat -A "$2"; echo "---- $3"; cat -A "$3"
		fail "$1: the bodies differ"
	} >&2
}

caller_bg() {
	local name=$1 scen=$2 base
	shift 2
	alloc_port "DEV_PORT[$name]"
	base="$WORK/uac_${name}_$RANDOM"
	UAS_BASE[$name]=$base
	( cd "$WORK" && exec sipp -sf "$SIPP_DIR/$scen" \
		-i 127.0.0.1 -p "${DEV_PORT[$name]}" -m 1 -default_behaviors -bye \
		-nostdin -timeout 45s -timeout_error \
		-trace_msg -message_file "$base.msg" -trace_logs \
		-log_file "$base.log" -trace_err -error_file "$base.err" \
		"$@" "127.0.0.1:$LOCUS_PORT" >"$base.out" 2>&1 ) &
	UAS_PID[$name]=$!
	SIPP_BG+=("$!")
	wait_udp_bound "${DEV_PORT[$name]}"
}

park_wait() {
	local slot=$1 want=$2 secs=${3:-5} got=
	for _ in $(seq 1 $((secs * 20))); do
		got=$(psql_q "SELECT state FROM locus.parked WHERE slot = '$slot' ORDER BY since DESC LIMIT 1")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	fail "slot $slot: '$got' after $secs s, expected '$want' ($(psql_q "SELECT cause FROM locus.parked WHERE slot = '$slot' ORDER BY since DESC LIMIT 1"))"
}
