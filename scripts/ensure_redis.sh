#!/usr/bin/env bash
# Make sure a Redis server answers on RATELIMIT_STORAGE_URI (the gateway's shared rate-limit counters):
# reuse one that is up, otherwise install Debian's redis-server (root only) and start it detached.
# Idempotent. The counters need no persistence, so a server started here saves nothing to disk.
set -euo pipefail
URI="${RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379/0}"
hostport=$(python3 - "$URI" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(f"{u.hostname or '127.0.0.1'} {u.port or 6379}")
PY
)
read -r host port <<<"$hostport"

up() {
  # A PING answered with +PONG, not only an open port (a starting server may accept before it serves).
  local reply
  exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || reply=""
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

if up; then echo "redis: reusing the server on $host:$port"; exit 0; fi
if [ "$host" != "127.0.0.1" ] && [ "$host" != "localhost" ]; then
  echo "redis: nothing answers on $host:$port (RATELIMIT_STORAGE_URI) and it is not local; start it yourself" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  if [ "$(id -u)" != 0 ]; then echo "redis: not installed; run as root or install redis-server" >&2; exit 1; fi
  echo "redis: installing redis-server with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null; }
fi
echo "redis: starting"
# The Debian package may try to start it through the init system; a detached server of our own is what we want.
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no >/dev/null
for _ in $(seq 1 30); do
  if up; then echo "redis: up on $host:$port"; exit 0; fi
  sleep 1
done
echo "redis: did not come up in 30 s" >&2
exit 1
