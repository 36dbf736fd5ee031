#!/usr/bin/env bash
# Linphone (linphone-daemon, Debian linphone-cli 5.1.65) authenticates
# with locus offering SHA-256 and MD5: carol over UDP and dave over TCP
# register with their passwords (401 path), and carol calls dave (407
# path: her INVITE's credentials are for its Request-URI, which locus
# checks, RFC 3261 §22.4).  What is asserted comes from linphone's own
# reports; locus's log only shows that it challenged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_linphone.sh"

LOG_LEVEL=debug
new_db
AUTH_CONFIG='enabled = true;' write_config
start_locus
psql_q "SELECT locus.add_subscriber('carol', 'example.com', 'c-pass')"
psql_q "SELECT locus.add_subscriber('dave', 'example.com', 'd-pass')"

for ld in carol:udp dave:tcp; do
	name=${ld%:*}
	ld_new "$name" "$name" "${ld#*:}"
	cat >>"$WORK/$name/rc" <<CONF
[auth_info_0]
username=$name
passwd=${name:0:1}-pass
realm=example.com
domain=example.com
CONF
	ld_start "$name" auto
done

log "carol and dave register with their passwords"
ld_wait_registered carol
ld_wait_registered dave
grep -q "SIP/2.0 401 Unauthorized" "$WORK/locus.log" ||
	fail "locus never challenged a REGISTER"
[ "$(psql_q "SELECT count(*) FROM locus.bindings
	WHERE aor IN ('carol@example.com', 'dave@example.com')")" = 2 ] ||
	fail "the bindings are not in the database"

log "carol calls dave through locus (407, then her credentials)"
ld_mark carol; ld_mark dave
ld_cmd carol call sip:dave@example.com
ld_wait_event dave LinphoneCallStreamsRunning ||
	fail "dave: no StreamsRunning within 10 s: $(ld_events dave | tr '\n' ' ')"
ld_wait_event carol LinphoneCallStreamsRunning ||
	fail "carol: no StreamsRunning within 10 s: $(ld_events carol | tr '\n' ' ')"
grep -q "SIP/2.0 407 Proxy Authentication Required" "$WORK/locus.log" ||
	fail "locus never challenged carol's INVITE"
ld_msgs carol sent '^INVITE sip:dave@example\.com ' \
	'^Proxy-Authorization: +Digest .*uri="sip:dave@example\.com"' >/dev/null ||
	fail "carol's INVITE carried no credentials for its Request-URI"
ld_cmd carol terminate
ld_stop carol
ld_stop dave
log "ok"
