# Helpers for the proxy tests (sourced after lib.sh).
#
# A device is a sipp that REGISTERs from a port of its own (p_reg.xml), so
# that locus stores that socket as the device's address, and then one
# sipp UAS scenario at a time on that same port (uas ... in the
# background, uas_wait at the end).  A device that must not ring runs
# p_uas_silent.xml (silent / silent_check).  Callers are sipp scenarios
# (uac) or raw messages (invite_final).  locus logs every SIP message it
# sends and receives (log level debug) so that a failure shows what went
# where.
#
# Every sipp is bounded in time (sipp -timeout, and timeout(1) for the
# ones in the foreground); the ones still running at exit are killed.  An
# unexpected message fails a sipp's call, but sipp sends no BYE or CANCEL
# of its own then (-default_behaviors -bye): a failure stays visible as
# it happened.

LOG_LEVEL=${LOG_LEVEL:-debug}

declare -A DEV_PORT=() DEV_AOR=() DEV_INST=() DEV_PUB=() DEV_TMP=()
declare -A DEV_CALLID=() DEV_CSEQ=() DEV_REGID=()
declare -A UAS_PID=() UAS_BASE=() UAS_N=() UAS_MARK=()
SIPP_BG=()
UAC_N=0
UAC_BASE=
INV_N=0

proxy_cleanup() {
	local status=$? pid
	set +e
	for pid in "${SIPP_BG[@]}"; do
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	( exit $status )
	cleanup
}
trap proxy_cleanup EXIT

# udpua NAME ADDRESS [SECS]: a UA answering everything on ADDRESS:<free
# port> for SECS (120) seconds (tests/tools/udpua.py); sets UA_PORT[NAME],
# its log is $WORK/ua_NAME.log
declare -A UA_PORT=()
udpua() {
	local port
	port=$(free_port)
	UA_PORT[$1]=$port
	python3 "$TOP/tests/tools/udpua.py" "$2" "$port" "$WORK/ua_$1.log" \
		"${3:-120}" >"$WORK/ua_$1.out" 2>&1 &
	SIPP_BG+=("$!")
	for _ in $(seq 1 50); do
		grep -q ready "$WORK/ua_$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "udpua $1 did not start: $(cat "$WORK/ua_$1.out")"
}

# alloc_port VAR: a free port (lib.sh free_port) in VAR; runs free_port in
# this shell so that the reservation is released at exit.
alloc_port() {
	free_port >"$WORK/.port"
	printf -v "$1" '%s' "$(cat "$WORK/.port")"
}

# wait_udp_bound PORT: waits (at most 5 s) until something listens on
# 127.0.0.1:PORT over UDP.
wait_udp_bound() {
	local hex
	hex=$(printf '0100007F:%04X ' "$1")
	for _ in $(seq 1 50); do
		grep -q "$hex" /proc/net/udp && return 0
		sleep 0.1
	done
	fail "nothing bound to UDP port $1 after 5 s"
}

wait_udp_free() {
	local hex
	hex=$(printf '0100007F:%04X ' "$1")
	for _ in $(seq 1 50); do
		grep -q "$hex" /proc/net/udp || return 0
		sleep 0.1
	done
	fail "UDP port $1 still bound after 5 s"
}

# ---- devices ---------------------------------------------------------

# device NAME AOR INSTANCE [REG-ID]: device NAME of AOR (user@domain)
# registers (Expires 3600, reg-id 1 unless given: another reg-id is
# another flow of the same instance) from a port of its own.  Sets
# DEV_PORT[NAME], DEV_PUB[NAME], DEV_TMP[NAME].
device() {
	local name=$1
	alloc_port "DEV_PORT[$name]"
	DEV_AOR[$name]=$2
	DEV_INST[$name]=$3
	DEV_REGID[$name]=${4:-1}
	DEV_CALLID[$name]="reg-$name-$$-$RANDOM@127.0.0.1"
	DEV_CSEQ[$name]=1
	device_register "$name" 3600
	[ -n "${DEV_PUB[$name]}" ] && [ -n "${DEV_TMP[$name]}" ] ||
		fail "device $name: no GRUUs in the 200 to its REGISTER"
}

