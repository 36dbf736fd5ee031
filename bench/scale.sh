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
	local pids=$SERVER_PID
	[ "$SERVER_PORT" = "$KAMAILIO_PORT" ] && pids=$(pgrep -f "kamailio -f $STATE")
	for p in $pids; do
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
}

scale_run() {
	for n in 0 $SCALE_COUNTS; do
		for server in ${SERVERS//,/ }; do
			scale_measure "$server" "$n"
		done
	done
	server_truncate
}
