#!/usr/bin/env bash
# Make sure a local PostgreSQL 15 answers on 127.0.0.1:5432 with a `helpdesk` role (CREATEDB, password
# from PGPASSWORD_HELPDESK, default `helpdesk`) and a `helpdesk` database. Reuses a running server. Idempotent.
set -euo pipefail
PGPORT="${PGPORT:-5432}"
ROLE_PASSWORD="${PGPASSWORD_HELPDESK:-helpdesk}"
up() { (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null; }

if ! up; then
  if [ "$(id -u)" != 0 ]; then echo "postgres: nothing on 127.0.0.1:$PGPORT and not root; start PostgreSQL yourself" >&2; exit 1; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster 15 main start
  for _ in $(seq 1 30); do up && break; sleep 1; done
fi
psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtA -p $PGPORT $*"; }
if [ "$(id -u)" = 0 ]; then
  if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname='helpdesk'\"")" != "1" ]; then
    psql_admin "-c \"CREATE ROLE helpdesk LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD'\""
  fi
  # The planner's default random_page_cost (4) prices index probes for spinning disks; on SSDs and a
  # cached working set 1.1 is the usual setting, and it lets a search probe tickets by key instead of
  # reading the whole table. Set for our role only, never server-wide.
  psql_admin "-c \"ALTER ROLE helpdesk SET random_page_cost = 1.1\""
  if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname='helpdesk'\"")" != "1" ]; then
    psql_admin "-c \"CREATE DATABASE helpdesk OWNER helpdesk\""
  fi
fi
echo "postgres: up on 127.0.0.1:$PGPORT (role helpdesk)"
