#!/bin/sh
# Create one database per service, named in POSTGRES_MULTIPLE_DATABASES (comma- or space-separated),
# owned by POSTGRES_USER. The postgres image runs it once, on an empty data directory. It is idempotent:
# to add a database to a running server, add its name to the variable and run this script again inside
# the container (deploy/README.md).
# The subshell keeps `set -eu` and `exit` to this script when the entrypoint sources it instead of running it.
(
  set -eu
  for db in $(echo "${POSTGRES_MULTIPLE_DATABASES:-}" | tr ',' ' '); do
    case "$db" in
      *[!a-z0-9_]*) echo "create-databases: '$db' is not a valid database name ([a-z0-9_]+)" >&2; exit 1 ;;
    esac
    echo "create-databases: ensuring database $db"
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres <<SQL
SELECT 'CREATE DATABASE "$db" OWNER "$POSTGRES_USER"'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
  done
)
