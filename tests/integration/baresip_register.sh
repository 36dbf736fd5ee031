#!/usr/bin/env bash
# A real softphone registers: baresip 1.0.0 with an instance id
# and an outbound account (reg-id 1, Supported: gruu) registers with
# locus and receives its pub-gruu (RFC 5627 §5.2) - checked on what
# baresip itself reports (uastat, its registration line) and in psql;
# on SIGTERM it de-registers and psql shows no binding, while the
# instance (whose pub-gruu stays valid, RFC 5627 §5.3) remains.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_baresip.sh"

LOG_LEVEL=${LOG_LEVEL:-debug}
new_db
write_config
start_locus

bs_new alice alice
uuid=${BS_UUID[alice]}
bs_start alice
bs_wait_registered alice

log "baresip's registration output"
bs_reg_line alice
reg=$(bs_reg_line alice)
[[ $reg =~ ^alice@example\.com:\ \{1/UDP/v4\}\ 200\ OK\ .*\[1\ binding\]$ ]] ||
	fail "baresip's registration line: '$reg'"

# baresip takes its pub-gruu from the 200 OK; it does not log it, uastat
# shows it.
want="sip:alice@example.com;gr=urn:uuid:$uuid"
bs_pub_gruu alice
log "baresip's uastat (its user agent part)"
printf '%s\n' "$BS_DATA" | awk 'NF == 0 && NR > 1 { exit } NF'
printf '%s\n' "$BS_DATA" | grep -Fxq " pub-gruu:  $want" ||
	fail "uastat: expected ' pub-gruu:  $want', got: $(printf '%s\n' "$BS_DATA" | grep -i gruu || echo none)"

log "psql -c 'table locus.bindings'"
psql -h "$PG_DIR/run" -U locus -d "$DB" -X -P pager=off -c 'table locus.bindings'

got=$(psql_q "SELECT instance, pub_gruu, user_agent, reg_id, aor, transport FROM locus.bindings")
[[ $got == "urn:uuid:$uuid|$want|baresip v1.0.0 ("*")|1|alice@example.com|udp" ]] ||
	fail "locus.bindings: expected baresip's instance, pub-gruu, user agent and reg-id 1, got: $got"

log "SIGTERM: baresip de-registers"
bs_stop alice
bs_plain <"$WORK/alice/stdout" | tail -n 2
# The de-registration (expires=0 for its contact) and locus's 200 OK.
L=127.0.0.1:$LOCUS_PORT A=127.0.0.1:${BS_PORT[alice]}
unreg=$(locus_msgs received "$A" "$L" 'REGISTER ' \
	"^Contact: <sip:[^>]*>;expires=0;\\+sip\\.instance=\"<urn:uuid:$uuid>\";reg-id=1\$") ||
	fail "locus.log: baresip sent no REGISTER with expires=0 for its instance"
cseq=$(printf '%s\n' "$unreg" | sed -n 's/^CSeq: \([0-9]*\) REGISTER$/\1/p' | tail -n 1)
locus_msgs sent "$L" "$A" 'SIP/2.0 200 ' "^CSeq: $cseq REGISTER\$" >/dev/null ||
	fail "locus.log: no 200 OK to baresip's de-registration (CSeq $cseq)"
n=$(psql_q "SELECT count(*) FROM locus.bindings")
[ "$n" = 0 ] || fail "after baresip de-registered psql still shows $n binding(s): $(psql_q 'table locus.bindings')"
got=$(psql_q "SELECT aor, instance FROM locus.instance")
[ "$got" = "alice@example.com|urn:uuid:$uuid" ] ||
	fail "locus.instance after de-registration: '$got'"
log "ok"
