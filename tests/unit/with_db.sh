#!/usr/bin/env bash
# with_db.sh TEST [ARGS...]: runs a C unit test that needs PostgreSQL,
# with a database of its own in the cluster of the ctest fixture "pg"
# (tests/integration/pg_fixture.sh), the locus schema loaded.  The test
# finds it in LOCUS_TEST_CONNINFO; the database is dropped afterwards.
set -euo pipefail
test=${1:?usage: with_db.sh TEST [ARGS...]}
pg_dir=${LOCUS_PG_DIR:?set by ctest}
top=${LOCUS_SOURCE_DIR:?set by ctest}
export PGOPTIONS="-c client_min_messages=warning"

db="u_$(basename "$test" | tr -c 'a-zA-Z0-9\n' _)_$$"
psql_admin() {
	psql -h "$pg_dir/run" -U locus -d postgres -qX -v ON_ERROR_STOP=1 "$@"
}
psql_admin -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\"" \
	>/dev/null
trap 'psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null' EXIT
psql -h "$pg_dir/run" -U locus -d "$db" -qX -v ON_ERROR_STOP=1 \
	-f "$top/sql/schema.sql" >/dev/null

export LOCUS_TEST_CONNINFO="host=$pg_dir/run dbname=$db user=locus"
"$@"
