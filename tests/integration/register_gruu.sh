#!/usr/bin/env bash
# RFC 5627 §5.2: pub-gruu and temp-gruu for an instance with Supported:
# gruu; a refresh (same Call-ID) keeps pub-gruu and issues a new temp-gruu;
# GRUU parameters sent by the UA are ignored; the AOR's user part keeps
# its case.
. "$(dirname "$0")/lib.sh"

new_db
start_locus
sipp_run register_gruu.xml -m 1 -trace_logs -log_file "$WORK/gruu.log" ||
	fail "REGISTER with gruu"

pub1=$(sed -n 's/^.*PUB1 \(.*\)$/\1/p' "$WORK/gruu.log")
pub2=$(sed -n 's/^.*PUB2 pub-gruu="\(.*\)"$/\1/p' "$WORK/gruu.log")
tmp1=$(sed -n 's/^.*TMP1 temp-gruu="\(.*\)"$/\1/p' "$WORK/gruu.log")
tmp2=$(sed -n 's/^.*TMP2 temp-gruu="\(.*\)"$/\1/p' "$WORK/gruu.log")
log "pub-gruu: $pub2"
log "temp-gruus: $tmp1 / $tmp2"
[ -n "$tmp1" ] && [ -n "$tmp2" ] || fail "temp-gruus not logged"
[ "$pub1" = "pub-gruu=\"$pub2\"" ] || fail "pub-gruu changed on refresh: $pub1 vs $pub2"
[ "$tmp1" != "$tmp2" ] || fail "refresh did not issue a new temp-gruu"
case $pub2 in *evil*) fail "UA-supplied pub-gruu echoed";; esac

[ "$(psql_q "SELECT pub_gruu FROM locus.bindings")" = "$pub2" ] ||
	fail "psql shows another pub_gruu"
[ "$(psql_q "SELECT generation FROM locus.instance")" = 1 ] ||
	fail "refresh with the same Call-ID bumped the generation"
log "ok"
