#!/usr/bin/env bash
# The database layer (location/db.c, pgasync.c, persist.c) driven directly
# by db_layer_test (db_layer.c) in a libre loop: the SQLSTATE of a refused
# transaction reaches its completion handler; a connection whose socket
# the loop cannot watch is dropped and re-established, not left hanging.
. "$(dirname "$0")/lib.sh"

new_db
log "db_layer_test against $DB"
LOCUS_TEST_CONNINFO="host=$PG_DIR/run dbname=$DB user=locus" \
	timeout 120 "$BUILD/tests/integration/db_layer_test" ||
	fail "db_layer_test failed"
log "ok"
