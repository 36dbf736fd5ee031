#!/usr/bin/env bash
# Operators administer bindings with psql and a running locus
# follows within a second.  Runs the statements of the README's
# "Administering bindings with psql" section, with this test's ports:
#  - locus.bindings and locus.instances show a registered device;
#  - DELETE in psql -> the next INVITE gets 480;
#  - locus.add_static_binding -> the next INVITE reaches it;
#  - UPDATE of its contact -> routed to the new one;
#  - locus.unregister_device / unregister_aor remove and say how many.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

A_INST=urn:uuid:00000000-0000-4000-8000-0000000000a1
new_db
start_locus
device A alice@example.com "$A_INST"

# until_memory AOR COUNT: waits (at most 1 s, the promise) until a query
# REGISTER lists COUNT contacts for AOR; prints how long it took.
until_memory() {
	local t0 n
	t0=$(date +%s%N)
	for _ in $(seq 1 100); do
		sip_register "$WORK/q" "$1" "q-$RANDOM" 1 >/dev/null || true
		n=$(sip_hdr "$WORK/q" Contact | grep -c . || true)
		if [ "$n" = "$2" ]; then
			echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms"
			return 0
		fi
		[ $(( $(date +%s%N) - t0 )) -gt 1000000000 ] && break
		sleep 0.01
	done
	fail "$1: memory did not show $2 contact(s) within 1 s of the psql change"
}

log "TABLE locus.bindings / locus.instances"
psql_q "TABLE locus.bindings" | grep -q "^alice@example.com|sip:dev@127.0.0.1:${DEV_PORT[A]}|$A_INST|" ||
	fail "locus.bindings does not show A: $(psql_q "TABLE locus.bindings")"
[ "$(psql_q "SELECT aor, instance, pub_gruu, generation, registered
	FROM locus.instances WHERE aor = 'alice@example.com'")" = \
  "alice@example.com|$A_INST|sip:alice@example.com;gr=$A_INST|1|t" ] ||
	fail "locus.instances: $(psql_q "TABLE locus.instances")"

log "DELETE in psql -> 480"
psql_q "DELETE FROM locus.bindings WHERE aor = 'alice@example.com'"
log "memory followed in $(until_memory alice@example.com 0)"
invite_final "sip:alice@example.com"
expect_final "480 Temporarily Unavailable" "INVITE after the DELETE"

log "static binding -> the next INVITE reaches it"
alloc_port P1
DEV_PORT[P]=$P1; DEV_INST[P]=static1
psql_q "SELECT locus.add_static_binding('pbx@example.com', 'sip:pbx@127.0.0.1:$P1')" >/dev/null
log "memory followed in $(until_memory pbx@example.com 1)"
uas_reject P 486 "Busy Here" "X-Outcome: static1"
invite_final "sip:pbx@example.com"
uas_wait P
expect_final "486 Busy Here" "INVITE to the static binding"
[ "$(psql_q "SELECT isfinite(expires) FROM locus.bindings WHERE aor = 'pbx@example.com'")" = f ] ||
	fail "a static binding expires"

log "UPDATE its contact -> routed to the new one"
alloc_port P2
DEV_PORT[P]=$P2; DEV_INST[P]=static2
psql_q "UPDATE locus.bindings SET contact = 'sip:pbx@127.0.0.1:$P2' WHERE aor = 'pbx@example.com'"
until_contact pbx@example.com ":$P2>" 1 || fail "UPDATE not followed within 1 s"
uas_reject P 603 "Decline" "X-Outcome: static2"
invite_final "sip:pbx@example.com"
uas_wait P
expect_final "603 Decline" "INVITE after the UPDATE"

log "locus.unregister_device / locus.unregister_aor"
device_register A 3600
until_memory alice@example.com 1 >/dev/null
[ "$(psql_q "SELECT locus.unregister_device('alice@example.com', '$A_INST')")" = 1 ] ||
	fail "unregister_device did not remove one binding"
until_memory alice@example.com 0 >/dev/null
[ "$(psql_q "SELECT registered FROM locus.instances WHERE aor = 'alice@example.com'")" = f ] ||
	fail "locus.instances still says registered"
[ "$(psql_q "SELECT locus.unregister_aor('pbx@example.com')")" = 1 ] ||
	fail "unregister_aor did not remove one binding"
until_memory pbx@example.com 0 >/dev/null
invite_final "sip:pbx@example.com"
expect_final "404 Not Found" "INVITE after unregister_aor"

log "the README shows these statements"
for stmt in "TABLE locus.bindings" "FROM locus.instances" "locus.unregister_device(" \
	"locus.unregister_aor(" "locus.add_static_binding(" "UPDATE locus.bindings SET contact" \
	"DELETE FROM locus.bindings"; do
	grep -qF "$stmt" "$TOP/README.md" || fail "README lacks: $stmt"
done
locus_alive || fail "locus died"
log "ok"
