# Sourced after lib.sh: a stand-in for systemd's notification socket
# (tests/tools/notify_listen.py), so that a test sees what locus tells
# its service manager: READY=1, WATCHDOG=1, STOPPING=1.
#
#   notify_listen                 start it; exports NOTIFY_SOCKET
#   notify_wait WORD [N] [SECS]   until N WORD lines arrived (at most SECS)
#   notify_count WORD             how many WORD lines arrived so far
# The lines are in $WORK/notify.out, in the order they arrived.

NOTIFY_PID=

service_cleanup() {
	local status=$?
	[ -z "$NOTIFY_PID" ] || kill "$NOTIFY_PID" 2>/dev/null || true
	(exit $status)
	cleanup
}
trap service_cleanup EXIT

notify_listen() {
	: >"$WORK/notify.out"
	python3 "$TOP/tests/tools/notify_listen.py" "$WORK/notify.sock" \
		"$WORK/notify.out" 240 &
	NOTIFY_PID=$!
	for _ in $(seq 1 50); do
		if [ -S "$WORK/notify.sock" ]; then
			export NOTIFY_SOCKET=$WORK/notify.sock
			return 0
		fi
		sleep 0.1
	done
	fail "notify_listen.py did not bind $WORK/notify.sock"
}

notify_count() {
	grep -cx "$1" "$WORK/notify.out" || true
}

notify_wait() {
	local word=$1 n=${2:-1} secs=${3:-15}
	for _ in $(seq 1 $((secs * 10))); do
		[ "$(notify_count "$word")" -ge "$n" ] && return 0
		sleep 0.1
	done
	fail "$word received $(notify_count "$word") time(s) in $secs s," \
		"expected $n; received: $(tr '\n' ' ' <"$WORK/notify.out")"
}
