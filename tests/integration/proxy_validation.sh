#!/usr/bin/env bash
# Request validation and routing rules of the proxy (RFC 3261
# §16.3, §16.4, §16.6, §16.7, RFC 3327), one device V of vera@example.com:
#  - Max-Forwards: 0 -> 483; Proxy-Require: foo -> 420 with
#    Unsupported: foo; a tel: or mailto: Request-URI -> 416, also behind a
#    Route naming locus (the scheme is checked after route processing);
#    none of them reaches V;
#  - a forwarded INVITE whose device takes its time: 100 Trying first (a
#    device that answers at once spares it, RFC 3261 §17.2.1, see
#    test_proxy_txn.c); at V its Request-URI is V's
#    Contact, a new Via and Record-Route (;lr, locus's address) on top,
#    Max-Forwards one less, the caller's Via with received/rport, every
#    other header and the body byte for byte as sent;
#  - strict router upstream: Request-URI = locus's own address (;lr), the
#    target in the last Route -> the request goes to V, without Routes;
#  - a loop through two AORs whose contacts point back at locus (via
#    Path) -> 482 after a few hops, not a storm ending in 483;
#  - a response whose only Via is locus's is not forwarded (§16.7 step 3);
#  - OPTIONS to locus itself, also with Max-Forwards: 0: 200 whose
#    Supported lists every extension locus implements (§11.2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_proxy.sh"

new_db
start_locus
device V vera@example.com urn:uuid:f0000000-0000-4000-8000-0000000000e7

# expect CODE-AND-REASON WHAT: the final of the last invite_final
expect() {
	[ "$(final_status "$INV_OUT")" = "SIP/2.0 $1" ] ||
		soft_fail "$2: expected '$1', got '$(final_status "$INV_OUT")'"
}

log "OPTIONS to locus itself (RFC 3261 §11.2): 200 with all it supports"
for mf in 70 0; do
	printf '%s\r\n' "OPTIONS sip:example.com SIP/2.0" \
		"Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=@BRANCH@;rport" \
		"Max-Forwards: $mf" "From: <sip:val@example.com>;tag=@TAG@" \
		"To: <sip:example.com>" "Call-ID: @CALLID@" "CSeq: 1 OPTIONS" \
		"Content-Length: 0" "" |
		"$BUILD/sipsend" -n 1 -w 3000 127.0.0.1 "$LOCUS_PORT" - \
			>"$WORK/options" || fail "OPTIONS (Max-Forwards $mf): no answer"
	expect_status "$WORK/options" "200 OK" "OPTIONS (Max-Forwards $mf)"
	[ "$(sip_hdr "$WORK/options" Supported)" = "gruu, path, outbound" ] ||
		soft_fail "OPTIONS (Max-Forwards $mf): Supported is '$(sip_hdr "$WORK/options" Supported)'"
done

log "refused before forwarding: 483, 420, 416; V never rings"
silent V
INV_MAXFWD=0 invite_final "sip:vera@example.com"
expect "483 Too Many Hops" "Max-Forwards: 0"
invite_final "sip:vera@example.com" "Proxy-Require: foo"
expect "420 Bad Extension" "Proxy-Require: foo"
[ "$(final_hdr "$INV_OUT" Unsupported)" = foo ] ||
	soft_fail "Proxy-Require: foo: Unsupported is '$(final_hdr "$INV_OUT" Unsupported)'"
invite_final "tel:+15551234567"
expect "416 Unsupported URI Scheme" "tel: Request-URI"
invite_final "tel:+15551234567" "Route: <sip:127.0.0.1:$LOCUS_PORT;lr>"
expect "416 Unsupported URI Scheme" "tel: Request-URI behind our own Route"
invite_final "mailto:vera@example.com"
expect "416 Unsupported URI Scheme" "mailto: Request-URI"
silent_check V "refused requests"

