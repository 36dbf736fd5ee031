# Helpers for tests that drive the real softphone baresip (Debian
# baresip-core 1.0.0) against locus.  Source it after lib.sh.
#
#   bs_new NAME USER [ANSWERMODE]   config dir $WORK/NAME: account
#                                   sip:USER@example.com through locus
#                                   (outbound, reg-id, GRUU), its own
#                                   instance id (BS_UUID[NAME]) and ports
#   bs_start NAME                   starts it and opens its control socket
#   bs_cmd NAME COMMAND [PARAMS]    runs a ctrl_tcp command; its text in
#                                   BS_DATA (fails when baresip says !ok)
#   bs_mark NAME / bs_wait_event NAME TYPE [SECONDS]
#                                   waits for an event (CALL_ESTABLISHED...)
#                                   that arrived after the last mark
#   bs_wait_registered NAME         waits for the 200 OK registration line
#   bs_pub_gruu NAME                BS_PUB_GRUU from `uastat`
#   bs_events NAME                  the types of the events since the mark
#   bs_stop NAME                    SIGTERM: baresip de-registers and exits
#   locus_msgs sent|received SRC DST START [REGEX...]
#                                   SIP messages from locus.log (debug)
#
# baresip is headless: no stdio module; commands and events go through
# its ctrl_tcp module (JSON in netstrings), spoken here in plain bash over
# /dev/tcp.  ctrl_tcp serves one client at a time and pushes events only
# to it, so each baresip gets one connection that stays open; events read
# while waiting for something else are kept in $WORK/NAME/events.
# Every wait is bounded.  Nothing listens beyond 127.0.0.1.

# shellcheck disable=SC2034 # BS_PORT, BS_UUID, BS_PUB_GRUU are for the tests

# Byte semantics for read -N (netstring lengths count bytes).
export LC_ALL=C

declare -A BS_PID=() BS_FD=() BS_PORT=() BS_CTRL=() BS_UUID=() BS_USER=()
declare -A BS_MARK=() BS_TOK=()
BS_DATA=
BS_PUB_GRUU=

# On exit: stop every baresip still running (at once, no de-registration
# wait), show the end of their logs if the test failed, then lib.sh's
# cleanup (which must see the test's exit status).
bs_exit() {
	local status=$1 n
	for n in "${!BS_PID[@]}"; do
		[ -n "${BS_PID[$n]}" ] || continue
		kill -KILL "${BS_PID[$n]}" 2>/dev/null || true
		wait "${BS_PID[$n]}" 2>/dev/null || true
	done
	if [ "$status" -ne 0 ]; then
		for n in "${!BS_USER[@]}"; do
			[ -f "$WORK/$n/stdout" ] || continue
			echo "---- last lines of baresip $n's output"
			tail -n 30 "$WORK/$n/stdout" | bs_plain
			echo "---- baresip $n's ctrl_tcp events"
			cat "$WORK/$n/events" 2>/dev/null || true
		done
	fi
	# cleanup takes the status from $? and exits with it; errexit must
	# not end the trap at (exit N).
	set +e
	(exit "$status")
	cleanup
}
trap 'bs_exit $?' EXIT

# bs_plain: stdin without ANSI colour codes and CRs (baresip's -s trace).
bs_plain() {
	sed 's/\x1b\[[0-9;]*m//g; s/\r$//'
}

# bs__port VAR: free_port without a subshell, so that lib.sh's cleanup
# releases the reservation.
bs__port() {
	free_port >"$WORK/.port"
	printf -v "$1" '%s' "$(cat "$WORK/.port")"
}

# bs__sip_port VAR: a port P free for UDP and TCP whose P+1 is free too:
# baresip listens for SIP on P (UDP, TCP) and always opens TLS on P+1.
bs__sip_port() {
	local p hex
	for _ in $(seq 1 50); do
		bs__port p
		hex=$(printf ':%04X ' $((p + 1)))
		if ! grep -q "$hex" /proc/net/tcp /proc/net/udp /proc/net/tcp6 \
			/proc/net/udp6 2>/dev/null &&
			mkdir "/tmp/locus-ports/$((p + 1))" 2>/dev/null; then
			PORTS_HELD+=("$((p + 1))")
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	fail "no free port pair for baresip"
}

