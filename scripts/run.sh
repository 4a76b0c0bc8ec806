#!/usr/bin/env bash
# Start every service and the gateway in the foreground (honcho + Procfile); Ctrl-C stops them all.
# Called by `make run` after install, broker, redis, migrate and seed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
# A development JWT secret, made once and kept out of the repo. Production sets JWT_SECRET itself.
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s var/dev-jwt-secret ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > var/dev-jwt-secret
  JWT_SECRET="$(cat var/dev-jwt-secret)"
fi
export JWT_SECRET
export GATEWAY_PORT="${GATEWAY_PORT:-8000}"
# The gateway's workers share their rate-limit counters in Redis (`make redis`); memory would count per worker.
export RATELIMIT_STORAGE_URI="${RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379/0}"
export PSYCOPG_WAIT_FUNC="${PSYCOPG_WAIT_FUNC:-wait_select}"
export PYTHONUNBUFFERED=1
# eventlet's banner is a bare Warning, not a DeprecationWarning: helpdesk_common.run and gateway.serve drop it
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
export PATH="$PWD/.venv/bin:$PATH"
cat <<MSG

  Helpdesk is starting.
  API:          http://127.0.0.1:${GATEWAY_PORT}/api/v1
  API docs:     http://127.0.0.1:${GATEWAY_PORT}/api/v1/docs
  Health:       http://127.0.0.1:${GATEWAY_PORT}/health/ready
  Demo logins:  admin@example.com / admin123     (admin)
                carlos@example.com / carlos123   (agent, Redes y Servidores)
                maria@example.com / maria123     (agent, Hardware y Impresoras)
                jorge@example.com / jorge123     (agent, Software y Bases de Datos)
                ana@example.com / ana123         (customer)
  Ctrl-C stops everything.

MSG
# HELPDESK_CONCURRENCY runs more processes of a service, e.g. "tickets=2" (PostgreSQL only: SQLite takes one
# writer at a time); each extra process serves /metrics on the next free port.
exec .venv/bin/honcho start -f Procfile -d . ${HELPDESK_CONCURRENCY:+-c "$HELPDESK_CONCURRENCY"}
