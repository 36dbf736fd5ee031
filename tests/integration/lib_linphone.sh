# Helpers for tests that drive the real softphone Linphone, as its
# headless daemon linphone-daemon (Debian linphone-cli 5.1.65), against
# locus.  Source it after lib.sh and, when the test also runs baresip,
# after lib_baresip.sh (its EXIT trap then chains to bs_exit).
#
#   ld_new NAME USER [udp|tcp]  config $WORK/NAME/rc: account
#                               sip:USER@example.com (id 1) with locus as
#                               proxy and route over that one transport,
#                               registering at start-up; its own instance
#                               id (LD_UUID[NAME]), SIP port (LD_PORT[NAME],
#                               LD_TP[NAME]) and HOME; no sound card needed
#   ld_start NAME [auto]        starts it (auto: --auto-answer) and waits
#                               until its SIP socket is bound
#   ld_cmd NAME COMMAND...      runs a daemon command; its answer in
#                               LD_DATA (fails on "Status: Error")
#   ld_wait_registered NAME     until register-status says RegistrationOk
#   ld_mark NAME / ld_wait_event NAME STATE [SECONDS]
#                               waits for a call event that came after the
#                               last mark (LinphoneCallIncomingReceived,
#                               ...Connected, ...StreamsRunning, ...End,
#                               ...Released); LD_EVENT is its line
#                               "STATE<TAB>FROM<TAB>ID", ld_event_field 2|3
#                               its From or Id
#   ld_events NAME              the call events since the mark, one a line
#   ld_msgs NAME sent|received START [REGEX...]
#                               SIP messages from linphone's log
#   ld_pub_gruu NAME            LD_PUB_GRUU: the pub-gruu linphone logged
#                               in the 200 OK to its REGISTER
#   ld_reg_states NAME          the registration states linphone logged
#   ld_stop NAME                "quit": linphone de-registers and exits
#
# linphone-daemon without --pipe reads commands from stdin with readline
# (its prompt and the echoed command go to stdout) and prints every call
# state change to stdout as it happens:
#   Event-type: call-state-changed
#   Event: LinphoneCallIncomingReceived
#   From: sip:bob@example.com
#   Id: 1
# ("From" is the From of the call's INVITE: the caller, so linphone's
# own AOR for an outgoing call; "Id" the daemon's call id).  Its
# stdin is a FIFO that stays open until ld_stop: EOF on stdin makes
# 5.1.65 abort (std::logic_error from readline's NULL) without
# de-registering.  SIGTERM kills it without de-registering too, and
# SIGINT is only noticed after the next command line: "quit" is the one
# clean way out.  Registration changes are not events; register-status
# (polled) and the --log file report them.  Every wait is bounded.
# Nothing listens beyond 127.0.0.1.

# shellcheck disable=SC2034 # LD_PORT, LD_UUID, LD_TP, LD_PUB_GRUU are for the tests

declare -A LD_PID=() LD_FD=() LD_PORT=() LD_UUID=() LD_USER=() LD_TP=() LD_MARK=()
LD_DATA=
LD_EVENT=
LD_PUB_GRUU=
LD_PROMPT='daemon-linphone>'

# On exit: kill every linphone still running (no de-registration wait),
# show the end of their output if the test failed, then lib_baresip.sh's
# exit handler when it is loaded, else lib.sh's cleanup (both must see
# the test's exit status).
ld_exit() {
	local status=$1 n
	for n in "${!LD_PID[@]}"; do
		[ -n "${LD_PID[$n]}" ] || continue
		kill -KILL "${LD_PID[$n]}" 2>/dev/null || true
		wait "${LD_PID[$n]}" 2>/dev/null || true
	done
	if [ "$status" -ne 0 ]; then
		for n in "${!LD_USER[@]}"; do
			[ -f "$WORK/$n/stdout" ] || continue
			echo "---- last lines of linphone $n's stdout"
			tail -n 40 "$WORK/$n/stdout"
			echo    # it ends in a prompt, without a newline
		done
	fi
	if declare -F bs_exit >/dev/null; then
		bs_exit "$status"
	else
		set +e
		(exit "$status")
		cleanup
	fi
}
trap 'ld_exit $?' EXIT

