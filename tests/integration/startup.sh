#!/usr/bin/env bash
# locus refuses to start, with a message that says what to do, when its
# configuration is wrong, the database is unreachable, the schema is
# missing or of another version, the GRUU key is unusable, or a listen
# address is taken; --check-config validates and exits 0/1.
. "$(dirname "$0")/lib.sh"

# expect_refusal WHAT PATTERN: locus must exit 1 quickly, and its output
# must match PATTERN (an extended regexp).
expect_refusal() {
	local what=$1 pattern=$2 status=0
	timeout 20 "$BUILD/locus" -f "$WORK/locus.conf" >"$WORK/out" 2>&1 || status=$?
	[ $status -eq 1 ] || fail "$what: exit status $status, expected 1: $(cat "$WORK/out")"
	grep -Eq "$pattern" "$WORK/out" || fail "$what: message not as expected: $(cat "$WORK/out")"
	log "$what: $(grep -E "$pattern" "$WORK/out" | head -n 1)"
}

new_db
write_config

log "--check-config"
"$BUILD/locus" --check-config -f "$WORK/locus.conf" >"$WORK/out" 2>&1 ||
	fail "--check-config rejects a valid file: $(cat "$WORK/out")"
cp "$WORK/locus.conf" "$WORK/good.conf"
bad_line=$(($(wc -l <"$WORK/good.conf") + 1))
printf 'registar = { min_expires = 60; };\n' >>"$WORK/locus.conf"
status=0
"$BUILD/locus" --check-config -f "$WORK/locus.conf" >"$WORK/out" 2>&1 || status=$?
[ $status -eq 1 ] || fail "--check-config accepted an unknown setting (status $status)"
grep -q "locus.conf:$bad_line: unknown setting 'registar'.*did you mean 'registrar'" "$WORK/out" ||
	fail "--check-config message: $(cat "$WORK/out")"
expect_refusal "unknown setting" "locus.conf:$bad_line: unknown setting 'registar'"
cp "$WORK/good.conf" "$WORK/locus.conf"

log "database unreachable"
sed -i "s|host=$PG_DIR/run|host=$WORK/nowhere|" "$WORK/locus.conf"
expect_refusal "unreachable database" "cannot connect to the database .*$WORK/nowhere"
cp "$WORK/good.conf" "$WORK/locus.conf"

log "schema missing"
psql -h "$PG_DIR/run" -U locus -d "$DB" -qX -c "DROP SCHEMA locus CASCADE" >/dev/null
expect_refusal "schema missing" "no locus schema.*load it with: psql .* -f sql/schema.sql"

log "schema of another version"
psql -h "$PG_DIR/run" -U locus -d "$DB" -qX -v ON_ERROR_STOP=1 -f "$TOP/sql/schema.sql" >/dev/null
psql_q "UPDATE locus.meta SET value = '999' WHERE key = 'schema_version'"
expect_refusal "schema version" "schema is version '999' but this locus needs version 2"

log "a database of version 1: refused until the schema is loaded again, which upgrades it"
psql_q "UPDATE locus.meta SET value = '1' WHERE key = 'schema_version'"
expect_refusal "schema version 1" "schema is version '1' but this locus needs version 2"
psql -h "$PG_DIR/run" -U locus -d "$DB" -qX -v ON_ERROR_STOP=1 -f "$TOP/sql/schema.sql" >/dev/null ||
	fail "loading the schema over version 1 failed"
[ "$(psql_q "SELECT value FROM locus.meta WHERE key = 'schema_version'")" = 2 ] ||
	fail "loading the schema did not upgrade the version to 2"

log "schema loaded twice is still fine (idempotent)"
psql -h "$PG_DIR/run" -U locus -d "$DB" -qX -v ON_ERROR_STOP=1 -f "$TOP/sql/schema.sql" >/dev/null ||
	fail "loading the schema a second time failed"

log "GRUU key file"
printf 'not a key\n' >"$WORK/gruu.key"
chmod 600 "$WORK/gruu.key"
expect_refusal "malformed key" "gruu.key: .*64 hex digits"
rm -f "$WORK/gruu.key"

log "listen address taken"
start_locus
cp "$WORK/locus.log" "$WORK/first.log"
expect_refusal "address in use" "cannot listen on (udp|tcp|UDP|TCP) 127.0.0.1:$LOCUS_PORT: Address already in use"
locus_alive || fail "the running locus died when a second one failed to start"
[ "$(stat -c %a "$WORK/gruu.key")" = 600 ] || fail "generated key file is not mode 0600"
log "ok"
