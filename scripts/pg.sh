#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory of our own: no system
# service, no TCP (unix socket only), trust authentication on that socket.
#
#   scripts/pg.sh init  DIR     create the cluster (first time only)
#   scripts/pg.sh start DIR     start it; the socket is in DIR/run
#   scripts/pg.sh stop  DIR     stop it
#   scripts/pg.sh status DIR    exit 0 when it runs
#   scripts/pg.sh schema DIR DB load sql/schema.sql into DB (created if new)
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# 'postgres' OS user, which must be able to reach DIR.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: pg.sh init|start|stop|schema DIR [DB]}
dir=${2:?usage: pg.sh init|start|stop|schema DIR [DB]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "pg: PostgreSQL server not installed; run scripts/deps.sh" >&2; exit 1; }

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# The server user needs to traverse every parent of DIR; as root we grant
# only that (o+x, no listing) where it is missing, and say so.
grant_traversal() {
	[ "$(id -u)" -eq 0 ] || return 0
	local d=$dir
	while [ "$d" != "/" ]; do
		d=$(dirname "$d")
		if ! runuser -u postgres -- test -x "$d"; then
			echo "pg: allowing user postgres to traverse $d (chmod o+x)"
			chmod o+x "$d"
		fi
	done
}

case $cmd in
init)
	[ -f "$dir/data/PG_VERSION" ] && exit 0
	grant_traversal
	mkdir -p "$dir/data" "$dir/run"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir" "$dir/data" "$dir/run"
	as_owner "$pgbin/initdb" -D "$dir/data" -U locus -A trust \
		-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
	cat >>"$dir/data/postgresql.conf" <<CONF
# written by scripts/pg.sh: private cluster, unix socket only
listen_addresses = ''
unix_socket_directories = '$dir/run'
fsync = on
synchronous_commit = on
CONF
	;;
start)
	as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		start >/dev/null
	;;
stop)
	as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
	;;
status)
	[ -f "$dir/data/PG_VERSION" ] &&
		as_owner "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
	;;
schema)
	db=${3:-locus}
	psql -h "$dir/run" -U locus -d postgres -qtAX \
		-c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
		psql -h "$dir/run" -U locus -d postgres -qX \
			-c "CREATE DATABASE \"$db\""
	psql -h "$dir/run" -U locus -d "$db" -qX -v ON_ERROR_STOP=1 \
		-f "$top/sql/schema.sql" >/dev/null
	;;
*)
	echo "pg: unknown command '$cmd'" >&2
	exit 2
	;;
esac
