#!/usr/bin/env bash
# Digest authentication of REGISTER (RFC 3261 §22.4, RFC 7616, RFC 8760):
# subscribers added with psql; a 401 with a SHA-256 and an MD5 challenge;
# either answer registers; replayed nonce counts, wrong passwords and
# unknown users are refused alike; credentials of another user → 403; a
# password changed in psql counts at once; an expired nonce gets
# stale=true; malformed credentials → 400; trusted peers are not asked.
. "$(dirname "$0")/lib.sh"

new_db
AUTH_CONFIG='enabled = true; nonce_lifetime = 10;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'Example.COM', 'secret')"
psql_q "SELECT locus.add_subscriber('bob', 'example.com', 'hunter2')"
[ "$(psql_q "SELECT count(*) FROM locus.subscriber WHERE ha1_md5 IS NOT NULL
	AND ha1_sha256 <> '' AND domain = 'example.com'")" = 2 ] ||
	fail "subscribers not stored with both HA1s"
psql_q "SELECT count(*) FROM locus.subscriber WHERE ha1_md5 LIKE '%secret%'
	OR ha1_sha256 LIKE '%secret%'" | grep -qx 0 || fail "password stored"

A=alice@example.com
CONTACT="Contact: <sip:alice@127.0.0.1:5999>"
bindings() { psql_q "SELECT count(*) FROM locus.location WHERE aor = '$A'"; }

