#!/usr/bin/env bash
# Make sure the Chromium the browser tests drive (through Playwright, never `playwright install`) is here:
# reuse an installed one, otherwise install Debian's `chromium` with apt (root only; `apt-get update` only
# when the first attempt fails). Idempotent. Without root and without Chromium it says so and exits 0
# (the browser tests then skip, with the reason); with `--require` a Chromium missing at the end is an
# error, which is what CI wants.
set -euo pipefail
REQUIRE=0
if [ "${1:-}" = "--require" ]; then REQUIRE=1; fi

found() {
  local candidate
  for candidate in "${CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

missing() {
  echo "chromium: $1" >&2
  if [ "$REQUIRE" = 1 ]; then exit 1; fi
  exit 0
}

if path=$(found); then echo "chromium: reusing $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  missing "not installed and not root; install Debian's chromium (apt-get install chromium) or the browser tests skip"
fi
echo "chromium: installing Debian's chromium with apt"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  echo "chromium: first attempt failed; apt-get update and again"
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends chromium >/dev/null || missing "apt-get install chromium failed"
fi
path=$(found) || missing "installed, yet no chromium executable found"
echo "chromium: installed $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
