#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and
# prints the admin URL to use as QUNBAN_TEST_POSTGRES_URL.
#
#   eval "$(scripts/pg-throwaway.sh)"   # exports QUNBAN_TEST_POSTGRES_URL
#
# Needs Debian's postgresql package. The cluster lives in a temp folder and
# is stopped with: pg_ctl -D "$QUNBAN_PGDATA" stop
set -euo pipefail
PORT="${QUNBAN_PG_PORT:-55432}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$BIN/initdb" ] || { echo "postgresql server binaries not found (apt-get install postgresql)" >&2; exit 1; }
DATA="$(mktemp -d /tmp/qunban-pg.XXXXXX)"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$DATA"
  RUNAS=(runuser -u postgres --)
fi
"${RUNAS[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c max_connections=200" start >/dev/null
echo "export QUNBAN_PGDATA=$DATA"
echo "export QUNBAN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
