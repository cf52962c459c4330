#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster in a temporary directory on a free loopback port, for the
# validator's test suite and benchmark (NYA_TEST_DATABASE_URL).
#
#   scripts/ci-postgres.sh -- npx vitest run test/validator   # run a command against it, then stop it
#   eval "$(scripts/ci-postgres.sh)"                          # leave it running; prints the exports
#                                                             # and NYA_PG_STOP (a command that stops it)
#
# Finds initdb/pg_ctl via `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH. PostgreSQL
# refuses to run as root, so as root the cluster runs as the `postgres` user (or `nobody`).
set -euo pipefail

find_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return
  fi
  echo "ci-postgres: no initdb/pg_ctl found (install Debian's postgresql package)" >&2
  exit 1
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

BINDIR="$(find_bindir)"
PORT="$(free_port)"
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/nya-pg.XXXXXX")"
DATA="$ROOT/data"

as_owner() { "$@"; }
if [[ "$(id -u)" == "0" ]]; then
  OWNER=postgres
  id "$OWNER" >/dev/null 2>&1 || OWNER=nobody
  chown "$OWNER" "$ROOT"
  chmod 700 "$ROOT"
  as_owner() { runuser -u "$OWNER" -- "$@"; }
fi

as_owner "$BINDIR/initdb" -D "$DATA" -U nya --auth=trust --encoding=UTF8 --no-locale >"$ROOT/initdb.log" 2>&1 \
  || { cat "$ROOT/initdb.log" >&2; exit 1; }
# Durability off: this cluster lives for one test run and is thrown away.
as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$ROOT/server.log" >&2; exit 1; }

URL="postgres://nya@127.0.0.1:$PORT/postgres"
stop_cluster() {
  as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$ROOT"
}

if [[ "${1:-}" == "--" ]]; then
  shift
  trap stop_cluster EXIT
  echo "ci-postgres: PostgreSQL on $URL" >&2
  NYA_TEST_DATABASE_URL="$URL" "$@"
else
  if [[ "$(id -u)" == "0" ]]; then STOP="runuser -u $OWNER -- $BINDIR/pg_ctl -D $DATA -m fast stop && rm -rf $ROOT"
  else STOP="$BINDIR/pg_ctl -D $DATA -m fast stop && rm -rf $ROOT"; fi
  echo "export NYA_TEST_DATABASE_URL='$URL'"
  echo "export NYA_PG_STOP='$STOP'"
  echo "ci-postgres: PostgreSQL on $URL; stop it with: eval \"\$NYA_PG_STOP\"" >&2
fi
