#!/usr/bin/env bash
# ctest fixture: one private PostgreSQL cluster for the run; every test
# gets a database of its own in it (lib.sh: new_db).  Two ctest runs in
# the same build directory share the cluster: a count of users, kept
# under a lock, decides who creates it and who stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${LOCUS_PG_DIR:?LOCUS_PG_DIR is set by ctest}
pg="$top/scripts/pg.sh"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock -w 120 9 || { echo "pg_fixture: lock $dir.lock busy" >&2; exit 1; }

users=$(cat "$dir.users" 2>/dev/null || echo 0)
case ${1:?start|stop} in
start)
	if [ "$users" -gt 0 ] && "$pg" status "$dir"; then
		echo $((users + 1)) >"$dir.users"
		exit 0
	fi
	"$pg" stop "$dir" 2>/dev/null || true
	rm -rf "$dir"
	"$pg" init "$dir"
	# the server must not inherit the lock
	"$pg" start "$dir" 9>&-
	echo 1 >"$dir.users"
	;;
stop)
	if [ "$users" -gt 1 ]; then
		echo $((users - 1)) >"$dir.users"
		exit 0
	fi
	"$pg" stop "$dir"
	rm -rf "$dir" "$dir.users"
	;;
esac
