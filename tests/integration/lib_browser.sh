# Helpers for tests that drive JsSIP in a headless Chromium
# (tests/browser/jssip-client.mjs) against locus's WebSocket listeners.
# Source it after lib.sh, and after lib_baresip.sh when a test uses both:
# its exit trap stops the browsers, then hands over to lib_baresip's.
#
#   br_start NAME ARGS...       runs the harness (ARGS: its options) in the
#                               background; its JSON lines in $WORK/NAME.jsonl
#   br_mark NAME / br_wait NAME EVENT [SECONDS]
#                               waits (10 s by default) for the first line of
#                               EVENT after the mark; the line in BR_LINE
#   br_get FIELD [JSON]         a field of BR_LINE (or JSON), "" when absent
#   br_sip NAME DIR REGEX...    the first traced SIP message (DIR in|out,
#                               needs --trace) whose lines match every
#                               extended REGEX, in BR_SIP; returns 1 if none
#   br_stop NAME                SIGTERM: the harness closes the browser and
#                               exits (at most 10 s); its status in BR_STATUS
#
# Each harness (timeout(1) and node) runs in a session of its own
# (setsid), so that both can be ended by that session's id.  Chromium is
# not in it (Playwright starts it in a session of its own) and needs no
# killing: it talks to node over a pipe (--remote-debugging-pipe) and
# exits when node does, even after SIGKILL.  Every wait is bounded; the
# harness has its own --timeout and runs under timeout(1) as well.

# shellcheck shell=bash
# shellcheck disable=SC2034 # BR_SIP, BR_STATUS are for the tests
# shellcheck disable=SC2016 # the single-quoted programs are JavaScript

BROWSER_DIR=$TOP/tests/browser
declare -A BR_PID=() BR_MARK=()
BR_LINE=
BR_SIP=
BR_STATUS=

# br__reap PID: TERM, at most 10 s, then KILL for the session PID leads.
br__reap() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	process_exited "$pid" || true
	pkill -KILL -s "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# On exit: stop every harness still running; if the test failed, show
# the end of what each reported (SIP traces shortened).
br_exit() {
	local status=$1 n
	for n in "${!BR_PID[@]}"; do
		[ -z "${BR_PID[$n]}" ] || br__reap "${BR_PID[$n]}"
	done
	if [ "$status" -ne 0 ]; then
		for n in "${!BR_PID[@]}"; do
			echo "---- last lines of browser $n's report"
			tail -n 25 "$WORK/$n.jsonl" 2>/dev/null | cut -c 1-600 || true
			[ -s "$WORK/$n.err" ] && { echo "---- its stderr"; tail -n 15 "$WORK/$n.err"; }
		done
	fi
	set +e
	if declare -F bs_exit >/dev/null; then
		bs_exit "$status"
	else
		(exit "$status")
		cleanup
	fi
}
trap 'br_exit $?' EXIT

# br_start NAME ARGS...: the harness, bounded by its --timeout (the test
# passes one) and by timeout(1) at 90 s.
br_start() {
	local name=$1; shift
	[ -d "$BROWSER_DIR/node_modules" ] ||
		fail "$BROWSER_DIR/node_modules is missing: run scripts/deps.sh"
	[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run scripts/deps.sh"
	: >"$WORK/$name.jsonl"
	setsid timeout -k 5 90 node "$BROWSER_DIR/jssip-client.mjs" "$@" \
		>"$WORK/$name.jsonl" 2>"$WORK/$name.err" </dev/null &
	BR_PID[$name]=$!
	BR_MARK[$name]=0
	# br__reap relies on the harness leading its session (setsid forks,
	# and $! is the wrong process, only when it starts a group leader).
	# The background process calls setsid() a moment after it starts:
	# wait for that (at most 2 s) before deciding.
	local sid=
	for _ in $(seq 1 20); do
		sid=$(ps -o sid= -p "${BR_PID[$name]}" | tr -d ' ')
		[ "$sid" = "${BR_PID[$name]}" ] && break
		sleep 0.1
	done
	[ "$sid" = "${BR_PID[$name]}" ] ||
		fail "browser $name does not lead its own session"
}

br_mark() {
	BR_MARK[$1]=$(wc -l <"$WORK/$1.jsonl")
}

# br_wait NAME EVENT [SECONDS]: returns 1 when EVENT did not come in time
# or the harness exited without it.
br_wait() {
	local name=$1 event=$2 pid=${BR_PID[$1]} alive=1
	for _ in $(seq 1 $((${3:-10} * 10))); do
		BR_LINE=$(tail -n +"$((BR_MARK[$name] + 1))" "$WORK/$name.jsonl" |
			grep -m 1 -F "\"event\":\"$event\"" || true)
		[ -z "$BR_LINE" ] || return 0
		[ "$alive" = 1 ] || return 1   # it exited and said all it had
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || alive=0
		sleep 0.1
	done
	return 1
}

# br_get FIELD [JSON]: FIELD of the JSON object (BR_LINE by default);
# arrays one element a line.
br_get() {
	node -e '
		const v = JSON.parse(process.argv[1])[process.argv[2]];
		if (v !== undefined && v !== null)
			console.log(Array.isArray(v) ? v.join("\n") : String(v));
	' "${2:-$BR_LINE}" "$1"
}

# br_sip NAME DIR REGEX...: matching is per line of the message, case
# sensitive, without the CRs; BR_SIP holds the message with LF endings.
br_sip() {
	local name=$1 dir=$2; shift 2
	BR_SIP=$(node -e '
		const fs = require("fs");
		const [file, ev, ...res] = process.argv.slice(1);
		for (const l of fs.readFileSync(file, "utf8").split("\n")) {
			if (!l.includes(`"event":"${ev}"`)) continue;
			const lines = JSON.parse(l).data.split(/\r?\n/);
			if (res.every((r) => lines.some((x) => new RegExp(r).test(x)))) {
				console.log(lines.join("\n"));
				process.exit(0);
			}
		}
		process.exit(1);
	' "$WORK/$name.jsonl" "sip_$dir" "$@") || return 1
}

# br_stop NAME: closes the browser (the harness's SIGTERM handler awaits
# Playwright's browser.close(), which returns once Chromium has exited)
# and waits for the harness to exit; fails when it needed more than 10 s.
br_stop() {
	local name=$1 pid=${BR_PID[$1]}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! process_exited "$pid"; then
		br__reap "$pid"
		BR_PID[$name]=
		fail "browser $name did not close within 10 s of SIGTERM"
	fi
	BR_STATUS=0
	wait "$pid" || BR_STATUS=$?
	BR_PID[$name]=
}
