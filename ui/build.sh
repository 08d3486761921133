#!/usr/bin/env bash
# build.sh: rebuilds ui/dist from ui/src (`make ui` calls this).
# Installs the lockfile-pinned npm packages first when they are missing.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs
