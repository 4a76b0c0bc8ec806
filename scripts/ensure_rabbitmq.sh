#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers on AMQP_URI: reuse one that is up, otherwise install and start
# Debian's rabbitmq-server (root only). Idempotent. With `--vhost NAME`, also make sure that virtual host
# exists for the guest account (the test suite runs in its own vhost, apart from `make run`).
set -euo pipefail
VHOST=""
if [ "${1:-}" = "--vhost" ]; then VHOST="${2:?--vhost needs a name}"; fi
AMQP_URI="${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}"
hostport=$(python3 - "$AMQP_URI" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(f"{u.hostname or '127.0.0.1'} {u.port or 5672}")
PY
)
read -r host port <<<"$hostport"

up() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

ensure_vhost() {
  [ -n "$VHOST" ] || return 0
  if ! PATH="$PATH:/usr/sbin" command -v rabbitmqctl >/dev/null 2>&1; then
    echo "rabbitmq: cannot create vhost $VHOST here (no rabbitmqctl); create it on the broker" >&2; return 0
  fi
  if ! PATH="$PATH:/usr/sbin" rabbitmqctl -q list_vhosts name 2>/dev/null | grep -qx "$VHOST"; then
    PATH="$PATH:/usr/sbin" rabbitmqctl -q add_vhost "$VHOST" >/dev/null
  fi
  PATH="$PATH:/usr/sbin" rabbitmqctl -q set_permissions -p "$VHOST" guest ".*" ".*" ".*" >/dev/null
}

if up; then echo "rabbitmq: reusing the broker on $host:$port"; ensure_vhost; exit 0; fi
if [ "$host" != "127.0.0.1" ] && [ "$host" != "localhost" ]; then
  echo "rabbitmq: nothing answers on $host:$port (AMQP_URI) and it is not local; start it yourself" >&2; exit 1
fi
if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  if [ "$(id -u)" != 0 ]; then echo "rabbitmq: not installed; run as root or install rabbitmq-server" >&2; exit 1; fi
  echo "rabbitmq: installing rabbitmq-server with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq rabbitmq-server >/dev/null
fi
echo "rabbitmq: starting"
# The Debian package may try to start it through the init system; a detached server is what we want here.
PATH="$PATH:/usr/sbin" rabbitmq-server -detached >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  if up && PATH="$PATH:/usr/sbin" rabbitmqctl -q status >/dev/null 2>&1; then
    echo "rabbitmq: up on $host:$port"; ensure_vhost; exit 0
  fi
  sleep 1
done
echo "rabbitmq: did not come up in 60 s" >&2
exit 1
