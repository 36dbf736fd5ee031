# bench/run.sh's scale measurements (sourced after lib.sh and loads.sh):
# memory and start-up time with N bindings in PostgreSQL.
#
# Each server writes one binding itself (AOR tmpl@example.com, instance
# ...999999999999) through a REGISTER; SQL copies its rows N times,
# renamed s1..sN, so each server loads rows of its own making.  Memory is
# the PSS summed over the server's processes (Kamailio's children share
# its memory; PSS counts a shared page once), read 5 s after the last
# copy routes (Kamailio answers before its usrloc has loaded);
# per binding is (memory with N - memory with none) / N.
#
# Then locus's resync with N bindings (resync_measure): on its own, without
# Kamailio or the loads,
#
#   bench/scale.sh resync [N]      # N defaults to 1000000
set -euo pipefail

SCALE_COUNTS=${SCALE_COUNTS:-100000 1000000}
declare -A STARTUP MEM

template_register() {
	printf 'SEQUENTIAL\ntmpl;unused;00000000-0000-4000-8000-999999999999\n' \
		>"$STATE/tmpl.csv"
	prefill "$STATE/tmpl.csv" 1 -cid_str "tmpl-%u@bench"
}

# The substitutions that turn the template's values into copy i's.
USER_I="replace(%s, 'tmpl', 's' || i)"
UUID_I="replace(%s, '999999999999', lpad(i::text, 12, '0'))"
copy_of() {   # copy_of COLUMN user|uuid: the SQL for copy i's value
	# shellcheck disable=SC2059
	case $2 in user) printf "$USER_I" "$1" ;; uuid) printf "$UUID_I" "$1" ;; esac
}

locus_fill() {   # locus_fill N
	psql_db locus <<SQL
SET locus.writer = 'on';   -- no notification per row: no node listens
INSERT INTO locus.instance (aor, instance, generation, call_id,
                            first_seen, updated_at)
SELECT $(copy_of aor user), $(copy_of instance uuid), generation,
       $(copy_of call_id user), first_seen, updated_at
  FROM locus.instance, generate_series(1, $1) i WHERE aor = 'tmpl@example.com';
INSERT INTO locus.location (aor, binding_key, contact, params, instance,
       reg_id, q, expires, call_id, cseq, path, received, transport,
       user_agent, updated_at)
SELECT $(copy_of aor user), $(copy_of binding_key uuid),
       $(copy_of contact user), params, $(copy_of instance uuid), reg_id, q,
       expires, $(copy_of call_id user), cseq, path, received, transport,
       user_agent, updated_at
  FROM locus.location, generate_series(1, $1) i WHERE aor = 'tmpl@example.com';
DELETE FROM locus.location WHERE aor = 'tmpl@example.com';
DELETE FROM locus.instance WHERE aor = 'tmpl@example.com';
SQL
}

kamailio_fill() {   # kamailio_fill N
	psql_db kamailio <<SQL
INSERT INTO location (ruid, username, domain, contact, received, path,
       expires, q, callid, cseq, last_modified, flags, cflags, user_agent,
       socket, methods, instance, reg_id, server_id, connection_id,
       keepalive, partition)
SELECT ruid || '-' || i, $(copy_of username user), domain,
       $(copy_of contact user), received, path, expires, q,
       $(copy_of callid user), cseq, last_modified, flags, cflags,
       user_agent, socket, methods, $(copy_of instance uuid), reg_id,
       server_id, connection_id, keepalive, partition
  FROM location, generate_series(1, $1) i WHERE username = 'tmpl';
DELETE FROM location WHERE username = 'tmpl';
SQL
}

server_pss_kb() {
	for p in $(proc_tree "$SERVER_PID"); do
		awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup"
	done | awk '{ s += $1 } END { print s + 0 }'
}

# scale_measure SERVER N: start-up time and memory with N bindings.
scale_measure() {
	local server=$1 n=$2
	server_truncate
	if [ "$n" -gt 0 ]; then
		server_launch "$server"
		template_register
		server_stop
		"${server}_fill" "$n" >/dev/null
	fi
	# ready when the last copy routes; info: locus logs how many
	# bindings it loaded
	LOCUS_LOG_LEVEL=info server_launch "$server" \
		"$([ "$n" -gt 0 ] && echo "s$n")"
	sleep 5
	STARTUP[$server/$n]=$LAUNCH_S
	MEM[$server/$n]=$(server_pss_kb)
	server_stop
	say "$server with $n bindings: up in $LAUNCH_S s, ${MEM[$server/$n]} kB" \
		"$( [ "$server" = locus ] && grep -o 'loaded [0-9]* binding' "$STATE/locus.log" | tail -1)"
	if [ "$server" = locus ] && [ "$n" -gt 0 ]; then
		resync_measure "$n"
	fi
}

# ---- locus's resync after losing its LISTEN connection ------------------

declare -A RESYNC_S RESYNC_TURN_MS