# ld__now: milliseconds since the epoch.
ld__now() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# ld__port VAR: free_port without a subshell, so that lib.sh's cleanup
# releases the reservation.
ld__port() {
	free_port >"$WORK/.port"
	printf -v "$1" '%s' "$(cat "$WORK/.port")"
}

# ld_new NAME USER [udp|tcp]: writes $WORK/NAME/rc.  LD_PROXY_EXTRA adds
# lines to the account's [proxy_0] section.
ld_new() {
	local name=$1 user=$2 tp=${3:-udp} dir=$WORK/$1 sip uuid
	[ -n "${LOCUS_PORT:-}" ] || fail "ld_new: write_config first (LOCUS_PORT)"
	# lib_baresip.sh sourced after this file would have replaced
	# ld_exit, and linphones would outlive a failed test.
	case $(trap -p EXIT) in *ld_exit*) ;;
	*) fail "source lib_linphone.sh after lib_baresip.sh" ;; esac
	case $tp in udp | tcp) ;; *) fail "ld_new: transport '$tp'" ;; esac
	# Without HOME/.local/share/linphone the core cannot open its
	# database and never starts: no SIP socket, no REGISTER, and
	# nothing in the log says why.
	mkdir -p "$dir/home/.local/share/linphone"
	ld__port sip
	uuid=$(cat /proc/sys/kernel/random/uuid)
	LD_PORT[$name]=$sip LD_UUID[$name]=$uuid LD_USER[$name]=$user
	LD_TP[$name]=$tp LD_PID[$name]='' LD_FD[$name]='' LD_MARK[$name]=0
	local udp=0 tcp=0 proxy="sip:127.0.0.1:$LOCUS_PORT;transport=$tp"
	# Port 0 disables a transport (-1 would pick a random port).
	if [ "$tp" = tcp ]; then tcp=$sip; else udp=$sip; fi
	# Without a sound card linphone still answers and runs calls but
	# sends no RTP, so nortp_timeout (30 s by default) would end calls
	# between two linphones.  Do not give it ALSA's null device
	# instead: its capture side then reads unpaced, grows by GBs and the
	# daemon hangs in terminate.  RTP stays below the range free_port
	# picks from (20000-59999), like baresip's.
	cat >"$dir/rc" <<CONF
[sip]
sip_port=$udp
sip_tcp_port=$tcp
sip_tls_port=0
bind_address=127.0.0.1
use_ipv6=0
contact=sip:$user@127.0.0.1
register_only_when_network_is_up=0
default_proxy=0
[rtp]
nortp_timeout=3600
audio_rtp_port=10000-19999
video_rtp_port=10000-19999
text_rtp_port=10000-19999
[video]
capture=0
display=0
automatically_initiate=0
automatically_accept=0
[sound]
echocancellation=0
[misc]
uuid=$uuid
[proxy_0]
reg_identity=sip:$user@example.com
reg_proxy=<$proxy>
reg_route=<$proxy>
reg_expires=3600
reg_sendregister=1
publish=0
dial_escape_plus=0
${LD_PROXY_EXTRA:-}
CONF
}

