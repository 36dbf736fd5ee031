#!/usr/bin/env bash
# A real softphone authenticates: baresip 1.0.0 (libre 1.1.0, whose
# digest client answers MD5 only) registers with auth_pass against locus
# offering MD5, and gets its 200 OK and pub-gruu; with a wrong password it
# gets no binding.  Checked on what baresip reports and in psql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"

LOG_LEVEL=${LOG_LEVEL:-debug}
new_db
AUTH_CONFIG='enabled = true; algorithms = [ "MD5" ];' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 's3cret')"
psql_q "SELECT locus.add_subscriber('bob', 'example.com', 'right')"

BS_ACCOUNT_EXTRA=";auth_pass=s3cret" bs_new alice alice
bs_start alice
bs_wait_registered alice
log "baresip's registration output"
bs_reg_line alice
grep -q "SIP/2.0 401 Unauthorized" "$WORK/locus.log" ||
	fail "locus never challenged baresip"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'alice@example.com'
	AND instance = 'urn:uuid:${BS_UUID[alice]}'")" = 1 ] ||
	fail "alice's binding is not in the database"

log "a wrong password: baresip retries on every new challenge until"
log "auth.fail_limit (10) stops it with 403; nothing is stored"
BS_ACCOUNT_EXTRA=";auth_pass=wrong" bs_new bob bob
bs_start bob
refusal="^reg: sip:bob@example\.com: 403 Forbidden: Too Many Failed Authentications"
for _ in $(seq 1 100); do
	bs_plain <"$WORK/bob/stdout" | grep -Eq "$refusal" && break
	sleep 0.1
done
bs_plain <"$WORK/bob/stdout" | grep -E "^reg: sip:bob@" ||
	fail "baresip reported no refusal: $(bs_plain <"$WORK/bob/stdout" | tail -n 3)"
bs_plain <"$WORK/bob/stdout" | grep -Eq "$refusal" ||
	fail "baresip's refusal is not the fail_limit's 403"
[ "$(psql_q "SELECT count(*) FROM locus.bindings WHERE aor = 'bob@example.com'")" = 0 ] ||
	fail "a binding was stored for a wrong password"
log "ok"
