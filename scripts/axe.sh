#!/usr/bin/env bash
# Install axe-core (the accessibility checker the browser tests inject) into .cache/axe, once.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.cache/axe/node_modules/axe-core/axe.min.js
if [ -f "$target" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing; scripts/system-deps.sh installs it" >&2
  exit 1
fi
npm install --prefix .cache/axe --no-audit --no-fund --silent axe-core@4
test -f "$target"
