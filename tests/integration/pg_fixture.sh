#!/usr/bin/env bash
# ctest fixture: one private PostgreSQL cluster for the whole run; every
# test gets a database of its own in it (lib.sh: new_db).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${LOCUS_PG_DIR:?LOCUS_PG_DIR is set by ctest}
case ${1:?start|stop} in
start)
	"$top/scripts/pg.sh" stop "$dir" 2>/dev/null || true
	rm -rf "$dir"
	"$top/scripts/pg.sh" init "$dir"
	"$top/scripts/pg.sh" start "$dir"
	;;
stop)
	"$top/scripts/pg.sh" stop "$dir"
	rm -rf "$dir"
	;;
esac
