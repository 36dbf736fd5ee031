#!/usr/bin/env bash
# The schema loads as the database's owner, a role without superuser
# (what the README's installation does): nothing in it needs more, and
# locus.expire() still deletes quietly (no notification per row).
. "$(dirname "$0")/lib.sh"

role="owner_$$"
db="t_schema_owner_$$"
psql_super() { psql -h "$PG_DIR/run" -U locus -d postgres -qtAX -v ON_ERROR_STOP=1 "$@"; }
as_owner() { psql -h "$PG_DIR/run" -U "$role" -d "$db" -qtAX -v ON_ERROR_STOP=1 "$@"; }
cleanup_owner() {
	psql_super -c "DROP DATABASE IF EXISTS \"$db\"" -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true
}
trap 'status=$?; cleanup_owner; cleanup; exit $status' EXIT

psql_super -c "CREATE ROLE \"$role\" LOGIN NOSUPERUSER" -c "CREATE DATABASE \"$db\" OWNER \"$role\"" >/dev/null
as_owner -f "$TOP/sql/schema.sql" >"$WORK/load.out" 2>&1 ||
	fail "the schema does not load as the database's owner: $(cat "$WORK/load.out")"
log "loaded as $role (no superuser)"
as_owner -f "$TOP/sql/schema.sql" >"$WORK/load2.out" 2>&1 ||
	fail "loading it again fails: $(cat "$WORK/load2.out")"

# an expired binding goes, and no per-row notification is sent for it
as_owner -c "INSERT INTO locus.location (aor, binding_key, contact, expires, call_id, cseq)
	VALUES ('x@example.com', 'sip:x@127.0.0.1', 'sip:x@127.0.0.1', now() - interval '1 s', 'c', 1)"
out=$(as_owner <<'SQL'
LISTEN locus_change;
SELECT locus.expire(now());
SELECT 'quiet after: ' || coalesce(current_setting('locus.quiet', true), '');
SQL
)
grep -qx 1 <<<"$out" || fail "locus.expire did not delete the expired row: $out"
grep -q "Asynchronous notification" <<<"$out" && fail "locus.expire notified: $out"
log "locus.expire: 1 row, no notification"
log "ok"
