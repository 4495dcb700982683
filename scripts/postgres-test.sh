#!/usr/bin/env bash
# Sourced by scripts/test.sh: starts a throwaway PostgreSQL 15 (Debian's package) on
# 127.0.0.1 for the tests and exports HOTLINE_TEST_PG_URL. Idempotent.
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=${HOTLINE_PG_DIR:-/tmp/hotline-pg}
PGPORT=${HOTLINE_PG_PORT:-55432}
if ! su postgres -c "$PGBIN/pg_ctl -D $PGDATA status" >/dev/null 2>&1; then
  rm -rf "$PGDATA"
  install -d -o postgres -m 700 "$PGDATA"
  su postgres -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres -E UTF8" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1\" start" >/dev/null
fi
su postgres -c "$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='hotline_test'\"" | grep -q 1 \
  || su postgres -c "$PGBIN/createdb -h 127.0.0.1 -p $PGPORT -U postgres hotline_test"
export HOTLINE_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/hotline_test"
echo "PostgreSQL for tests: $HOTLINE_TEST_PG_URL"