log "no credentials: 401, SHA-256 challenge first, then MD5"
sip_register "$WORK/c1" $A cid-a 1 "$CONTACT"
expect_status "$WORK/c1" "401 Unauthorized" "REGISTER without credentials"
mapfile -t ch < <(sip_hdr "$WORK/c1" WWW-Authenticate)
[ ${#ch[@]} = 2 ] || fail "expected 2 WWW-Authenticate, got ${#ch[@]}"
[[ ${ch[0]} == Digest\ *algorithm=SHA-256* && ${ch[1]} == *algorithm=MD5* ]] ||
	fail "challenge order: ${ch[*]}"
for c in "${ch[@]}"; do
	[[ $c == *'realm="example.com"'* && $c == *'qop="auth"'* ]] ||
		fail "challenge lacks realm or qop: $c"
done
[ "$(bindings)" = 0 ] || fail "a binding was stored without credentials"

log "SHA-256 credentials: 200 and a binding"
auth=$(digest_credentials Authorization "$WORK/c1" SHA-256 alice secret \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/r1" $A cid-a 2 "$CONTACT" "$auth"
expect_status "$WORK/r1" "200 OK" "REGISTER with SHA-256 credentials"
[ "$(bindings)" = 1 ] || fail "binding not stored"
for f in c1 r1; do   # no version for scanners to match
	[ "$(sip_hdr "$WORK/$f" Server)" = locus ] ||
		fail "Server header: '$(sip_hdr "$WORK/$f" Server)'"
done

log "the same nonce count again: refused (replay)"
sip_register "$WORK/r2" $A cid-a 3 "$CONTACT" "$auth"
expect_status "$WORK/r2" "401 Unauthorized" "replayed nonce count"

log "the next nonce count of that nonce: 200"
auth=$(digest_credentials Authorization "$WORK/c1" SHA-256 alice secret \
	REGISTER sip:example.com 00000002)
sip_register "$WORK/r3" $A cid-a 4 "$CONTACT" "$auth"
expect_status "$WORK/r3" "200 OK" "nonce count 2"

log "MD5 credentials (same nonce, so the next count): 200"
auth=$(digest_credentials Authorization "$WORK/c1" MD5 alice secret \
	REGISTER sip:example.com 00000003)
sip_register "$WORK/r4" $A cid-a 5 "$CONTACT" "$auth"
expect_status "$WORK/r4" "200 OK" "REGISTER with MD5 credentials"

log "wrong password and unknown user: the same answer"
sip_register "$WORK/c2" $A cid-w 1 "$CONTACT"
auth=$(digest_credentials Authorization "$WORK/c2" SHA-256 alice wrong \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/w1" $A cid-w 2 "$CONTACT" "$auth"
sip_register "$WORK/c3" mallory@example.com cid-m 1 "$CONTACT"
auth=$(digest_credentials Authorization "$WORK/c3" SHA-256 mallory x \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/w2" mallory@example.com cid-m 2 "$CONTACT" "$auth"
expect_status "$WORK/w1" "401 Unauthorized" "wrong password"
expect_status "$WORK/w2" "401 Unauthorized" "unknown user"
shape() {   # the response with what differs per request masked
	sed -n '/^SIP/,/^\r\?$/p' "$1" | sed -e 's/\r$//' \
		-e 's/nonce="[0-9a-f]*"/nonce=N/' -e 's/tag=[^;>]*/tag=T/' \
		-e 's/UDP [0-9.]*:[0-9]*/UDP A/' -e 's/branch=[^;]*/branch=B/' -e 's/rport=[0-9]*/rport=P/' \
		-e 's/alice\|mallory/U/g' -e 's/cid-[wm]/CID/' -e 's/^CSeq: .*/CSeq/'
}
diff <(shape "$WORK/w1") <(shape "$WORK/w2") ||
	fail "wrong password and unknown user are answered differently"

log "bob's good credentials for alice's AOR: 403"
sip_register "$WORK/c4" $A cid-b 1 "$CONTACT"
auth=$(digest_credentials Authorization "$WORK/c4" SHA-256 bob hunter2 \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/f1" $A cid-b 2 "$CONTACT" "$auth"
expect_status "$WORK/f1" "403 Forbidden: Credentials Are Not for This AOR" \
	"another user's credentials"

log "password changed in psql: the old one fails at once, the new works"
psql_q "SELECT locus.set_password('alice', 'example.com', 'n3w')"
sip_register "$WORK/c5" $A cid-a 6 "$CONTACT"
auth=$(digest_credentials Authorization "$WORK/c5" SHA-256 alice secret \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/p1" $A cid-a 7 "$CONTACT" "$auth"
expect_status "$WORK/p1" "401 Unauthorized" "old password after change"
auth=$(digest_credentials Authorization "$WORK/c5" SHA-256 alice n3w \
	REGISTER sip:example.com 00000002)
sip_register "$WORK/p2" $A cid-a 8 "$CONTACT" "$auth"
expect_status "$WORK/p2" "200 OK" "new password"

log "malformed credentials: 400 naming the problem"
sip_register "$WORK/m1" $A cid-a 9 "$CONTACT" \
	'Authorization: Digest username="alice", realm="example.com", nonce="x", uri="sip:example.com", response="00", algorithm=SHA-512'
expect_status "$WORK/m1" "400 Unsupported Digest Algorithm" "unknown algorithm"
sip_register "$WORK/m2" $A cid-a 10 "$CONTACT" 'Authorization: Digest username="al\"ice"'
expect_status "$WORK/m2" "400 Escaped Character in Digest Credentials" \
	"escaped quote"

log "an expired nonce: 401 with stale=true"
sleep 11
auth=$(digest_credentials Authorization "$WORK/c5" SHA-256 alice n3w \
	REGISTER sip:example.com 00000003)
sip_register "$WORK/s1" $A cid-a 11 "$CONTACT" "$auth"
expect_status "$WORK/s1" "401 Unauthorized" "stale nonce"
sip_hdr "$WORK/s1" WWW-Authenticate | grep -q "stale=true" ||
	fail "no stale=true after the nonce expired"
[ "$(psql_q "SELECT cseq FROM locus.location WHERE aor = '$A'")" = 8 ] ||
	fail "a refused REGISTER changed the binding"

log "a removed subscriber is refused like an unknown one"
[ "$(psql_q "SELECT locus.remove_subscriber('bob', 'example.com')")" = 1 ] ||
	fail "remove_subscriber did not remove bob"
sip_register "$WORK/c6" bob@example.com cid-r 1 "Contact: <sip:bob@127.0.0.1:5998>"
auth=$(digest_credentials Authorization "$WORK/c6" MD5 bob hunter2 \
	REGISTER sip:example.com 00000001)
sip_register "$WORK/x1" bob@example.com cid-r 2 "Contact: <sip:bob@127.0.0.1:5998>" "$auth"
expect_status "$WORK/x1" "401 Unauthorized" "removed subscriber"

log "a trusted peer is not challenged"
stop_locus
sed -i 's/^auth .*/auth = { enabled = true; trusted = [ "127.0.0.1" ]; };/' \
	"$WORK/locus.conf"
start_locus_again
sip_register "$WORK/t1" $A cid-a 20 "$CONTACT"
expect_status "$WORK/t1" "200 OK" "REGISTER from a trusted address"
log "ok"