log "a forwarded INVITE: new Via and Record-Route, Max-Forwards - 1, the rest intact"
# V answers after 600 ms: locus owes the caller its 100 meanwhile
uas_reject V 486 "Busy Here" "X-Outcome: busy" -d 600
body=$'v=0\r\no=_ 2890844527 2890844527 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n'
{
	printf '%s\r\n' \
		"INVITE sip:vera@example.com SIP/2.0" \
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKval$$;rport" \
		"Max-Forwards: 70" \
		"From: \"Val\" <sip:val@example.com>;tag=val$$" \
		"To: <sip:vera@example.com>" \
		"Call-ID: val-$$@127.0.0.1" \
		"CSeq: 31 INVITE" \
		"Contact: <sip:val@127.0.0.1:5999>" \
		"Subject: forwarded intact" \
		"Supported: 100rel, timer" \
		"Allow: INVITE, ACK, CANCEL, BYE, PRACK" \
		"User-Agent: sipsend/proxy_validation" \
		"Content-Type: application/sdp" \
		"Content-Length: ${#body}" \
		""
	printf '%s' "$body"
} >"$WORK/intact.sent"
"$BUILD/sipsend" -s -n 1 -w 8000 127.0.0.1 "$LOCUS_PORT" "$WORK/intact.sent" >"$WORK/intact.out" || true
uas_wait V
[ "$(sip_status "$WORK/intact.out")" = "SIP/2.0 100 Trying" ] ||
	soft_fail "forwarded INVITE: the first response is '$(sip_status "$WORK/intact.out")', not 100 Trying"
[ "$(final_status "$WORK/intact.out")" = "SIP/2.0 486 Busy Here" ] ||
	soft_fail "forwarded INVITE: final '$(final_status "$WORK/intact.out")'"
msg_nth "${UAS_BASE[V]}.msg" received '^INVITE ' 1 >"$WORK/intact.got"
[ "$(sed -n 1p "$WORK/intact.got")" = "INVITE sip:dev@127.0.0.1:${DEV_PORT[V]} SIP/2.0"$'\r' ] ||
	soft_fail "forwarded INVITE: request line '$(sed -n 1p "$WORK/intact.got")'"
grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$LOCUS_PORT;branch=z9hG4bK[^;]*;" <(sed -n 2p "$WORK/intact.got") ||
	soft_fail "forwarded INVITE: locus's Via is not on top: '$(sed -n 2p "$WORK/intact.got")'"
[[ $(sed -n 3p "$WORK/intact.got") =~ ^Record-Route:\ \<sip:127\.0\.0\.1:$LOCUS_PORT\;lr\;ls=u[0-9a-f]{32}\>$'\r'$ ]] ||
	soft_fail "forwarded INVITE: third line '$(sed -n 3p "$WORK/intact.got")', not our Record-Route"
[ "$(grep -c '^Record-Route:' "$WORK/intact.got")" = 1 ] ||
	soft_fail "forwarded INVITE: more than one Record-Route (UDP in, UDP out)"
# the rest: as sent, but for Max-Forwards and the received/rport of the
# caller's Via
tail -n +2 "$WORK/intact.sent" | sed 's/^Max-Forwards: 70\r$/Max-Forwards: 69\r/' >"$WORK/intact.want"
tail -n +4 "$WORK/intact.got" |
	sed "s/^\(Via: SIP\/2.0\/UDP 127.0.0.1:5999;branch=z9hG4bKval$$;rport\)=[0-9]*;received=127.0.0.1\r$/\1\r/" \
	>"$WORK/intact.cmp"
if ! cmp -s "$WORK/intact.want" "$WORK/intact.cmp"; then
	diff <(cat -A "$WORK/intact.want") <(cat -A "$WORK/intact.cmp") >&2 || true
	soft_fail "forwarded INVITE: headers or body changed (diff above: sent, received)"
fi