# The OPTIONS prober: one to sip:example.com every 5 ms from one socket;
# for each answer, a line "SENT_MS RTT_MS" (SENT_MS: wall clock, ms since
# the epoch) on stdout; runs until the file STOP exists.  An answer late
# by T ms means the event loop was busy for about T ms.
options_probe() {   # options_probe PORT STOP
	python3 - "$1" "$2" <<'PY'
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setblocking(False)
lport, sent, n = s.getsockname()[1], {}, 0
nxt = time.monotonic()
while not os.path.exists(stop):
    now = time.monotonic()
    if now >= nxt:
        n += 1
        sent[n] = (time.time_ns() // 1000000, now)
        s.sendto((f"OPTIONS sip:example.com SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKp{n}\r\n"
                  "From: <sip:probe@example.com>;tag=probe\r\n"
                  "To: <sip:example.com>\r\n"
                  f"Call-ID: probe-{os.getpid()}\r\nCSeq: {n} OPTIONS\r\n"
                  "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", port))
        nxt += 0.005
    try:
        while True:
            data = s.recv(65535)
            for line in data.split(b"\r\n"):
                if line.lower().startswith(b"cseq:"):
                    k = int(line.split()[1])
                    if k in sent:
                        ms, t0 = sent.pop(k)
                        print(ms, round((time.monotonic() - t0) * 1000, 1))
    except (BlockingIOError, ConnectionRefusedError):
        pass
    time.sleep(0.0005)
PY
}

log_ms() {   # log_ms LINE: a locus log line's time, ms since the epoch
	date -u -d "$(cut -d' ' -f1 <<<"$1" | tr T ' ' | tr -d Z)" +%s%3N
}

# resync_measure N: locus on the N bindings in the database (scale_measure
# left them there) loses its LISTEN connection to pg_terminate_backend
# and reloads every AOR (location/sync.c).  RESYNC_S: seconds from the
# loss to the end of the resync (the first second of it is the reconnect
# delay); RESYNC_TURN_MS: the latest answer to an OPTIONS sent meanwhile,
# the longest the resync held locus's event loop.  At log level debug:
# a locus without the "resync done" line is done at its last reload.
resync_measure() {
	local n=$1 probe_pid lost end lines count before=0 quiet=0
	# lines of the log since the cut that match PATTERN (grep -c reads
	# them all: a grep -q would leave tail to die of SIGPIPE)
	logged() { tail -n +"$lines" "$STATE/locus.log" | grep -c -E "$1" || true; }
	LOCUS_LOG_LEVEL=debug server_launch locus "s$n"
	rm -f "$STATE/probe.stop"
	options_probe "$LOCUS_PORT" "$STATE/probe.stop" >"$STATE/probe.out" &
	probe_pid=$!
	sleep 2
	lines=$(wc -l <"$STATE/locus.log")
	psql_db locus -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	                  WHERE datname = 'locus' AND query = 'LISTEN locus_change'" \
		>/dev/null
	# done when locus says so; a locus that does not (it does not
	# announce the resync either) when no reload has been logged for 5 s;
	# at most 10 minutes
	for _ in $(seq 1 600); do
		sleep 1
		[ "$(logged 'sync: resync done')" -gt 0 ] && break
		[ "$(logged 'sync: reloading every AOR')" -gt 0 ] && continue
		count=$(logged 'sync: reloaded')
		if [ "$count" -gt 0 ] && [ "$count" = "$before" ]; then
			quiet=$((quiet + 1))
			[ $quiet -ge 5 ] && break
		else
			quiet=0
		fi
		before=$count
	done
	touch "$STATE/probe.stop"
	wait "$probe_pid" || true
	server_stop
	lost=$(log_ms "$(tail -n +"$lines" "$STATE/locus.log" | grep -m1 'LISTEN connection lost')")
	end=$(log_ms "$(tail -n +"$lines" "$STATE/locus.log" |
		grep -E 'sync: (resync done|reloaded)' | tail -n 1)")
	RESYNC_S[$n]=$(awk -v a="$lost" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
	RESYNC_TURN_MS[$n]=$(awk -v a="$lost" -v b="$end" \
		'$1 >= a && $1 <= b && $2 > m { m = $2 } END { print m + 0 }' "$STATE/probe.out")
	say "locus with $n bindings: resync after a lost LISTEN connection" \
		"${RESYNC_S[$n]} s (from the loss, reconnect delay included)," \
		"slowest OPTIONS answer meanwhile ${RESYNC_TURN_MS[$n]} ms" \
		"($(awk -v a="$lost" -v b="$end" '$1 >= a && $1 <= b' "$STATE/probe.out" | wc -l) answered)"
}

scale_run() {
	for n in 0 $SCALE_COUNTS; do
		for server in ${SERVERS//,/ }; do
			scale_measure "$server" "$n"
		done
	done
	server_truncate
}

# bench/scale.sh resync [N]: the resync measurement alone.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = resync ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	. "$top/bench/lib.sh"
	. "$top/bench/loads.sh"
	n=${2:-1000000}
	bench_setup_locus
	psql_db locus -c "TRUNCATE locus.location, locus.instance"
	server_launch locus
	template_register
	server_stop
	locus_fill "$n" >/dev/null
	resync_measure "$n"
fi
