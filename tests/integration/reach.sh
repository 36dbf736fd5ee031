#!/usr/bin/env bash
# Where requests to a registered device go (README, "Registrar
# behaviour"), over UDP, with registrar.nat = "auto", then "always".
# Devices are tests/tools/rawuas.py: each records what reaches it and
# answers an INVITE with 486.
#  1. Third-party registration (RFC 3261 §10.2): host A (127.0.0.2)
#     registers desk phone B's Contact; INVITEs to the AOR and to the
#     GRUU the 200 gave reach B, never A.  Not NATed (locus.bindings).
#  2. A NATed device (private Via sent-by and Contact, registered from
#     loopback): the INVITE goes to where the REGISTER came from.
#  3. rport with another source port than the sent-by's: the source, not
#     the Contact (where another UA listens).
#  4. A Contact with a host name is resolved (RFC 3263) with the resolver
#     of proxy.dns_servers (tests/tools/dnsstub.py); a name that does not
#     resolve: 480.
#  5. registrar.nat = "always": a third party's REGISTER is taken as from
#     the device, as locus did before "auto": the INVITE goes to A.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

BG_PIDS=()
reach_exit() {
	local status=$1 pid
	set +e
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	(exit "$status")
	proxy_cleanup
}
trap 'reach_exit $?' EXIT

INST=urn:uuid:6e5a1c3e-6f0a-4c55-8e41-1a2b3c4d5e6f

# rawdev DIR [rawuas arguments]: starts rawuas.py with OUTDIR DIR (the
# arguments name it where rawuas wants it); waits until DIR/ready.
rawdev() {
	local dir=$1
	shift
	mkdir -p "$dir"
	python3 "$TOP/tests/tools/rawuas.py" "$@" 2>"$dir/stderr" &
	BG_PIDS+=("$!")
	for _ in $(seq 1 50); do
		[ -f "$dir/ready" ] && return 0
		kill -0 "$!" 2>/dev/null || fail "rawuas $dir exited: $(cat "$dir/stderr")"
		sleep 0.1
	done
	fail "rawuas $dir not ready within 5 s"
}

# got DIR: how many INVITEs reached the device of DIR.
got() {
	if [ -f "$1/requests" ]; then
		grep -c '^INVITE ' "$1/requests" || true
	else
		echo 0
	fi
}

nat_of() {
	psql_q "SELECT nat FROM locus.bindings WHERE aor = '$1'"
}

new_db
alloc_port DNS_PORT
python3 "$TOP/tests/tools/dnsstub.py" "$DNS_PORT" "$WORK/dns.log" \
	phone.test=127.0.0.1 >"$WORK/dns.out" 2>&1 &
BG_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q ready "$WORK/dns.out" && break; sleep 0.1; done
grep -q ready "$WORK/dns.out" || fail "dnsstub: $(cat "$WORK/dns.out")"
write_config
sed -i "s|^proxy .*|proxy     = { relay = false; dns_servers = [ \"127.0.0.1:$DNS_PORT\" ]; };|" \
	"$WORK/locus.conf"
start_locus

log "1. third-party registration: the device its Contact names is reached"
alloc_port B_PORT
rawdev "$WORK/b" "$B_PORT" "$WORK/b"
alloc_port A_PORT
rawdev "$WORK/a" --bind=127.0.0.2 --supported=gruu \
	--contact="<sip:desk@127.0.0.1:$B_PORT>;+sip.instance=\"<$INST>\"" \
	"$A_PORT" "$WORK/a" "$LOCUS_PORT" boss@example.com
[ "$(nat_of boss@example.com)" = f ] ||
	fail "a third party's REGISTER made a NATed binding ($(nat_of boss@example.com))"
PUB=$(sed -n 's/.*pub-gruu="\([^"]*\)".*/\1/p' "$WORK/a/register-1.txt")
[ -n "$PUB" ] || fail "no pub-gruu in $(cat "$WORK/a/register-1.txt")"
invite_final "sip:boss@example.com"
expect_final "486 Busy Here" "INVITE to the AOR registered by a third party"
[ "$(got "$WORK/b")" = 1 ] || fail "device B got $(got "$WORK/b") INVITE(s), expected 1"
invite_final "$PUB"
expect_final "486 Busy Here" "INVITE to the pub-gruu registered by a third party"
[ "$(got "$WORK/b")" = 2 ] || fail "device B got $(got "$WORK/b") INVITE(s), expected 2"
[ "$(got "$WORK/a")" = 0 ] || fail "host A, which only registered B, got an INVITE"