log "strict router upstream: Request-URI is locus, the target in the last Route"
uas_reject V 486 "Busy Here" "X-Outcome: strict"
INV_TO="sip:vera@example.com" invite_final "sip:127.0.0.1:$LOCUS_PORT;lr" "Route: <sip:vera@example.com>"
uas_wait V
expect "486 Busy Here" "strict router"
inv=$(msg_nth "${UAS_BASE[V]}.msg" received '^INVITE ' 1)
[ "$(head -n 1 <<<"$inv" | tr -d '\r')" = "INVITE sip:dev@127.0.0.1:${DEV_PORT[V]} SIP/2.0" ] ||
	soft_fail "strict router: V got '$(head -n 1 <<<"$inv")'"
[ -z "$(hdr_of Route <<<"$inv")" ] || soft_fail "strict router: V got Route: $(hdr_of Route <<<"$inv")"

log "a loop loopx -> loopy -> loopx (contacts at locus, through Path): 482, no storm"
for r in x y; do
	if [ $r = x ]; then o=y; else o=x; fi
	sip_register "$WORK/reg_loop$r.txt" "loop$r@127.0.0.1" "loop$r-$$" 1 \
		"Contact: <sip:loop$o@127.0.0.1:$LOCUS_PORT>" "Supported: path" \
		"Path: <sip:127.0.0.1:$LOCUS_PORT;lr>" "Expires: 600"
	expect_status "$WORK/reg_loop$r.txt" "200 OK" "REGISTER loop$r"
done
for ruri in "sip:loopx@127.0.0.1" "sip:loopx@127.0.0.1:$LOCUS_PORT"; do
	mark=$(wc -l <"$WORK/locus.log")
	invite_final "$ruri"
	expect "482 Loop Detected" "loop ($ruri)"
	hops=$(tail -n +"$mark" "$WORK/locus.log" | grep -A1 ' debug received ' | grep -c '^INVITE ' || true)
	[ "$hops" -le 6 ] || soft_fail "loop ($ruri): locus received the INVITE $hops times"
	tail -n +"$mark" "$WORK/locus.log" | grep -q '^SIP/2.0 483' &&
		soft_fail "loop ($ruri): Max-Forwards ran out (483): a storm"
done

log "loop detection by locus itself (§16.3 step 4), in a dialog where libre's merge check does not look"
# An in-dialog BYE through locus's Route to V: V sees the Via locus added,
# with its loop hash.  The same BYE coming back with that Via on top is a
# loop (482); with another Request-URI it is a spiral and goes on.
# The BYE belongs to a dialog V answered: its Call-ID and tags, and the
# Record-Route the caller got in the 200 (locus's stamp for the caller's
# requests) as Route.
uas V p_uas_answer.xml
invite_final "sip:vera@example.com"
expect "200 OK" "the call the loop test's BYEs belong to"
dlg_callid=$(final_hdr "$INV_OUT" Call-ID)
dlg_from=$(final_hdr "$INV_OUT" From)
dlg_to=$(final_hdr "$INV_OUT" To)
rr_val=$(final_hdr "$INV_OUT" Record-Route)
[[ $rr_val =~ \;ls=d[0-9a-f]{32}\> ]] ||
	soft_fail "the caller's 200 carries no stamp for its own requests: '$rr_val'"
printf '%s\n' "ACK sip:dev@127.0.0.1:${DEV_PORT[V]} SIP/2.0" \
	"Via: SIP/2.0/UDP @LOCAL_IP@:@LOCAL_PORT@;branch=z9hG4bKack$$;rport" \
	"Route: $rr_val" "Max-Forwards: 70" "From: $dlg_from" "To: $dlg_to" \
	"Call-ID: $dlg_callid" "CSeq: 1 ACK" "Content-Length: 0" "" |
	sip_send_text -w 200 >/dev/null || true