# bs_new NAME USER [ANSWERMODE]: writes $WORK/NAME/{config,accounts,uuid}.
# ANSWERMODE is auto (default) or manual (then CALL_INCOMING and `accept`).
# BS_ACCOUNT_EXTRA adds account parameters.
bs_new() {
	local name=$1 user=$2 mode=${3:-auto} dir=$WORK/$1 sip ctrl uuid
	[ -n "${LOCUS_PORT:-}" ] || fail "bs_new: write_config first (LOCUS_PORT)"
	mkdir -p "$dir"
	bs__sip_port sip
	bs__port ctrl
	uuid=$(cat /proc/sys/kernel/random/uuid)
	BS_PORT[$name]=$sip BS_CTRL[$name]=$ctrl BS_UUID[$name]=$uuid
	BS_USER[$name]=$user BS_PID[$name]='' BS_MARK[$name]=0 BS_TOK[$name]=0
	: >"$dir/events"
	# The uuid module reads the instance id from here; a trailing
	# newline would become part of +sip.instance.
	printf '%s' "$uuid" >"$dir/uuid"
	# sipnat=outbound makes baresip send reg-id and Supported: gruu;
	# outbound= is locus (no ;lr: baresip adds it to the Route itself).
	echo "<sip:$user@example.com>;sipnat=outbound;outbound=\"sip:127.0.0.1:$LOCUS_PORT\";regint=60;answermode=$mode${BS_ACCOUNT_EXTRA:-}" \
		>"$dir/accounts"
	# RTP below the range free_port picks from (20000-59999): libre
	# retries another port of the range when one is taken.
	cat >"$dir/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$sip
net_interface		127.0.0.1
net_prefer_ipv6		no
dns_server		127.0.0.1:53
call_local_timeout	30
call_max_calls		4
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_source		ausine,440
ausrc_srate		48000
ausrc_channels		2
rtp_ports		10000-19999
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aubridge.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
module_app		debug_cmd.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$ctrl
CONF
}

# bs_start NAME: runs baresip (SIP trace on with BARESIP_TRACE=1) and
# connects to its ctrl_tcp (at most 10 s).
bs_start() {
	local name=$1 dir=$WORK/$1 fd=
	local trace=(); [ -z "${BARESIP_TRACE:-}" ] || trace=(-s)
	baresip -f "$dir" "${trace[@]}" </dev/null >"$dir/stdout" 2>&1 &
	BS_PID[$name]=$!
	for _ in $(seq 1 100); do
		kill -0 "${BS_PID[$name]}" 2>/dev/null ||
			fail "baresip $name exited during start-up: $(bs_plain <"$dir/stdout" | tail -n 5)"
		if grep -q ":$(printf %04X "${BS_CTRL[$name]}") .* 0A " \
			/proc/net/tcp 2>/dev/null; then
			{ exec {fd}<>"/dev/tcp/127.0.0.1/${BS_CTRL[$name]}"; } 2>/dev/null ||
				fd=
			[ -z "$fd" ] || break
		fi
		sleep 0.1
	done
	[ -n "$fd" ] || fail "baresip $name: no ctrl_tcp on port ${BS_CTRL[$name]} after 10 s"
	BS_FD[$name]=$fd
}

# bs__now: milliseconds since the epoch.
bs__now() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# bs__read NAME DEADLINE_MS: reads one netstring from NAME's ctrl_tcp
# into BS_MSG; returns 1 at the deadline, fails on a broken stream.
bs__read() {
	local name=$1 deadline=$2 fd=${BS_FD[$1]} len body comma left
	left=$(($2 - $(bs__now)))
	[ "$left" -gt 0 ] || return 1
	local t; t=$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))
	IFS= read -r -d : -t "$t" -u "$fd" len || return 1
	[[ $len =~ ^[0-9]+$ ]] || fail "baresip $name: bad ctrl_tcp netstring length '$len'"
	IFS= read -r -N "$len" -t 5 -u "$fd" body ||
		fail "baresip $name: ctrl_tcp message cut short"
	IFS= read -r -N 1 -t 5 -u "$fd" comma || comma=
	[ "$comma" = , ] || fail "baresip $name: ctrl_tcp netstring without ','"
	BS_MSG=$body
}

# bs__keep NAME: files BS_MSG when it is an event, one JSON a line.
bs__keep() {
	case $BS_MSG in
	*'"event":true'*) printf '%s\n' "$BS_MSG" >>"$WORK/$1/events" ;;
	esac
}

# bs_cmd NAME COMMAND [PARAMS]: runs a command (reply within 10 s); its
# text (JSON unescaped) in BS_DATA.  Fails when baresip answers ok=false.
bs_cmd() {
	local name=$1 cmd=$2 params=${3:-} js tok deadline
	BS_TOK[$name]=$((BS_TOK[$name] + 1))
	tok="t${BS_TOK[$name]}"
	params=${params//\\/\\\\}; params=${params//\"/\\\"}
	js="{\"command\":\"$cmd\",\"params\":\"$params\",\"token\":\"$tok\"}"
	printf '%d:%s,' "${#js}" "$js" >&"${BS_FD[$name]}" ||
		fail "baresip $name: ctrl_tcp write failed"
	deadline=$(($(bs__now) + 10000))
	while bs__read "$name" "$deadline"; do
		bs__keep "$name"
		case $BS_MSG in *"\"token\":\"$tok\""*) ;; *) continue ;; esac
		BS_DATA=
		if [[ $BS_MSG =~ \"data\":\"(.*)\",\"token\" ]]; then
			BS_DATA=$(printf '%b' "${BASH_REMATCH[1]}" |
				sed 's/\\"/"/g; s/\\\//\//g' | bs_plain)
		fi
		case $BS_MSG in
		*'"ok":true'*) return 0 ;;
		*) fail "baresip $name: '$cmd $params' failed: $BS_DATA" ;;
		esac
	done
	fail "baresip $name: no answer to '$cmd' within 10 s"
}

