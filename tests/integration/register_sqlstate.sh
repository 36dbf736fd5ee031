#!/usr/bin/env bash
# A REGISTER the database refuses is answered by the refusal's SQLSTATE,
# never by its wording: LS001 (locus.stale_cseq(), sql/schema.sql: another
# node stored a newer CSeq of the Call-ID) is "500 Stale CSeq", whatever
# the message says; any other code is "500 Database Write Failed", even
# when its message reads like the schema's stale-CSeq one.  The other
# refusals come from a test-only trigger installed here.
. "$(dirname "$0")/lib.sh"

new_db
start_locus
C1="Contact: <sip:alice@127.0.0.1:5071>"

log "alice registers (CSeq 1): 200"
sip_register "$WORK/r" alice@example.com sq-1 1 "$C1" || fail "no answer"
expect_status "$WORK/r" "200 OK" "first REGISTER"

log "another node stores CSeq 8 unheard; alice's CSeq 2: 500 Stale CSeq"
# as in multinode.sh: notifications held back (locus.quiet), so this
# node's memory still says 1 and only the database refuses CSeq 2
psql_q "SET locus.quiet = on;
        UPDATE locus.location SET cseq = 8 WHERE aor = 'alice@example.com'" >/dev/null
sip_register "$WORK/r" alice@example.com sq-1 2 "$C1" || fail "no answer"
expect_status "$WORK/r" "500 Stale CSeq: Out-of-Order REGISTER Not Applied" \
	"REGISTER refused by locus.stale_cseq()"
[ "$(psql_q "SELECT cseq FROM locus.location WHERE aor = 'alice@example.com'")" = 8 ] ||
	fail "the refused REGISTER changed the row"

log "a test trigger refuses some REGISTERs, by their User-Agent"
psql_q "CREATE FUNCTION public.refuse_probe() RETURNS trigger
        LANGUAGE plpgsql AS \$\$
        BEGIN
            IF NEW.user_agent = 'probe-worded' THEN
                -- the schema's wording, SQLSTATE P0001 (raise_exception)
                RAISE EXCEPTION 'locus: stale CSeq 3 (stored 4)';
            ELSIF NEW.user_agent = 'probe-coded' THEN
                RAISE EXCEPTION 'refused by a test trigger'
                    USING ERRCODE = 'LS001';
            END IF;
            RETURN NEW;
        END \$\$;
        CREATE TRIGGER refuse_probe BEFORE INSERT OR UPDATE ON locus.location
            FOR EACH ROW EXECUTE FUNCTION public.refuse_probe()" >/dev/null

log "the stale-CSeq wording with another SQLSTATE: 500 Database Write Failed"
sip_register "$WORK/r" bob@example.com sq-2 1 "User-Agent: probe-worded" \
	"Contact: <sip:bob@127.0.0.1:5072>" || fail "no answer"
expect_status "$WORK/r" "500 Database Write Failed" \
	"REGISTER refused with P0001 'locus: stale CSeq ...'"
grep -q "registrar: bob@example.com not stored: .*locus: stale CSeq 3" \
	"$WORK/locus.log" || fail "the refusal's message is not in the log"

log "SQLSTATE LS001 worded otherwise: 500 Stale CSeq"
sip_register "$WORK/r" carol@example.com sq-3 1 "User-Agent: probe-coded" \
	"Contact: <sip:carol@127.0.0.1:5073>" || fail "no answer"
expect_status "$WORK/r" "500 Stale CSeq: Out-of-Order REGISTER Not Applied" \
	"REGISTER refused with LS001 'refused by a test trigger'"

log "anyone else gets past the trigger: 200"
sip_register "$WORK/r" dave@example.com sq-4 1 "User-Agent: softphone" \
	"Contact: <sip:dave@127.0.0.1:5074>" || fail "no answer"
expect_status "$WORK/r" "200 OK" "REGISTER the trigger lets through"

[ "$(psql_q "SELECT string_agg(aor, ',' ORDER BY aor) FROM locus.location")" = \
	"alice@example.com,dave@example.com" ] ||
	fail "rows: $(psql_q "SELECT aor FROM locus.location")"
log "ok"