bye() {   # bye RURI [extra Via on top]: the in-dialog BYE, to FILE $WORK/bye.txt
	{
		echo "BYE $1 SIP/2.0"
		[ -n "${2:-}" ] && echo "$2"
		echo "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${BRANCH:-z9hG4bKloop$$};rport"
		echo "Route: ${ROUTE:-$rr_val}"
		echo "Max-Forwards: 70"
		echo "From: $dlg_from"
		echo "To: $dlg_to"
		echo "Call-ID: $dlg_callid"
		echo "CSeq: 7 BYE"
		echo "Content-Length: 0"
		echo
	} | sip_send_text -n 1 -w 4000 >"$WORK/bye.txt" || true
}
bye "sip:dev@127.0.0.1:${DEV_PORT[V]}"
uas_wait V
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 200 OK" ] ||
	soft_fail "in-dialog BYE through locus: got '$(final_status "$WORK/bye.txt")'"
ours=$(msg_nth "${UAS_BASE[V]}.msg" received '^BYE ' 1 | grep -i -m 1 '^Via:' | tr -d '\r')
case $ours in *";lh="*) ;; *) soft_fail "locus's Via carries no loop hash: '$ours'" ;; esac
bye "sip:dev@127.0.0.1:${DEV_PORT[V]}" "$ours"
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 482 Loop Detected" ] ||
	soft_fail "looped BYE: expected 482, got '$(final_status "$WORK/bye.txt")'"
bye "sip:dev@127.0.0.1:$(free_port)" "$ours"
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 482 Loop Detected" ] &&
	soft_fail "a spiral (other Request-URI) was taken for a loop"

log "a Route naming locus without its dialog stamp does not open a relay"
BRANCH=z9hG4bKr1$$ ROUTE="<sip:127.0.0.1:$LOCUS_PORT;lr>" bye "sip:dev@127.0.0.1:$(free_port)"
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 403 Relaying Denied" ] ||
	soft_fail "unstamped in-dialog Route: expected 403, got '$(final_status "$WORK/bye.txt")'"
BRANCH=z9hG4bKr2$$ ROUTE="<sip:127.0.0.1:$LOCUS_PORT;lr;ls=d0123456789abcdef0123456789abcdef>" bye "sip:dev@127.0.0.1:$(free_port)"
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 403 Relaying Denied" ] ||
	soft_fail "forged dialog stamp: expected 403, got '$(final_status "$WORK/bye.txt")'"
BRANCH=z9hG4bKr3$$ ROUTE="<sip:127.0.0.1:$LOCUS_PORT;lr>, <sip:127.0.0.1:$(free_port);lr>" bye "sip:x@foreign.example"
[ "$(final_status "$WORK/bye.txt")" = "SIP/2.0 403 Relaying Denied" ] ||
	soft_fail "a foreign Route after ours: expected 403, got '$(final_status "$WORK/bye.txt")'"

log "a forged 2xx naming locus in its top Via is not reflected (RFC 6026 §3)"
silent V
for lt in "" ";lt=0123456789abcdef"; do
	printf '%s\n' "SIP/2.0 200 OK" \
		"Via: SIP/2.0/UDP 127.0.0.1:$LOCUS_PORT;branch=z9hG4bKforged$$;rport$lt" \
		"Via: SIP/2.0/UDP 127.0.0.1:${DEV_PORT[V]};branch=z9hG4bKvictim$$" \
		"From: <sip:x@example.com>;tag=f$$" "To: <sip:vera@example.com>;tag=t$$" \
		"Call-ID: forged-$$@127.0.0.1" "CSeq: 1 INVITE" "Content-Length: 0" "" |
		sip_send_text -w 1000 >/dev/null || true
done
sleep 0.5
silent_check V "forged 2xx"

log "a response whose only Via is locus's is not forwarded as it is"
uas V p_uas_onevia.xml
invite_final "sip:vera@example.com"
uas_wait V
awk '/^----$/ { if (msg && !via) bad = 1; msg = 0; via = 0; next }
	/^SIP\/2\.0 / { msg = 1 }
	/^[Vv]ia:/ { via = 1 }
	END { exit bad }' "$INV_OUT" ||
	soft_fail "a response without any Via reached the caller: $(final_status "$INV_OUT")"
soft_done
log "ok"
