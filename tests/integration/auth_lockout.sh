#!/usr/bin/env bash
# Guessing a password does not lock its owner out (auth/lockout.h): an
# attacker's fail_limit (10) wrong passwords for alice from one address
# get that address refused (403), for alice and for everyone else, while
# alice registers and calls from her own address.  Guessing from many
# addresses stays bounded: past 10 x fail_limit failures for alice in a
# window, every address that has not authenticated as alice lately is
# refused as alice, and those that have are not.  Guesses sent at once
# count at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"
trap proxy_cleanup EXIT

new_db
AUTH_CONFIG='enabled = true; fail_limit = 10; fail_window = 600;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"
psql_q "SELECT locus.add_subscriber('bob', 'example.com', 'pw2')"
psql_q "SELECT locus.add_subscriber('carol', 'example.com', 'pw3')"
A=alice@example.com
CONTACT="Contact: <sip:alice@127.0.0.2:5999>"
NC=0

sip_register "$WORK/ch" $A cid-ch 1 "$CONTACT"
expect_status "$WORK/ch" "401 Unauthorized" "REGISTER without credentials"

# register SRC USER PASSWORD OUT: a REGISTER of USER@example.com from SRC
# with credentials (the next nonce count of the one challenge).
register() {
	local src=$1 user=$2 pass=$3 out=$4
	NC=$((NC + 1))
	REG_SRC=$src sip_register "$out" "$user@example.com" "cid-$src-$user" \
		$NC "Contact: <sip:$user@$src:5999>" \
		"$(digest_credentials Authorization "$WORK/ch" SHA-256 "$user" \
		"$pass" REGISTER sip:example.com "$(printf %08x $NC)")"
}

# guess SRC N: N wrong passwords for alice from SRC, each challenged again.
guess() {
	local i
	for i in $(seq 1 "$2"); do
		register "$1" alice "guess$i" "$WORK/g"
		expect_status "$WORK/g" "401 Unauthorized" "guess $i from $1"
	done
}

log "an attacker at 127.0.0.1: 10 wrong passwords for alice, then 403"
guess 127.0.0.1 10
register 127.0.0.1 alice secret "$WORK/a1"
expect_status "$WORK/a1" "403 Forbidden: Too Many Failed Authentications" \
	"the attacker's 11th try (the right password)"
register 127.0.0.1 bob pw2 "$WORK/a2"
expect_status "$WORK/a2" "403 Forbidden: Too Many Failed Authentications" \
	"the attacker's address, as bob"

log "alice at 127.0.0.2 (never seen before) registers meanwhile"
register 127.0.0.2 alice secret "$WORK/r1"
expect_status "$WORK/r1" "200 OK" "alice's REGISTER during the attack"
[ "$(psql_q "SELECT count(*) FROM locus.location WHERE aor = '$A'")" = 1 ] ||
	fail "alice's binding is not stored"

log "and calls: 407, then routed with her credentials (bob: 404)"
INV_SRC=127.0.0.2 INV_FROM=sip:$A invite_final sip:bob@example.com
expect_final "407 Proxy Authentication Required" "alice's INVITE"
cp "$INV_OUT" "$WORK/pch"
INV_SRC=127.0.0.2 INV_FROM=sip:$A invite_final sip:bob@example.com \
	"$(digest_credentials Proxy-Authorization "$WORK/pch" SHA-256 alice \
	secret INVITE sip:bob@example.com 00000001)"
expect_final "404 Not Found" "alice's authenticated INVITE"
[ "$(grep -c "auth: src:127.0.0.1 refused as $A" "$WORK/locus.log")" = 1 ] ||
	fail "expected one log line for the attacker: $(grep refused "$WORK/locus.log")"

log "nine more attackers (100 failures for alice in all): a new address"
log "is refused as alice, her own address is not, bob is not"
for i in $(seq 1 9); do
	guess "127.0.3.$i" 10
done
register 127.0.0.3 alice secret "$WORK/m1"
expect_status "$WORK/m1" "403 Forbidden: Too Many Failed Authentications" \
	"alice at a new address after 100 failures"
register 127.0.0.2 alice secret "$WORK/m2"
expect_status "$WORK/m2" "200 OK" "alice at the address she registered from"
register 127.0.0.3 bob pw2 "$WORK/m3"
expect_status "$WORK/m3" "200 OK" "bob at a new address"
[ "$(grep -c "auth: aor:$A refused" "$WORK/locus.log")" = 1 ] ||
	fail "expected one log line for alice's AOR: $(grep refused "$WORK/locus.log")"
log "30 guesses for carol sent at once (one TCP write): 10 are checked,"
log "20 refused (attempts count while their look-ups are pending)"
for i in $(seq 1 30); do
	cat <<MSG
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP @LOCAL_IP@:@LOCAL_PORT@;branch=z9hG4bK-burst-$i
Max-Forwards: 70
From: <sip:carol@example.com>;tag=burst$i
To: <sip:carol@example.com>
Call-ID: burst-$i
CSeq: 1 REGISTER
Contact: <sip:carol@127.0.0.4:5999>
$(digest_credentials Authorization "$WORK/ch" SHA-256 carol "guess$i" \
	REGISTER sip:example.com 00000001)
Content-Length: 0

MSG
done | crlf >"$WORK/burst"
"$BUILD/sipsend" -t tcp -b 127.0.0.4 -n 30 -w 5000 127.0.0.1 "$LOCUS_PORT" \
	"$WORK/burst" >"$WORK/burst.out" || fail "no answer to the burst"
n401=$(grep -c "^SIP/2.0 401 Unauthorized" "$WORK/burst.out" || true)
n403=$(grep -c "^SIP/2.0 403 Forbidden: Too Many Failed Authentications" \
	"$WORK/burst.out" || true)
[ "$n401" = 10 ] && [ "$n403" = 20 ] ||
	fail "the burst got $n401 challenges and $n403 refusals, expected 10 and 20"
log "ok"