# ld_start NAME [auto]: runs linphone-daemon with its stdin on a FIFO and
# waits (10 s) for its first prompt and its SIP socket on LD_PORT[NAME].
ld_start() {
	local name=$1 dir=$WORK/$1 fd aa=()
	[ "${2:-}" = auto ] && aa=(--auto-answer)
	rm -f "$dir/cmd"
	mkfifo "$dir/cmd"
	# Opened read-write: never blocks, whether or not linphone has
	# opened its end yet.
	exec {fd}<>"$dir/cmd"
	LD_FD[$name]=$fd
	: >"$dir/stdout"
	HOME=$dir/home linphone-daemon --config "$dir/rc" --log "$dir/log" \
		"${aa[@]}" <"$dir/cmd" >"$dir/stdout" 2>&1 &
	LD_PID[$name]=$!
	local hex; hex=$(printf '0100007F:%04X ' "${LD_PORT[$name]}")
	for _ in $(seq 1 100); do
		kill -0 "${LD_PID[$name]}" 2>/dev/null ||
			fail "linphone $name exited during start-up: $(tail -n 5 "$dir/stdout")"
		if grep -qF "$LD_PROMPT" "$dir/stdout" &&
			grep -q "$hex" /proc/net/udp /proc/net/tcp; then
			return 0
		fi
		sleep 0.1
	done
	fail "linphone $name: not listening on 127.0.0.1:${LD_PORT[$name]} after 10 s"
}

# ld_cmd NAME COMMAND...: writes the command line and waits (10 s) for
# its "Status:" and the next prompt; the answer, without the echoed
# command and the prompt, in LD_DATA.  Fails on anything but "Status: Ok".
ld_cmd() {
	local name=$1; shift
	local cmd="$*" out=$WORK/$name/stdout off deadline
	off=$(stat -c %s "$out")
	printf '%s\n' "$cmd" >&"${LD_FD[$name]}" || fail "linphone $name: write failed"
	deadline=$(($(ld__now) + 10000))
	while [ "$(ld__now)" -lt "$deadline" ]; do
		LD_DATA=$(tail -c +"$((off + 1))" "$out")
		if [[ $LD_DATA == *"$cmd"$'\n'*"Status: "*"$LD_PROMPT"* ]]; then
			LD_DATA=${LD_DATA#*"$cmd"$'\n'}
			LD_DATA=${LD_DATA%"$LD_PROMPT"*}
			case $LD_DATA in
			*"Status: Ok"*) return 0 ;;
			*) fail "linphone $name: '$cmd' failed: $LD_DATA" ;;
			esac
		fi
		kill -0 "${LD_PID[$name]}" 2>/dev/null || fail "linphone $name exited"
		sleep 0.05
	done
	fail "linphone $name: no answer to '$cmd' within 10 s"
}

# ld_wait_registered NAME: polls register-status for account 1 until it
# is LinphoneRegistrationOk (10 s); fails at once on ...Failed.
ld_wait_registered() {
	local name=$1 deadline
	deadline=$(($(ld__now) + 10000))
	while [ "$(ld__now)" -lt "$deadline" ]; do
		ld_cmd "$name" register-status 1
		case $LD_DATA in
		*"State: LinphoneRegistrationOk"*) return 0 ;;
		*"State: LinphoneRegistrationFailed"*)
			fail "linphone $name: registration failed" ;;
		esac
		sleep 0.1
	done
	fail "linphone $name: not registered within 10 s: $LD_DATA"
}

# ld_mark NAME: ld_wait_event and ld_events consider only what linphone
# printed after this point.
ld_mark() {
	LD_MARK[$1]=$(stat -c %s "$WORK/$1/stdout")
}

# ld__blocks NAME: the call events after the mark, one a line, as
# "STATE<TAB>FROM<TAB>ID".  Command answers may land between an event's
# lines (the daemon prints them from two threads), so From and Id are
# the first such lines after the Event line.
ld__blocks() {
	tail -c +"$((LD_MARK[$1] + 1))" "$WORK/$1/stdout" | awk '
		function out() { if (ev != "") print ev "\t" from "\t" id; ev = "" }
		/^Event: / { out(); ev = substr($0, 8); from = ""; id = ""; next }
		ev != "" && /^From: / && from == "" { from = substr($0, 7) }
		ev != "" && /^Id: / && id == "" { id = substr($0, 5); out() }
		END { out() }'
}