# bs_mark NAME: bs_wait_event considers only events after this point.
bs_mark() {
	BS_MARK[$1]=$(wc -l <"$WORK/$1/events")
}

# bs_wait_event NAME TYPE [SECONDS]: waits (10 s by default) for an event
# of TYPE after the mark; the JSON in BS_EVENT.  Returns 1 on timeout.
bs_wait_event() {
	local name=$1 type=$2 deadline
	deadline=$(($(bs__now) + ${3:-10} * 1000))
	while :; do
		BS_EVENT=$(tail -n +"$((BS_MARK[$name] + 1))" "$WORK/$name/events" |
			grep -m 1 -F "\"type\":\"$type\"" || true)
		[ -z "$BS_EVENT" ] || return 0
		bs__read "$name" "$deadline" || return 1
		bs__keep "$name"
	done
}

# bs_events NAME [MS]: the types of the events after the mark, one a
# line, after reading whatever arrives within MS milliseconds (500).
bs_events() {
	local name=$1 deadline
	deadline=$(($(bs__now) + ${2:-500}))
	while bs__read "$name" "$deadline"; do bs__keep "$name"; done
	tail -n +"$((BS_MARK[$name] + 1))" "$WORK/$name/events" |
		sed -n 's/.*"type":"\([A-Z_]*\)".*/\1/p'
}

# bs_wait_registered NAME: waits (10 s) for baresip's own report of the
# registration: "USER@example.com: {1/UDP/v4} 200 OK ... [1 binding]".
bs_wait_registered() {
	local name=$1 re
	re="^${BS_USER[$1]}@example\.com: \{1/UDP/v4\} 200 "
	for _ in $(seq 1 100); do
		bs_plain <"$WORK/$name/stdout" | grep -Eq "$re" && return 0
		kill -0 "${BS_PID[$name]}" 2>/dev/null || fail "baresip $name exited"
		sleep 0.1
	done
	fail "baresip $name did not report a 200 OK registration within 10 s: $(bs_plain <"$WORK/$name/stdout" | tail -n 5)"
}

# bs_reg_line NAME: baresip's registration line(s) from its output.
bs_reg_line() {
	bs_plain <"$WORK/$1/stdout" | grep -E "^${BS_USER[$1]}@example\.com: \{" || true
}

# bs_pub_gruu NAME: the pub-gruu that `uastat` shows, in BS_PUB_GRUU
# (empty when baresip has none).  uastat prints " pub-gruu:  sip:...".
bs_pub_gruu() {
	bs_cmd "$1" uastat
	BS_PUB_GRUU=$(printf '%s\n' "$BS_DATA" |
		sed -n 's/^ pub-gruu: *\([^ ]*\) *$/\1/p' | head -n 1)
}

# bs_stop NAME: SIGTERM; baresip de-registers, then exits (at most 10 s,
# else it is killed and the test fails).
bs_stop() {
	local name=$1 pid=${BS_PID[$1]}
	[ -n "$pid" ] || return 0
	local fd=${BS_FD[$name]:-}
	[ -z "$fd" ] || exec {fd}>&-
	BS_FD[$name]=
	kill -TERM "$pid" 2>/dev/null || true
	if ! process_exited "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		BS_PID[$name]=
		fail "baresip $name did not exit within 10 s of SIGTERM"
	fi
	wait "$pid" 2>/dev/null || true
	BS_PID[$name]=
}

# ---- SIP messages in locus.log (LOG_LEVEL=debug) ---------------------

# locus_msgs DIR SRC DST START [REGEX...]: prints every message locus
# logged as DIR (sent|received) from SRC to DST (ip:port, or "*") whose
# first line matches the extended regex START and that has, for each
# further REGEX, a line matching it; messages are separated by a line
# "----".  Returns 1 when there is none.
locus_msgs() {
	local dir=$1 src=$2 dst=$3; shift 3
	awk -v dir="$dir" -v src="$src" -v dst="$dst" -v nre=$# '
		BEGIN { for (i = 1; i < ARGC; i++) re[i] = ARGV[i]; ARGC = 1 }
		function flush(   i, j, ok) {
			if (n == 0) return
			ok = (head ~ ("^" re[1]))
			for (i = 2; ok && i <= nre; i++) {
				ok = 0
				for (j = 1; j <= n; j++) if (line[j] ~ re[i]) { ok = 1; break }
			}
			if (ok) {
				if (found++) print "----"
				print hdr
				for (j = 1; j <= n; j++) print line[j]
			}
			n = 0
		}
		{ sub(/\r$/, "") }
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z / {
			flush()
			take = 0
			if ($3 == dir && (src == "*" || $5 == src) && (dst == "*" || $7 == dst)) {
				take = 1; hdr = $0; first = 1
			}
			next
		}
		take {
			if (first) { head = $0; first = 0 }
			if ($0 != "" || n > 0) line[++n] = $0
		}
		END { flush(); exit(found ? 0 : 1) }
	' "$@" <"$WORK/locus.log"
}
