#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the storage tests and prints its SQLAlchemy URL, then, on a
# second line, its folder; `bash scripts/postgres.sh stop <folder>` stops it and deletes the folder.
# Installs PostgreSQL (Debian packages) first when it is missing and we are root.
set -euo pipefail
as_owner() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ "${1:-}" = stop ]; then
  dir=$2
  case "$dir" in /tmp/coach-pg.*) ;; *) echo "not a throwaway server's folder: $dir" >&2; exit 2;; esac
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  as_owner "$bindir/pg_ctl -D $dir/data -m fast -w stop >/dev/null" || true
  rm -rf "$dir"
  exit 0
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  else
    echo "PostgreSQL is not installed (sudo apt-get install postgresql)" >&2; exit 1
  fi
fi
dir=$(mktemp -d /tmp/coach-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bindir/initdb -D $dir/data -A trust -U postgres >/dev/null"
as_owner "$bindir/pg_ctl -D $dir/data -l $dir/log -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -w start >/dev/null"
as_owner "$bindir/createdb -h 127.0.0.1 -p $port -U postgres coach_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/coach_test"
echo "$dir"
