#!/usr/bin/env bash
# Installs what locus needs to build, run and test, from Debian's packages.
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config
	libre-dev libpq-dev libconfig-dev libssl-dev libcmocka-dev
	# run: a private PostgreSQL server and its client
	postgresql postgresql-client
	# the TLS listener's self-signed certificate (scripts/run.sh, tests)
	openssl
	# test: real SIP peers nobody here wrote
	sip-tester baresip-core linphone-cli twinkle
	# test: JsSIP in a headless browser (tests/browser; npm packages below)
	chromium
	# test: what attackers run (svwar, svcrack)
	sipvicious
	# fuzzing (scripts/fuzz.sh): clang and its libFuzzer runtime
	clang libclang-rt-14-dev
	# test: promtool (tests/integration/metrics.sh checks the exposition)
	prometheus
	# test helpers: procps (pgrep/pkill), iproute2 (ss), util-linux (flock)
	procps iproute2 util-linux
	# the Debian package (scripts/package.sh) and its checks
	# (tests/package/run.sh): lintian, systemd-analyze, man
	debhelper dpkg-dev fakeroot lintian systemd man-db git
)

# JsSIP and playwright-core come from the npm registry, pinned by
# tests/browser/package-lock.json; installed once into tests/browser.
browser_modules() {
	local dir
	dir=$(cd "$(dirname "$0")/../tests/browser" 2>/dev/null && pwd) || return 0
	[ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ] || return 0
	command -v npm >/dev/null || { echo "deps: npm is missing (for tests/browser)" >&2; exit 1; }
	echo "deps: installing tests/browser's npm packages"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	browser_modules
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run this as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
browser_modules
