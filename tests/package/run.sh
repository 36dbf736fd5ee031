#!/usr/bin/env bash
# The Debian package, checked, installed and run as an operator and
# systemd would, on this machine (as root, as in CI; systemd need not be
# PID 1).  A step of scripts/test.sh:
#
#   tests/package/run.sh build-deb/locus_<version>_amd64.deb
#
# Steps, in order (each a function below; add checks as steps):
#   lint      lintian: no error, no warning
#   install   apt-get install ./the.deb; the files where the README says
#   unit      systemd-analyze verify on the installed unit
#   config    the unit's ExecStartPre on the untouched packaged
#             configuration, as the unit's user
#   start     /etc/locus/locus.conf edited to a test database (a private
#             PostgreSQL in $WORK/pg), a free port and MD5 challenges
#             (sipp's only algorithm); the unit's ExecStart as the unit's
#             user, with NOTIFY_SOCKET and WATCHDOG_USEC (1 s) as systemd
#             sets them; waits for READY=1
#   register  sipp registers USERS users, each answering a challenge;
#             /metrics scraped meanwhile and after, checked by promtool
#             and against what sipp did
#   reload    the unit's ExecReload (SIGHUP): a file with an error is
#             refused with its file:line, a good one applied (a lower
#             registrar.max_expires holds for the next REGISTERs)
#   trace     locus.trace() on one user: her REGISTERs logged whole and
#             sent as HEP to tests/tools/hepd.py, nobody else's
#   stop      SIGTERM: STOPPING=1, exit status 0; the watchdog was pinged
#   remove    apt-get purge: nothing of the package is left
# The package is purged at exit in any case, and before installing if a
# failed run left it installed, so that a rerun starts clean.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
deb=$(realpath "${1:?usage: tests/package/run.sh LOCUS_DEB}")
[ "$(id -u)" -eq 0 ] || { echo "package test: run as root" >&2; exit 1; }

export LOCUS_SOURCE_DIR=$top LOCUS_BUILD_DIR=$top/build LOCUS_PG_DIR=unused
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/lib_service.sh"

# nobody (lintian) and the unit's user (the database's and the
# notification socket) reach their files through $WORK
chmod o+x "$WORK"

UNIT=/lib/systemd/system/locus.service
CONF=/etc/locus/locus.conf
USERS=${USERS:-20}
export DEBIAN_FRONTEND=noninteractive

package_cleanup() {
	local status=$?
	# under errexit, the (exit $status) below would end this trap before
	# the database and the notification listener are stopped
	set +e
	stop_locus
	purge >/dev/null 2>&1 || true
	(exit $status)
	service_cleanup
}
trap package_cleanup EXIT

purge() {
	if dpkg-query -W -f='${Status}' locus 2>/dev/null | grep -q installed; then
		apt-get purge -y -qq locus
	fi
}

# unit_value KEY: KEY= of the installed unit, with $MAINPID replaced.
unit_value() {
	sed -n "s/^$1=//p" "$UNIT" | sed "s/\\\$MAINPID/${LOCUS_PID:-}/g"
}

# as_unit_user CMD...: CMD as the unit's User= and Group=, as systemd
# runs it (same process, no new privileges).
as_unit_user() {
	setpriv --reuid="$(unit_value User)" --regid="$(unit_value Group)" \
		--init-groups --no-new-privs -- "$@"
}

step_lint() {
	log "lint: lintian $(basename "$deb")"
	# as nobody: lintian unpacks what it checks and warns against root
	mkdir -m 755 "$WORK/lint"
	cp "$deb" "$WORK/lint/"
	setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$WORK/lint" \
		lintian --display-info --fail-on error,warning \
		"$WORK/lint/$(basename "$deb")" ||
		fail "lintian reports errors or warnings"
}

step_install() {
	log "install: apt-get install $deb"
	purge
	apt-get install -y -qq "$deb" >"$WORK/apt.log" 2>&1 ||
		fail "apt-get install: $(tail -n 20 "$WORK/apt.log")"
	local f
	for f in /usr/sbin/locus "$CONF" /usr/share/locus/schema.sql "$UNIT" \
		/usr/share/man/man8/locus.8.gz /usr/share/man/man5/locus.conf.5.gz \
		/usr/share/doc/locus/README.md.gz /usr/share/doc/locus/copyright \
		/usr/share/doc/locus/changelog.gz; do
		[ -f "$f" ] || fail "the package did not install $f"
	done
	dpkg-query -W -f='${Conffiles}' locus | grep -q " $CONF " ||
		fail "$CONF is not a conffile"
	id locus >/dev/null 2>&1 || fail "no system user locus"
	[ "$(stat -c %U:%a /var/lib/locus)" = locus:750 ] ||
		fail "/var/lib/locus: $(stat -c %U:%a /var/lib/locus), expected locus:750"
	[ "$(stat -c %U:%G:%a "$CONF")" = root:locus:640 ] ||
		fail "$CONF: $(stat -c %U:%G:%a "$CONF"), expected root:locus:640"
	local version; version=$(dpkg-query -W -f='${Version}' locus)
	[ "$(/usr/sbin/locus --version)" = "locus $version" ] ||
		fail "locus --version says '$(/usr/sbin/locus --version)', the package $version"
}

