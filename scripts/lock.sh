#!/usr/bin/env bash
# Re-pin every dependency: resolve requirements.in (runtime) and requirements-dev.in (tools) in throwaway
# virtualenvs and write the fully pinned requirements.txt and requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3.11 -m venv "$tmp/rt" && "$tmp/rt/bin/pip" install -q -r requirements.in
python3.11 -m venv "$tmp/all" && "$tmp/all/bin/pip" install -q -r requirements.in -r requirements-dev.in
{ echo "# Runtime dependencies, fully pinned (generated from requirements.in by scripts/lock.sh)."; "$tmp/rt/bin/pip" freeze | LC_ALL=C sort; } > requirements.txt
{ echo "# Development and test tools, fully pinned (generated from requirements-dev.in by scripts/lock.sh)."
  echo "-r requirements.txt"
  LC_ALL=C comm -13 <("$tmp/rt/bin/pip" freeze | LC_ALL=C sort) <("$tmp/all/bin/pip" freeze | LC_ALL=C sort); } > requirements-dev.txt
echo "pinned $(grep -c '==' requirements.txt) runtime and $(grep -c '==' requirements-dev.txt) development packages"