log "2. a NATed device: reached where its REGISTER came from"
alloc_port N_PORT
rawdev "$WORK/n" --via="192.168.1.10:5060;rport" \
	--contact="<sip:nat@192.168.1.10:5060>" \
	"$N_PORT" "$WORK/n" "$LOCUS_PORT" nat@example.com
[ "$(nat_of nat@example.com)" = t ] || fail "a device with private Via and Contact is not NATed"
invite_final "sip:nat@example.com"
expect_final "486 Busy Here" "INVITE to the NATed device"
[ "$(got "$WORK/n")" = 1 ] || fail "the NATed device got $(got "$WORK/n") INVITE(s)"

log "3. rport and another source port: the source, not the Contact"
alloc_port C_PORT
rawdev "$WORK/c" "$C_PORT" "$WORK/c"
alloc_port R_PORT
rawdev "$WORK/r" --via="127.0.0.1:$C_PORT;rport" \
	--contact="<sip:rp@127.0.0.1:$C_PORT>" \
	"$R_PORT" "$WORK/r" "$LOCUS_PORT" rp@example.com
[ "$(nat_of rp@example.com)" = t ] || fail "rport from another port is not NATed"
invite_final "sip:rp@example.com"
expect_final "486 Busy Here" "INVITE to the device behind a port-translating NAT"
[ "$(got "$WORK/r")" = 1 ] || fail "the device got $(got "$WORK/r") INVITE(s) at its source port"
[ "$(got "$WORK/c")" = 0 ] || fail "the INVITE went to the Contact's port"

log "4. a Contact with a host name: resolved with the configured resolver"
alloc_port D_PORT
rawdev "$WORK/d" "$D_PORT" "$WORK/d"
sip_register "$WORK/reg_d" dana@example.com dana-1 1 \
	"Contact: <sip:desk@phone.test:$D_PORT>" "Expires: 600"
expect_status "$WORK/reg_d" "200 OK" "REGISTER of a Contact with a host name"
invite_final "sip:dana@example.com"
expect_final "486 Busy Here" "INVITE to a Contact named by a host"
[ "$(got "$WORK/d")" = 1 ] || fail "the device at phone.test got $(got "$WORK/d") INVITE(s)"
grep -q "^phone.test A$" "$WORK/dns.log" || fail "no A query for phone.test: $(cat "$WORK/dns.log")"
sip_register "$WORK/reg_e" erik@example.com erik-1 1 \
	"Contact: <sip:desk@nowhere.test:$D_PORT>" "Expires: 600"
expect_status "$WORK/reg_e" "200 OK" "REGISTER of a Contact with an unknown host name"
invite_final "sip:erik@example.com"
expect_final "480 Temporarily Unavailable" "INVITE to a Contact whose name does not resolve"

log "5. registrar.nat = \"always\": the REGISTER's source, as before"
stop_locus
sed -i 's/^registrar = { /registrar = { nat = "always"; /' "$WORK/locus.conf"
grep -q 'nat = "always"' "$WORK/locus.conf" || fail "config not rewritten"
start_locus_again
alloc_port A2_PORT
rawdev "$WORK/a2" --bind=127.0.0.2 \
	--contact="<sip:desk@127.0.0.1:$B_PORT>" \
	"$A2_PORT" "$WORK/a2" "$LOCUS_PORT" boss2@example.com
[ "$(nat_of boss2@example.com)" = t ] || fail "nat = always stored a binding that is not NATed"
invite_final "sip:boss2@example.com"
expect_final "486 Busy Here" "INVITE under nat = always"
[ "$(got "$WORK/a2")" = 1 ] || fail "under nat = always the INVITE did not go to the REGISTER's source"
[ "$(got "$WORK/b")" = 2 ] || fail "under nat = always the INVITE went to the Contact"
log ok
