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
#   register  sipp registers USERS users, each answering a challenge
#   reload    the unit's ExecReload (SIGHUP): logged, locus serves on
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

# sipp_register: every user registers once; sipp's exit status.
sipp_register() {
	local port; port=$(free_port)
	( cd "$WORK" && timeout 60 sipp -sf "$top/tests/package/register.xml" \
		-inf "$WORK/users.csv" -auth_uri example.com -m "$USERS" -r 50 \
		-i 127.0.0.1 -p "$port" \
		-timeout 30s -timeout_error -nostdin -trace_err -trace_msg \
		"127.0.0.1:$LOCUS_PORT" >"$WORK/sipp_$port.out" 2>&1 ) || {
		tail -n 20 "$WORK"/*_errors.log >&2 2>/dev/null || true
		return 1
	}
}

step_register() {
	log "register: $USERS users with sipp"
	{
		echo SEQUENTIAL
		for i in $(seq 1 "$USERS"); do
			printf 'user%d;[authentication username=user%d password=pw%d];%012d\n' \
				"$i" "$i" "$i" "$i"
		done
	} >"$WORK/users.csv"
	sipp_register || fail "sipp could not register every user"
	local n; n=$(psql_q "SELECT count(*) FROM locus.bindings")
	[ "$n" -eq "$USERS" ] || fail "$n bindings in the database, expected $USERS"
}

step_reload() {
	log "reload: $(unit_value ExecReload)"
	$(unit_value ExecReload)
	for _ in $(seq 1 50); do
		grep -q "SIGHUP: reload requested" "$WORK/locus.log" && break
		sleep 0.1
	done
	grep -q "SIGHUP: reload requested" "$WORK/locus.log" ||
		fail "ExecReload: SIGHUP was not logged"
	locus_alive || fail "ExecReload ended locus"
	sipp_register || fail "sipp could not register after the reload"
	local n; n=$(psql_q "SELECT count(*) FROM locus.bindings")
	[ "$n" -eq "$USERS" ] || fail "$n bindings after the reload, expected $USERS"
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
step_stop
step_remove
log "package: $(basename "$deb") passes"
