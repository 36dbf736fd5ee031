#!/usr/bin/env bash
# The main job: install what is missing, build, start a private PostgreSQL
# in state/ (created and loaded the first time), then locus in the
# foreground with config/locus.conf on 127.0.0.1:5060 UDP and TCP.
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

echo "run: PostgreSQL socket in $top/state/run; inspect bindings with:"
echo "     psql -h $top/state/run -U locus locus -c 'table locus.bindings'"
# Not exec: the trap must stop PostgreSQL when locus exits.
build/locus -f config/locus.conf || status=$?
exit "${status:-0}"
