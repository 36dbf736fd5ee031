#!/usr/bin/env bash
# The database layer (db/db.c, db/pgasync.c, location/persist.c) driven directly
# by db_layer_test (db_layer.c) in a libre loop: the SQLSTATE of a refused
# transaction reaches its completion handler; a connection whose socket
# the loop cannot watch is dropped and re-established, not left hanging;
# the missing-schema message leaves libpq's buffer (and strtok) alone.
. "$(dirname "$0")/lib.sh"

new_db
BARE="${DB}_bare"
psql -h "$PG_DIR/run" -U locus -d postgres -qX \
	-c "DROP DATABASE IF EXISTS \"$BARE\"" -c "CREATE DATABASE \"$BARE\"" >/dev/null

log "db_layer_test against $DB (and $BARE, without the schema)"
LOCUS_TEST_CONNINFO="host=$PG_DIR/run dbname=$DB user=locus" \
LOCUS_TEST_BARE_CONNINFO="host=$PG_DIR/run dbname=$BARE user=locus" \
	timeout 120 "$BUILD/tests/integration/db_layer_test" ||
	fail "db_layer_test failed"
psql -h "$PG_DIR/run" -U locus -d postgres -qX \
	-c "DROP DATABASE IF EXISTS \"$BARE\"" >/dev/null
log "ok"
