#!/usr/bin/env bash
# auth.fail_limit counts one AOR however its realm is spelled: the
# subscriber look-up lowercases the realm, so "EXAMPLE.com" and
# "example.com" are one AOR and share one count.  Ten addresses, each
# guessing fail_limit passwords with a realm spelled its own way, use up
# the AOR's count over all addresses (10 x fail_limit): an eleventh
# address, spelling the realm an eleventh way, is refused.
. "$(dirname "$0")/lib.sh"

new_db
AUTH_CONFIG='enabled = true; fail_limit = 3; fail_window = 600;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('alice', 'example.com', 'secret')"
A=alice@example.com
CONTACT="Contact: <sip:alice@127.0.0.1:5999>"
SPELLINGS=(Example.com eXample.com exAmple.com exaMple.com examPle.com
	exampLe.com example.Com example.cOm example.coM EXAMPLE.COM
	EXAMPLE.com)

sip_register "$WORK/ch" $A cid-ch 1 "$CONTACT"
expect_status "$WORK/ch" "401 Unauthorized" "REGISTER without credentials"

# guess SRC REALM N: N wrong passwords for alice from SRC, the realm of
# the credentials spelled REALM; each is challenged again.
guess() {
	local src=$1 realm=$2 n=$3 i auth
	for i in $(seq 1 "$n"); do
		auth=$(digest_credentials Authorization "$WORK/ch" SHA-256 alice \
			"guess$i" REGISTER sip:example.com 00000001 |
			sed "s/realm=\"example.com\"/realm=\"$realm\"/")
		REG_SRC=$src sip_register "$WORK/g" $A "cid-$src" "$i" \
			"$CONTACT" "$auth"
		expect_status "$WORK/g" "401 Unauthorized" \
			"guess $i from $src with realm $realm"
	done
}

log "ten addresses guess 3 passwords each, each spelling the realm anew"
for i in $(seq 0 9); do
	guess "127.0.1.$((i + 1))" "${SPELLINGS[$i]}" 3
done

log "an eleventh address and spelling: refused (the AOR's count is full)"
auth=$(digest_credentials Authorization "$WORK/ch" SHA-256 alice secret \
	REGISTER sip:example.com 00000001 |
	sed "s/realm=\"example.com\"/realm=\"${SPELLINGS[10]}\"/")
REG_SRC=127.0.1.11 sip_register "$WORK/r" $A cid-r 1 "$CONTACT" "$auth"
expect_status "$WORK/r" "403 Forbidden: Too Many Failed Authentications" \
	"a 31st guess from an 11th address"
[ "$(grep -c "auth: aor:$A refused" "$WORK/locus.log")" = 1 ] ||
	fail "expected one log line for the AOR: $(grep refused "$WORK/locus.log")"

log "restarted (counts are memory): an address that authenticated as"
log "alice, so that the address-wide count does not apply to it, still"
log "gets only its 3 guesses however it spells the realm"
stop_locus
start_locus_again   # the same key: the challenge stays good
REG_SRC=127.0.2.1 sip_register "$WORK/p1" $A cid-p 1 "$CONTACT" \
	"$(digest_credentials Authorization "$WORK/ch" MD5 alice secret \
	REGISTER sip:example.com 00000002)"
expect_status "$WORK/p1" "200 OK" "alice from 127.0.2.1"
guess 127.0.2.1 EXAMPLE.COM 1
guess 127.0.2.1 example.COM 1
guess 127.0.2.1 Example.Com 1
auth=$(digest_credentials Authorization "$WORK/ch" MD5 alice secret \
	REGISTER sip:example.com 00000003 |
	sed 's/realm="example.com"/realm="eXAMPLE.com"/')
REG_SRC=127.0.2.1 sip_register "$WORK/p3" $A cid-p 2 "$CONTACT" "$auth"
expect_status "$WORK/p3" "403 Forbidden: Too Many Failed Authentications" \
	"the password after 3 guesses from that address, in a 4th spelling"
log "ok"
