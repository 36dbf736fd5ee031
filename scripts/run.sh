#!/usr/bin/env bash
# The main job: install what is missing, build, start a private PostgreSQL
# in state/ (created and loaded the first time), then locus in the
# foreground with config/locus.conf on 127.0.0.1:5060 UDP and TCP and
# 127.0.0.1:5061 TLS (a self-signed certificate, made the first time).
# Ctrl-C stops both.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh
scripts/build.sh
scripts/pg.sh init state
scripts/pg.sh start state
trap 'scripts/pg.sh stop state' EXIT
scripts/pg.sh schema state locus

# The TLS listener's certificate: self-signed, made once, for this machine
# only.  Replace state/tls/*.pem with real ones to serve others.
if [ ! -f state/tls/cert.pem ]; then
	mkdir -p state/tls
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout state/tls/key.pem -out state/tls/cert.pem \
		-days 3650 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
	chmod 600 state/tls/key.pem
fi

echo "run: PostgreSQL socket in $top/state/run; inspect bindings with:"
echo "     psql -h $top/state/run -U locus locus -c 'table locus.bindings'"
# Not exec: the trap must stop PostgreSQL when locus exits.
build/locus -f config/locus.conf || status=$?
exit "${status:-0}"