# ld_wait_event NAME STATE [SECONDS]: waits (10 s by default) for the
# event "Event: STATE" after the mark; LD_EVENT is its "STATE<TAB>FROM<TAB>ID"
# line.  Returns 1 on timeout.
ld_wait_event() {
	local name=$1 state=$2 deadline
	deadline=$(($(ld__now) + ${3:-10} * 1000))
	while :; do
		LD_EVENT=$(ld__blocks "$name" | awk -F '\t' -v s="$state" \
			'$1 == s && $3 != "" { print; exit }')
		[ -z "$LD_EVENT" ] || return 0
		[ "$(ld__now)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# ld_event_field N: field N of LD_EVENT (2: From, 3: Id).
ld_event_field() {
	printf '%s\n' "$LD_EVENT" | cut -f "$1"
}

# ld_events NAME: the states of the call events after the mark.
ld_events() {
	ld__blocks "$1" | cut -f 1
}

# ld_msgs NAME sent|received START [REGEX...]: prints the SIP messages
# linphone logged as sent or received whose first line matches the
# extended regex START and that have, for each further REGEX, a line
# matching it; messages are separated by a line "----".  Returns 1 when
# there is none.  belle-sip logs each datagram or TCP read after a line
# "... message sent to [...]" or "... received [N] new bytes from [...]:";
# a TCP read may hold several messages.
ld_msgs() {
	local name=$1 dir=$2; shift 2
	tr -d '\000' <"$WORK/$name/log" | awk -v dir="$dir" -v nre=$# '
		BEGIN { for (i = 1; i < ARGC; i++) re[i] = ARGV[i]; ARGC = 1 }
		function flush(   i, j, ok) {
			if (n == 0) return
			ok = (line[1] ~ ("^" re[1]))
			for (i = 2; ok && i <= nre; i++) {
				ok = 0
				for (j = 2; j <= n; j++) if (line[j] ~ re[i]) { ok = 1; break }
			}
			if (ok) {
				if (found++) print "----"
				for (j = 1; j <= n; j++) print line[j]
			}
			n = 0
		}
		{ sub(/\r$/, "") }
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:]+ / {
			flush()
			take = (dir == "sent" && /belle-sip-message-channel .*: message sent to \[/) ||
				(dir == "received" && /belle-sip-message-channel .*: received \[[0-9]+\] new bytes from \[/)
			next
		}
		take && (/^SIP\/2\.0 [0-9][0-9][0-9] / || /^[A-Z]+ [^ ]+ SIP\/2\.0$/) { flush() }
		take && ($0 != "" || n > 0) { line[++n] = $0 }
		END { flush(); exit(found ? 0 : 1) }
	' "$@"
}

# ld_pub_gruu NAME: the pub-gruu (RFC 5627 §5.1) of the Contact with
# linphone's own instance id in the last 200 OK to a REGISTER it
# received, in LD_PUB_GRUU (empty when none).
ld_pub_gruu() {
	local name=$1
	LD_PUB_GRUU=$(ld_msgs "$name" received 'SIP/2\.0 200 ' '^CSeq: [0-9]+ REGISTER$' |
		grep -F "+sip.instance=\"<urn:uuid:${LD_UUID[$name]}>\"" | tail -n 1 |
		sed -n 's/^Contact: .*;pub-gruu="\([^"]*\)".*/\1/p' || true)
}

# ld_reg_states NAME: the registration states (LinphoneRegistrationOk...)
# that linphone logged for its account, in order.
ld_reg_states() {
	tr -d '\000' <"$WORK/$1/log" |
		sed -n 's/.*Account .* moving from state \[[A-Za-z]*\] to \[\([A-Za-z]*\)\].*/\1/p'
}

# ld_stop NAME: "quit"; linphone de-registers, then exits (at most 10 s,
# else it is killed and the test fails).
ld_stop() {
	local name=$1 pid=${LD_PID[$1]} fd=${LD_FD[$1]}
	[ -n "$pid" ] || return 0
	{ printf 'quit\n' >&"$fd"; } 2>/dev/null || true
	process_exited "$pid" || true
	exec {fd}>&-
	LD_FD[$name]=
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		LD_PID[$name]=
		fail "linphone $name did not exit within 10 s of quit"
	fi
	wait "$pid" 2>/dev/null || true
	LD_PID[$name]=
}
