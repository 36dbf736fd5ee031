#!/usr/bin/env bash
# What attackers run (Debian's sipvicious): svwar finds no extension and
# svcrack no password.  Known and unknown users are answered alike, and
# auth.fail_limit stops svcrack long before it reaches the password, which
# is in its dictionary.
. "$(dirname "$0")/lib.sh"

new_db
AUTH_CONFIG='enabled = true; fail_limit = 10; fail_window = 600;' write_config
start_locus
# sipvicious binds 5060 unless told otherwise, where other tests' stray
# replies may land: a port of its own
SV_PORT=$(free_port)
for ext in 100 150 200; do
	psql_q "SELECT locus.add_subscriber('$ext', '127.0.0.1', 'pw$ext')"
done

log "svwar -e90-210 (REGISTER), with 100, 150 and 200 existing"
timeout 120 svwar -P "$SV_PORT" -e90-210 -m REGISTER -t 0.02 "udp://127.0.0.1:$LOCUS_PORT" \
	>"$WORK/svwar.out" 2>&1 || true
cat "$WORK/svwar.out"
if grep -Eq "^\| *(100|150|200) *\|" "$WORK/svwar.out"; then
	fail "svwar found an extension"
fi
grep -q "found nothing" "$WORK/svwar.out" || fail "svwar did not come up empty"

log "svwar --force -e90-210: every extension looks the same"
timeout 120 svwar -P "$SV_PORT" --force -e90-210 -m REGISTER -t 0.02 \
	"udp://127.0.0.1:$LOCUS_PORT" >"$WORK/svwar2.out" 2>&1 || true
cat "$WORK/svwar2.out"
if grep -Eq "^\| *(100|150|200) *\|" "$WORK/svwar2.out"; then
	fail "svwar --force told an extension apart"
fi

for m in INVITE OPTIONS; do
	log "svwar --force -m $m -e90-210"
	timeout 120 svwar -P "$SV_PORT" --force -e90-210 -m $m -t 0.02 \
		"udp://127.0.0.1:$LOCUS_PORT" >"$WORK/svwar_$m.out" 2>&1 || true
	cat "$WORK/svwar_$m.out"
	if grep -Eq "^\| *(100|150|200) *\|" "$WORK/svwar_$m.out"; then
		fail "svwar -m $m told an extension apart"
	fi
done

# svcrack answers MD5 only (it crashes on a SHA-256 challenge, being
# offered first): give it the MD5-only configuration that libre 1.1.0
# phones need, so that it really guesses.
stop_locus
sed -i 's/^auth .*/auth = { enabled = true; algorithms = [ "MD5" ]; fail_limit = 10; fail_window = 600; };/' \
	"$WORK/locus.conf"
start_locus_again
log "svcrack -u 150 with the password 40th in its dictionary (MD5 only)"
{ for i in $(seq 1 39); do echo "guess$i"; done; echo pw150
  for i in $(seq 41 60); do echo "guess$i"; done; } >"$WORK/dict.txt"
timeout 120 svcrack -P "$SV_PORT" -u 150 -d "$WORK/dict.txt" -t 0.02 \
	"udp://127.0.0.1:$LOCUS_PORT" >"$WORK/svcrack.out" 2>&1 || true
cat "$WORK/svcrack.out"
if grep -q "pw150" "$WORK/svcrack.out"; then fail "svcrack found the password"; fi
grep -q "found nothing" "$WORK/svcrack.out" || fail "svcrack did not run through"
[ "$(grep -c "auth: src:127.0.0.1 refused" "$WORK/locus.log")" = 1 ] ||
	fail "expected one log line for the blocked source: $(grep "refused" "$WORK/locus.log")"
log "ok"