step_unit() {
	log "unit: systemd-analyze verify $UNIT"
	local out status=0
	out=$(systemd-analyze verify "$UNIT" 2>&1) || status=$?
	[ -z "$out" ] || echo "$out"
	[ $status -eq 0 ] && [ -z "$out" ] ||
		fail "systemd-analyze verify does not accept $UNIT (status $status)"
	grep -qx "Type=notify" "$UNIT" && grep -q "^WatchdogSec=" "$UNIT" ||
		fail "$UNIT lacks Type=notify or WatchdogSec="
}

step_config() {
	log "config: ExecStartPre on the packaged $CONF"
	# shellcheck disable=SC2046
	as_unit_user $(unit_value ExecStartPre) >"$WORK/check.out" 2>&1 ||
		fail "ExecStartPre refuses the packaged configuration: $(cat "$WORK/check.out")"
}

step_start() {
	private_pg
	new_db
	psql_q "SELECT count(locus.add_subscriber('user' || i, 'example.com',
	                                          'pw' || i))
	          FROM generate_series(1, $USERS) i" >/dev/null
	LOCUS_PORT=$(free_port)
	log "start: $CONF edited to database $DB and port $LOCUS_PORT"
	sed -i -e "s|host=/run/postgresql dbname=locus|host=$PG_DIR/run dbname=$DB|" \
		-e "s|\"127.0.0.1:5060\"|\"127.0.0.1:$LOCUS_PORT\"|" "$CONF"
	# sipp 3.6 answers MD5 challenges only, and only the first one offered
	printf 'auth = { algorithms = [ "MD5" ]; };\n' >>"$CONF"
	M_PORT=$(free_port)
	HEP_PORT=$(free_port)
	printf 'metrics = { listen = "127.0.0.1:%d"; };\n' "$M_PORT" >>"$CONF"
	printf 'trace = { hep = "127.0.0.1:%d"; };\n' "$HEP_PORT" >>"$CONF"
	hepd_start
	grep -q "host=$PG_DIR/run dbname=$DB" "$CONF" &&
		[ "$(grep -c "127.0.0.1:$LOCUS_PORT" "$CONF")" -eq 2 ] ||
		fail "the packaged $CONF changed: the test's edit no longer applies"
	as_unit_user $(unit_value ExecStartPre) >"$WORK/check.out" 2>&1 ||
		fail "ExecStartPre refuses the edited configuration: $(cat "$WORK/check.out")"

	notify_listen
	# as a drop-in WatchdogSec=1s would: pings every 500 ms
	export WATCHDOG_USEC=1000000
	# exec all the way down: $! is locus itself, as $MAINPID would be
	# shellcheck disable=SC2046
	( exec setpriv --reuid="$(unit_value User)" --regid="$(unit_value Group)" \
		--init-groups --no-new-privs -- \
		sh -c 'export WATCHDOG_PID=$$; exec "$@"' locus \
		$(unit_value ExecStart) ) >>"$WORK/locus.log" 2>&1 &
	LOCUS_PID=$!
	notify_wait READY=1
	[ "$(cat "/proc/$LOCUS_PID/comm")" = locus ] &&
		[ "$(stat -c %U "/proc/$LOCUS_PID")" = "$(unit_value User)" ] ||
		fail "process $LOCUS_PID is not locus running as $(unit_value User)"
	grep -q "locus .* ready" "$WORK/locus.log" ||
		fail "READY=1 came before locus said it was ready"
	[ "$(stat -c %U:%a /var/lib/locus/gruu.key)" = locus:600 ] ||
		fail "gruu.key: $(stat -c %U:%a /var/lib/locus/gruu.key 2>&1)"
}

