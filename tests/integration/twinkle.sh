#!/usr/bin/env bash
# Twinkle (Debian's twinkle, run as "twinkle -c": its command-line mode)
# with 100rel required on its side (ext_100rel=required) registers with
# locus, calls and is called through it, over UDP and then over TCP.  The
# other party is sipp over UDP:
#  - Twinkle calls bob (sipp, tw_uas_100rel.xml): its INVITE requires
#    100rel; bob's reliable 180 (RSeq, SDP answer) reaches Twinkle as bob
#    sent it, and Twinkle's PRACK (RAck) reaches bob as Twinkle sent it;
#    bob hangs up;
#  - a caller (sipp, tw_uac_100rel.xml) calls Twinkle: Twinkle's reliable
#    180 reaches the caller as Twinkle sent it, the caller's PRACK reaches
#    Twinkle as sent; Twinkle answers (CLI "answer"), the caller hangs up.
# Compared end to end: Require, RSeq or RAck, and the body, as the sender
# logged them (sipp's message trace, Twinkle's log) and as the receiver
# did.  Twinkle needs no sound card: ~/.asoundrc of its own HOME makes
# ALSA's default device a null one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

command -v twinkle >/dev/null || fail "twinkle is not installed (scripts/deps.sh)"

TW_PID= TW_FD=
tw_exit() {
	local status=$1
	set +e
	tw_stop
	(exit "$status")
	proxy_cleanup
}
trap 'tw_exit $?' EXIT

# tw_stop: quits Twinkle (CLI "quit"), KILL after 5 s.
tw_stop() {
	[ -n "$TW_PID" ] || return 0
	echo quit >&"$TW_FD" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$TW_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$TW_PID" 2>/dev/null || true
	wait "$TW_PID" 2>/dev/null || true
	exec {TW_FD}>&-
	TW_PID=
}

# tw_start TRANSPORT: Twinkle as tina@example.com over udp or tcp, in a
# HOME of its own ($TW); waits until locus has its binding.
tw_start() {
	local tp=$1 port rtp
	TW=$WORK/tw-$tp
	mkdir -p "$TW/.twinkle"
	alloc_port port
	alloc_port rtp
	printf '%s\n' 'pcm.!default { type null }' 'ctl.!default { type hw card 0 }' \
		>"$TW/.asoundrc"
	cat >"$TW/.twinkle/twinkle.sys" <<SYS
dev_ringtone=alsa:default
dev_speaker=alsa:default
dev_mic=alsa:default
validate_audio_dev=no
log_max_size=50
log_show_sip=yes
sip_port=$port
rtp_port=$rtp
play_ringtone=no
play_ringback=no
SYS
	cat >"$TW/.twinkle/tina.cfg" <<CFG
user_name=tina
user_domain=example.com
user_display=Tina
auth_name=tina
auth_pass=unused
registrar=127.0.0.1:$LOCUS_PORT
outbound_proxy=127.0.0.1:$LOCUS_PORT
all_requests_to_proxy=yes
register_at_startup=yes
registration_time=600
sip_transport=$tp
ext_100rel=required
CFG
	mkfifo "$TW/in"
	exec {TW_FD}<>"$TW/in"
	HOME=$TW twinkle -c -f tina <"$TW/in" >"$TW/out" 2>&1 &
	TW_PID=$!
	for _ in $(seq 1 100); do
		[ "$(psql_q "SELECT transport FROM locus.bindings WHERE aor = 'tina@example.com'")" = "$tp" ] &&
			return 0
		kill -0 "$TW_PID" 2>/dev/null || fail "twinkle exited: $(tail -n 20 "$TW/out")"
		sleep 0.1
	done
	fail "Twinkle did not register over $tp within 10 s: $(tail -n 20 "$TW/out")"
}

# tw_msgs send|recv REGEXP: the messages Twinkle's log shows it sent or
# received whose first line matches REGEXP, each followed by "----".
tw_msgs() {
	awk -v dir="$1" -v re="$2" '
		/^\+\+\+ / { inblk = 0; next }
		/^---$/ { if (keep) print "----"; inblk = 0; keep = 0; next }
		/^Send to: / { inblk = (dir == "send"); first = 1; next }
		/^Received from: / { inblk = (dir == "recv"); first = 1; next }
		inblk && first { keep = ($0 ~ re); first = 0 }
		inblk && keep { sub(/\r$/, ""); print }' "$TW/.twinkle/twinkle.log"
}