# device_register NAME EXPIRES: a REGISTER of device NAME with its current
# Call-ID and the next CSeq (EXPIRES 0: deregistration).  Updates
# DEV_PUB/DEV_TMP from the 200 when EXPIRES > 0.
device_register() {
	local name=$1 exp=$2 port=${DEV_PORT[$1]} base status=0
	base="$WORK/reg_${name}_${DEV_CSEQ[$name]}"
	wait_udp_free "$port"
	( cd "$WORK" && timeout 30 sipp -sf "$SIPP_DIR/p_reg.xml" \
		-i 127.0.0.1 -p "$port" -m 1 -default_behaviors -bye -nostdin \
		-timeout 20s -timeout_error \
		-trace_msg -message_file "$base.msg" -trace_logs \
		-log_file "$base.log" -trace_err -error_file "$base.err" \
		-key aor "${DEV_AOR[$name]}" -key inst "${DEV_INST[$name]}" \
		-key regid "${DEV_REGID[$name]}" -key exp "$exp" \
		-key regcseq "${DEV_CSEQ[$name]}" -cid_str "${DEV_CALLID[$name]}" \
		"127.0.0.1:$LOCUS_PORT" >"$base.out" 2>&1 ) || status=$?
	DEV_CSEQ[$name]=$((DEV_CSEQ[$name] + 1))
	if [ $status -ne 0 ]; then
		cat "$base.err" "$base.msg" 2>/dev/null | tail -n 40 >&2
		fail "REGISTER of device $name (Expires $exp): sipp exited $status"
	fi
	if [ "$exp" != 0 ]; then
		DEV_PUB[$name]=$(sed -n 's/^.*PUB \(sip:.*\)$/\1/p' "$base.log" | tail -n 1)
		DEV_TMP[$name]=$(sed -n 's/^.*TMP \(sip:.*\)$/\1/p' "$base.log" | tail -n 1)
	fi
}

# device_new_callid NAME: the device's next REGISTER uses a new Call-ID
# (as after a reboot).
device_new_callid() {
	DEV_CALLID[$1]="reg-$1-$$-$RANDOM-new@127.0.0.1"
}

# ---- sipp on a device's port -----------------------------------------

