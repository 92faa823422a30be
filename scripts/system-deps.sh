#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those that are missing, then axe-core.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi ipaex || need+=(fonts-ipaexfont)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v npm >/dev/null 2>&1 || need+=(npm)
# `portal-marketplace backup` / `restore` on PostgreSQL (and their tests).
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${need[*]} (run as root or install them with apt-get)" >&2
    exit 1
  fi
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The accessibility checker the browser tests inject (from the npm registry, cached in .cache/).
bash "$(dirname "$0")/axe.sh"