# first_msg: the first message of a "----"-separated stream on stdin.
first_msg() {
	awk '/^----$/ { exit } { sub(/\r$/, ""); print }'
}

# same_parts WHAT A B HEADER...: messages A and B (files) have the same
# values of each HEADER and the same body.
same_parts() {
	local what=$1 a=$2 b=$3 h
	shift 3
	[ -s "$a" ] && [ -s "$b" ] || fail "$what: message missing ($a, $b)"
	for h in "$@"; do
		[ -n "$(hdr_of "$h" <"$a")" ] || fail "$what: no $h in $(cat "$a")"
		[ "$(hdr_of "$h" <"$a")" = "$(hdr_of "$h" <"$b")" ] ||
			fail "$what: $h '$(hdr_of "$h" <"$a")' arrived as '$(hdr_of "$h" <"$b")'"
	done
	cmp -s <(body_text <"$a") <(body_text <"$b") ||
		fail "$what: the body changed on the way"
}

# body_text: the body of the message on stdin without CRs and without
# the empty lines that Twinkle's log puts after a message.
body_text() {
	body_of | tr -d '\r' | awk '{ l[NR] = $0 }
		END { n = NR; while (n > 0 && l[n] == "") n--
		      for (i = 1; i <= n; i++) print l[i] }'
}

# tw_calls TRANSPORT: both calls with Twinkle on that transport.
tw_calls() {
	local tp=$1 dev out
	log "$tp: Twinkle calls bob, requiring 100rel"
	uas B tw_uas_100rel.xml
	echo "call sip:bob@example.com" >&"$TW_FD"
	uas_wait B
	dev=${UAS_BASE[B]}.msg
	msg_nth "$dev" sent '^SIP/2.0 180 ' 1 | tr -d '\r' >"$WORK/$tp-180.sent"
	tw_msgs recv '^SIP/2.0 180 ' | first_msg >"$WORK/$tp-180.got"
	same_parts "$tp: bob's reliable 180" "$WORK/$tp-180.sent" \
		"$WORK/$tp-180.got" Require RSeq
	tw_msgs send '^PRACK ' | first_msg >"$WORK/$tp-prack.sent"
	msg_nth "$dev" received '^PRACK ' 1 | tr -d '\r' >"$WORK/$tp-prack.got"
	same_parts "$tp: Twinkle's PRACK" "$WORK/$tp-prack.sent" \
		"$WORK/$tp-prack.got" RAck
	grep -q "^RACK 1 " "${UAS_BASE[B]}.log" || fail "$tp: bob logged no RAck 1"

	log "$tp: a caller calls Twinkle, which requires 100rel"
	uac tw_uac_100rel.xml -key ruri "sip:tina@example.com" &
	out=$!
	# uac ran in a subshell: its files are those of the next call
	UAC_N=$((UAC_N + 1))
	UAC_BASE="$WORK/uac_${UAC_N}_tw_uac_100rel"
	for _ in $(seq 1 100); do
		[ -n "$(tw_msgs send '^SIP/2.0 180 ')" ] && break
		sleep 0.1
	done
	sleep 0.5
	echo answer >&"$TW_FD"
	wait "$out" || fail "$tp: the call to Twinkle failed (sipp caller)"
	tw_msgs send '^SIP/2.0 180 ' | first_msg >"$WORK/$tp-tw180.sent"
	msg_nth "$UAC_BASE.msg" received '^SIP/2.0 180 ' 1 | tr -d '\r' \
		>"$WORK/$tp-tw180.got"
	same_parts "$tp: Twinkle's reliable 180" "$WORK/$tp-tw180.sent" \
		"$WORK/$tp-tw180.got" Require RSeq
	msg_nth "$UAC_BASE.msg" sent '^PRACK ' 1 | tr -d '\r' >"$WORK/$tp-twprack.sent"
	tw_msgs recv '^PRACK ' | first_msg >"$WORK/$tp-twprack.got"
	same_parts "$tp: the caller's PRACK" "$WORK/$tp-twprack.sent" \
		"$WORK/$tp-twprack.got" RAck
}

new_db
start_locus
device B bob@example.com urn:uuid:7f000000-0000-4000-8000-0000000000b0

tw_start udp
tw_calls udp
tw_stop
tw_start tcp
tw_calls tcp
log ok