# uas NAME SCENARIO [sipp args...]: device NAME runs SCENARIO (one call)
# in the background on its port; -key inst, -key dev (NAME) and -key
# contact (UAS_CONTACT, default the registered Contact) are set.
# Returns once the port is bound.  Its files: ${UAS_BASE[NAME]}.{msg,log,
# err,out}.
uas() {
	local name=$1 scen=$2 port=${DEV_PORT[$1]} n base
	shift 2
	n=${UAS_N[$name]:-0}
	UAS_N[$name]=$((n + 1))
	base="$WORK/uas_${name}_$n"
	UAS_BASE[$name]=$base
	UAS_MARK[$name]=$(wc -l <"$WORK/locus.log")
	wait_udp_free "$port"
	case $scen in /*) ;; *) scen=$SIPP_DIR/$scen ;; esac
	( cd "$WORK" && exec sipp -sf "$scen" \
		-i 127.0.0.1 -p "$port" -m 1 -default_behaviors -bye -nostdin \
		-timeout 45s -timeout_error \
		-trace_msg -message_file "$base.msg" -trace_logs \
		-log_file "$base.log" -trace_err -error_file "$base.err" \
		-key inst "${DEV_INST[$name]}" -key dev "$name" \
		-key contact "${UAS_CONTACT:-sip:dev@127.0.0.1:$port}" \
		"$@" >"$base.out" 2>&1 ) &
	UAS_PID[$name]=$!
	SIPP_BG+=("$!")
	wait_udp_bound "$port"
}

# uas_reject NAME CODE REASON HEADER [sipp args...]: device NAME answers
# the INVITE with CODE REASON and the header line HEADER (p_uas_reject.xml;
# sipp -d MS delays the answer).
uas_reject() {
	local name=$1 code=$2 reason=$3 hdr=$4
	shift 4
	sed "s/@CODE@/$code/" "$SIPP_DIR/p_uas_reject.xml" >"$WORK/p_uas_reject_$code.xml"
	uas "$name" "$WORK/p_uas_reject_$code.xml" -key reason "$reason" \
		-key hdr "$hdr" "$@"
}

# uas_wait NAME: waits for device NAME's scenario; fails the test unless
# it ended successfully.
uas_wait() {
	local name=$1 status=0
	wait "${UAS_PID[$name]}" || status=$?
	if [ $status -ne 0 ]; then
		echo "---- device $name (${UAS_BASE[$name]}): sipp exited $status" >&2
		cat "${UAS_BASE[$name]}.err" 2>/dev/null | tail -n 30 >&2
		tail -n 60 "${UAS_BASE[$name]}.msg" >&2 2>/dev/null
		fail "device $name: its scenario failed (sipp status $status)"
	fi
}

# silent NAME: device NAME listens with p_uas_silent.xml; silent_check
# NAME later asserts that nothing reached it.
silent() {
	local name=$1
	uas "$name" p_uas_silent.xml
}

# silent_check NAME WHAT: device NAME must not have received anything
# since silent NAME: stopped with SIGUSR1, its sipp exits 0 having placed
# no call (an INVITE would have made it log RANG and fail its call), and
# locus's log shows nothing sent to its port.
silent_check() {
	local name=$1 what=$2 status=0 port=${DEV_PORT[$1]} sent why=
	kill -USR1 "${UAS_PID[$name]}" 2>/dev/null || true
	wait "${UAS_PID[$name]}" || status=$?
	sent=$(tail -n +"$((UAS_MARK[$name] + 1))" "$WORK/locus.log" |
		grep -c -- "-> 127.0.0.1:$port " || true)
	grep -q RANG "${UAS_BASE[$name]}.log" 2>/dev/null && why="$why, it got an INVITE"
	[ "$sent" = 0 ] || why="$why, locus sent it $sent message(s)"
	[ $status -eq 0 ] || why="$why, its sipp exited $status"
	if [ -n "$why" ]; then
		tail -n 40 "${UAS_BASE[$name]}.msg" >&2 2>/dev/null
		fail "$what: device $name must not ring, but${why#,}"
	fi
}

# locus_sent_to PORT [LINE]: the first line of every message locus sent
# to 127.0.0.1:PORT (its debug log), after line LINE of locus.log.
locus_sent_to() {
	tail -n +"$((${2:-0} + 1))" "$WORK/locus.log" | awk -v to="-> 127.0.0.1:$1 " '
		want { sub(/\r$/, ""); print; want = 0 }
		/ debug sent / && index($0, to) { want = 1 }'
}

# ---- callers ---------------------------------------------------------

# uac SCENARIO [sipp args...]: a caller on a fresh port runs SCENARIO once
# against locus (foreground, bounded); returns sipp's status.  Its files:
# $UAC_BASE.{msg,log,err,out}.
uac() {
	local scen=$1 port status=0
	shift
	alloc_port port
	UAC_N=$((UAC_N + 1))
	UAC_BASE="$WORK/uac_${UAC_N}_${scen%.xml}"
	( cd "$WORK" && timeout 60 sipp -sf "$SIPP_DIR/$scen" \
		-i 127.0.0.1 -p "$port" -m 1 -default_behaviors -bye -nostdin \
		-timeout 45s -timeout_error \
		-trace_msg -message_file "$UAC_BASE.msg" -trace_logs \
		-log_file "$UAC_BASE.log" -trace_err -error_file "$UAC_BASE.err" \
		"$@" "127.0.0.1:$LOCUS_PORT" >"$UAC_BASE.out" 2>&1 ) || status=$?
	if [ $status -ne 0 ]; then
		echo "---- caller $scen ($UAC_BASE): sipp exited $status" >&2
		cat "$UAC_BASE.err" 2>/dev/null | tail -n 30 >&2
		tail -n 60 "$UAC_BASE.msg" >&2 2>/dev/null
	fi
	return $status
}

# ---- sipp message traces ---------------------------------------------

# msgs FILE sent|received: the messages of a sipp -trace_msg file in that
# direction, each followed by a line "----".  CRs are kept.
msgs() {
	awk -v dir="$2" '
		function flush(  i) {
			# sipp writes a newline after each message: not part of it
			if (keep && n && lines[n] == "")
				--n
			for (i = 1; keep && i <= n; i++)
				print lines[i]
			if (keep)
				print "----"
			keep = 0; n = 0
		}
		/^-------------------------------* [0-9]/ { flush(); hdr = 1; next }
		hdr && / message (sent|received) / {
			keep = ($0 ~ (" message " dir " "))
			next
		}
		hdr && /^\r?$/ { hdr = 0; next }
		{ hdr = 0; if (keep) lines[++n] = $0 }
		END { flush() }' "$1"
}

# msg_count FILE sent|received REGEXP: how many messages in that
# direction have a first line matching REGEXP (grep -E).
msg_count() {
	msgs "$1" "$2" | awk -v re="$3" '
		start && $0 ~ re { n++ }
		{ start = ($0 == "----") }
		BEGIN { start = 1 }
		END { print n + 0 }'
}

# msg_nth FILE sent|received REGEXP N: the Nth such message (1-based),
# as it was on the wire (without the "----" line).
msg_nth() {
	msgs "$1" "$2" | awk -v re="$3" -v want="$4" '
		BEGIN { start = 1 }
		start { n += ($0 ~ re); cur = ($0 ~ re) ? n : 0 }
		$0 == "----" { start = 1; cur = 0; next }
		{ start = 0 }
		cur == want { print }'
}

# hdr_of NAME: the values of header NAME (case-insensitive, one a line,
# without CR) of the message on stdin.
hdr_of() {
	awk -v name="$1" '
		BEGIN { name = tolower(name) }
		{ sub(/\r$/, "") }
		NR > 1 && $0 == "" { exit }
		NR > 1 {
			i = index($0, ":")
			if (i && tolower(substr($0, 1, i - 1)) == name) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v
			}
		}'
}

# strip_top_via: the message on stdin without its topmost Via value (what
# a proxy removes from a response it relays): "Via: a, b" becomes
# "Via: b"; a Via line with one value goes.
strip_top_via() {
	awk 'done || !/^[Vv][Ii][Aa][ \t]*:/ { print; next }
		{
			done = 1
			i = index($0, ",")
			if (!i)
				next
			rest = substr($0, i + 1)
			sub(/^[ \t]+/, "", rest)
			print substr($0, 1, index($0, ":")) " " rest
		}'
}

# relayed_intact DEVFILE REGEXP N CALLERFILE WHAT: the Nth message matching
# REGEXP that a device sent (its sipp -trace_msg file) arrived at the
# caller byte for byte, but for locus's Via: it equals one of the messages
# matching REGEXP that the caller received.
relayed_intact() {
	local dev=$1 re=$2 n=$3 caller=$4 i count
	# locus replaces its Record-Route stamp for the callee's requests
	# (ls=u...) by one for the caller's (ls=d...) in every response it
	# relays (RFC 3261 §16.7 step 4): only that may differ, and it must
	msg_nth "$dev" sent "$re" "$n" | strip_top_via |
		sed -E 's/;ls=u[0-9a-f]{32}>/;ls=STAMP>/g' >"$WORK/relayed.want"
	[ -s "$WORK/relayed.want" ] || fail "$5: the device sent no such message"
	count=$(msg_count "$caller" received "$re")
	for i in $(seq 1 "$count"); do
		msg_nth "$caller" received "$re" "$i" |
			sed -E 's/;ls=d[0-9a-f]{32}>/;ls=STAMP>/g' >"$WORK/relayed.got"
		cmp -s "$WORK/relayed.want" "$WORK/relayed.got" && return 0
	done
	echo "---- sent by the device, minus locus's Via (stamps ls=u... as STAMP):" >&2
	cat -A "$WORK/relayed.want" >&2
	echo "---- received by the caller (the first one; stamps ls=d... as STAMP):" >&2
	msg_nth "$caller" received "$re" 1 | cat -A >&2
	fail "$5: not relayed intact"
}

# body_of: the body of the message on stdin (after the empty line).
body_of() {
	awk 'b { print; next } /^\r?$/ { b = 1 }'
}

# ---- raw INVITEs (sipsend) -------------------------------------------

# invite_final RURI [HEADER...]: an INVITE to RURI from a fresh UDP port
# (sipsend), plus the given header lines; waits (at most 8 s) for a final
# response and ACKs it if it is not a 2xx.  The responses are in
# $INV_OUT (final_status, final_hdr read it).  INV_MAXFWD sets the
# Max-Forwards value (default 70), INV_TO the To URI (default RURI),
# INV_SRC the loopback address to send from (default 127.0.0.1).
invite_final() {
	local ruri=$1 branch callid tag via to status=0
	shift
	INV_N=$((INV_N + 1))
	INV_OUT="$WORK/invite_$INV_N.txt"
	branch="z9hG4bK$$x$INV_N$RANDOM"
	callid="inv-$$-$INV_N-$RANDOM@127.0.0.1"
	tag="t$$x$INV_N"
	{
		echo "INVITE $ruri SIP/2.0"
		echo "Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=$branch;rport"
		echo "Max-Forwards: ${INV_MAXFWD:-70}"
		echo "From: <${INV_FROM:-sip:caller@example.com}>;tag=$tag"
		echo "To: <${INV_TO:-$ruri}>"
		echo "Call-ID: $callid"
		echo "CSeq: 1 INVITE"
		echo "Contact: <${INV_CONTACT:-sip:caller@@LOCAL_IP@:@LOCAL_PORT@}>"
		local h
		for h in "$@"; do echo "$h"; done
		echo "Content-Length: 0"
		echo
	} | sip_send_text ${INV_SRC:+-b "$INV_SRC"} -n 1 -w 8000 >"$INV_OUT" ||
		status=$?
	# the non-2xx ACK is hop by hop: same branch and sent-by as the INVITE
	via=$(final_hdr "$INV_OUT" Via | head -n 1)
	to=$(final_hdr "$INV_OUT" To | head -n 1)
	[ -n "$via" ] || return $status
	case $(final_status "$INV_OUT") in
	"SIP/2.0 "[3-6]*)
		printf '%s\n' "ACK $ruri SIP/2.0" "Via: $via" "Max-Forwards: 70" \
			"From: <${INV_FROM:-sip:caller@example.com}>;tag=$tag" "To: $to" \
			"Call-ID: $callid" "CSeq: 1 ACK" "Content-Length: 0" "" |
			sip_send_text ${INV_SRC:+-b "$INV_SRC"} -w 200 >/dev/null ||
			true
		;;
	esac
	return $status
}

# final_status FILE: the status line of the last response in FILE (the
# final one for invite_final), without CR.
final_status() {
	awk '/^SIP\/2\.0 / { sub(/\r$/, ""); s = $0 } END { print s }' "$1"
}

# final_hdr FILE NAME: the values of header NAME of the last response in
# FILE, one a line, without CR.
final_hdr() {
	awk -v name="$2" '
		BEGIN { name = tolower(name) }
		{ sub(/\r$/, "") }
		/^SIP\/2\.0 / { n = 0; inh = 1; delete v; next }
		/^----$/ || $0 == "" { inh = 0; next }
		inh {
			i = index($0, ":")
			if (i && tolower(substr($0, 1, i - 1)) == name) {
				x = substr($0, i + 1); sub(/^[ \t]+/, "", x); v[++n] = x
			}
		}
		END { for (i = 1; i <= n; i++) print v[i] }' "$1"
}

# expect_final "CODE REASON" WHAT: the final response to the last
# invite_final was exactly that.
expect_final() {
	local got; got=$(final_status "$INV_OUT")
	[ "$got" = "SIP/2.0 $1" ] ||
		fail "$2: expected 'SIP/2.0 $1', got '${got:-no response}'"
}

# ---- checks that let the test go on ----------------------------------

# For independent cases in one script: soft_fail records a failure and the
# test goes on; soft_done fails the test if any was recorded.
SOFT_FAILURES=()

soft_fail() {
	echo "FAIL: $*" >&2
	SOFT_FAILURES+=("$*")
}

soft_done() {
	[ ${#SOFT_FAILURES[@]} -eq 0 ] && return 0
	printf '  - %s\n' "${SOFT_FAILURES[@]}" >&2
	fail "${#SOFT_FAILURES[@]} check(s) failed (listed above)"
}