# sipp_register [N]: the first N (default USERS) users of users.csv
# register once each; sipp's exit status.
sipp_register() {
	local port; port=$(free_port)
	( cd "$WORK" && timeout 60 sipp -sf "$top/tests/package/register.xml" \
		-inf "$WORK/users.csv" -auth_uri example.com -m "${1:-$USERS}" -r 50 \
		-i 127.0.0.1 -p "$port" \
		-timeout 30s -timeout_error -nostdin -trace_err -trace_msg \
		"127.0.0.1:$LOCUS_PORT" >"$WORK/sipp_$port.out" 2>&1 ) || {
		tail -n 20 "$WORK"/*_errors.log >&2 2>/dev/null || true
		return 1
	}
}

# hepd_start: a HEP v3 collector on $HEP_PORT, decoding into hep.json.
hepd_start() {
	python3 "$top/tests/tools/hepd.py" "$HEP_PORT" "$WORK/hep.json" \
		>"$WORK/hepd.out" 2>&1 &
	BG_PIDS+=("$!")
	for _ in $(seq 1 50); do
		grep -q ready "$WORK/hepd.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "hepd did not start: $(cat "$WORK/hepd.out")"
}

# scrape OUT: GET /metrics into OUT; fails unless promtool accepts it.
scrape() {
	curl -sS --max-time 5 -o "$1" "http://127.0.0.1:$M_PORT/metrics" ||
		fail "GET /metrics of the packaged locus failed"
	promtool check metrics <"$1" >"$1.lint" 2>&1 ||
		fail "promtool check metrics: $(cat "$1.lint")"
}

# expect_metric FILE SAMPLE WANT: SAMPLE (name and labels as exposed) is WANT.
expect_metric() {
	local got
	got=$(awk -v s="$2" '$1 == s { print $2 }' "$1")
	[ "$got" = "$3" ] || fail "metric $2 is '$got', expected $3 (sipp's count)"
}

# users_csv FIRST LAST: sipp's injection file for userFIRST..userLAST.
users_csv() {
	echo SEQUENTIAL
	for i in $(seq "$1" "$2"); do
		printf 'user%d;[authentication username=user%d password=pw%d];%012d\n' \
			"$i" "$i" "$i" "$i"
	done
}

step_register() {
	log "register: $USERS users with sipp, /metrics scraped meanwhile"
	users_csv 1 "$USERS" >"$WORK/users.csv"
	scrape "$WORK/m0"
	expect_metric "$WORK/m0" 'locus_registers_total{outcome="ok"}' 0
	( for i in $(seq 1 100); do
		[ -f "$WORK/sipp.done" ] && break
		curl -s --max-time 2 -o "$WORK/during.$i" \
			"http://127.0.0.1:$M_PORT/metrics" || true
		sleep 0.05
	  done ) &
	local scraper=$! status=0
	sipp_register || status=$?
	touch "$WORK/sipp.done"
	wait $scraper
	[ $status -eq 0 ] || fail "sipp could not register every user"
	local n; n=$(psql_q "SELECT count(*) FROM locus.bindings")
	[ "$n" -eq "$USERS" ] || fail "$n bindings in the database, expected $USERS"
	local f
	for f in "$WORK"/during.*; do
		[ -s "$f" ] || continue
		promtool check metrics <"$f" >"$f.lint" 2>&1 ||
			fail "promtool check metrics (during sipp's run): $(cat "$f.lint")"
	done
	# each user: REGISTER, 401, REGISTER with credentials, 200
	scrape "$WORK/m1"
	expect_metric "$WORK/m1" 'locus_registers_total{outcome="ok"}' "$USERS"
	expect_metric "$WORK/m1" 'locus_registers_total{outcome="challenged"}' "$USERS"
	expect_metric "$WORK/m1" \
		'locus_sip_requests_total{direction="received",method="REGISTER"}' $((2 * USERS))
	expect_metric "$WORK/m1" \
		'locus_sip_responses_total{direction="sent",method="REGISTER",class="2xx"}' "$USERS"
	expect_metric "$WORK/m1" \
		'locus_sip_responses_total{direction="sent",method="REGISTER",class="4xx"}' "$USERS"
	expect_metric "$WORK/m1" locus_bindings "$USERS"
	expect_metric "$WORK/m1" locus_aors "$USERS"
	expect_metric "$WORK/m1" 'locus_transactions_in_progress{kind="register"}' 0
}

# reload_wait N PATTERN: ExecReload, then waits for the Nth SIGHUP
# logged and for a line matching PATTERN.
reload_wait() {
	$(unit_value ExecReload)
	until_log "SIGHUP: reload requested" "ExecReload: SIGHUP was not logged" "$1"
	until_log "$2" "no '$2' in the log"
	locus_alive || fail "ExecReload ended locus"
}

step_reload() {
	log "reload: $(unit_value ExecReload), a file with an error, then a good one"
	cp -p "$CONF" "$WORK/locus.conf.good"
	printf 'registrar = { max_expire = 300; };\n' >>"$CONF"
	local line; line=$(grep -n 'max_expire = 300' "$CONF" | cut -d: -f1)
	reload_wait 1 "reload refused: $CONF:$line: unknown setting 'max_expire'"
	sipp_register || fail "sipp could not register after the refused reload"
	local left
	left=$(psql_q "SELECT min(extract(epoch FROM expires - now()))::int
	                 FROM locus.bindings")
	[ "$left" -gt 300 ] || fail "a refused reload changed max_expires ($left s left)"

	cp -p "$WORK/locus.conf.good" "$CONF"
	printf 'registrar = { max_expires = 300; default_expires = 300; };\n' >>"$CONF"
	reload_wait 2 "reload: registrar.max_expires: 300, was 3600"
	grep -q "reload: $CONF applied" "$WORK/locus.log" ||
		fail "the good file is not logged as applied: $(grep reload "$WORK/locus.log")"
	sipp_register || fail "sipp could not register after the reload"
	local n; n=$(psql_q "SELECT count(*) FROM locus.bindings")
	[ "$n" -eq "$USERS" ] || fail "$n bindings after the reload, expected $USERS"
	left=$(psql_q "SELECT max(extract(epoch FROM expires - now()))::int
	                 FROM locus.bindings")
	[ "$left" -le 300 ] || fail "max_expires 300 not applied ($left s left)"
	scrape "$WORK/m2"
	expect_metric "$WORK/m2" 'locus_config_reloads_total{result="refused"}' 1
	expect_metric "$WORK/m2" 'locus_config_reloads_total{result="applied"}' 1
}

# hep_from URI: HEP packets whose SIP message is From URI.
hep_from() {
	hep_count "$WORK/hep.json" "\r\nFrom: <$1>"
}

step_trace() {
	log "trace: locus.trace('user3@example.com'), user3 and user4 register"
	[ "$(hep_from sip:user3@example.com)" = 0 ] || fail "HEP sent before any trace"
	psql_q "SELECT locus.trace('user3@example.com', interval '10 minutes')" >/dev/null
	until_log "trace of user3@example.com started" "the trace's start is not logged"
	# one sipp each: a trace also covers the source address of user3's device
	users_csv 3 3 >"$WORK/users.csv"
	sipp_register 1 || fail "sipp could not register user3"
	users_csv 4 4 >"$WORK/users.csv"
	sipp_register 1 || fail "sipp could not register user4"
	# user3: REGISTER, 401, REGISTER, 200
	for _ in $(seq 1 30); do
		[ "$(hep_from sip:user3@example.com)" = 4 ] && break
		sleep 0.1
	done
	[ "$(hep_from sip:user3@example.com)" = 4 ] ||
		fail "$(hep_from sip:user3@example.com) of user3's 4 messages sent as HEP"
	[ "$(hep_from sip:user4@example.com)" = 0 ] || fail "user4's messages sent as HEP"
	grep -q "^From: <sip:user3@example.com>" "$WORK/locus.log" ||
		fail "user3's messages are not logged whole"
	grep -q "^From: <sip:user4@example.com>" "$WORK/locus.log" &&
		fail "user4's messages are logged whole"
	psql_q "SELECT locus.untrace('user3@example.com')" >/dev/null
	until_log "trace of user3@example.com ended" "the trace's end is not logged"
}

step_stop() {
	log "stop: SIGTERM"
	kill -TERM "$LOCUS_PID"
	local status=0
	wait "$LOCUS_PID" || status=$?
	LOCUS_PID=
	[ $status -eq 0 ] || fail "locus exited $status after SIGTERM"
	[ "$(tail -n 1 "$WORK/notify.out")" = STOPPING=1 ] ||
		fail "the last notice is not STOPPING=1: $(tail -n 3 "$WORK/notify.out")"
	[ "$(notify_count WATCHDOG=1)" -ge 1 ] || fail "no WATCHDOG=1 while locus ran"
}

step_remove() {
	log "remove: apt-get purge locus"
	purge >"$WORK/apt.log" 2>&1 || fail "apt-get purge: $(tail -n 20 "$WORK/apt.log")"
	local f
	for f in /usr/sbin/locus /etc/locus "$UNIT" /var/lib/locus; do
		[ ! -e "$f" ] || fail "$f is left after purge"
	done
	! dpkg-statoverride --list "$CONF" >/dev/null ||
		fail "the statoverride of $CONF is left after purge"
}

step_lint
step_install
step_unit
step_config
step_start
step_register
step_reload
step_trace
step_stop
step_remove
log "package: $(basename "$deb") passes"
