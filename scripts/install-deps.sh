#!/usr/bin/env bash
# install-deps.sh [run|test]: installs what a fresh Debian machine with Go
# lacks, so that `make run` (run: what the server needs) and `make test`
# (test, the default: also the browser and the second DuckDB client) work
# after a clean clone. Idempotent and quiet when everything is already
# there. Each section says what needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
for_what="${1:-test}"

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

need_apt=()
# XGBoost C library, loaded at run time by ml/xgb for `train` and `score`.
[ -e /usr/lib/x86_64-linux-gnu/libxgboost.so ] || [ -e /usr/lib/libxgboost.so ] || need_apt+=(libxgboost-dev libxgboost0 libgomp1)
if [ "$for_what" = "test" ]; then
  # Headless browser for the dashboard tests (driven by npm playwright-core).
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  # Node.js and npm for the UI build and the browser / second-client tests.
  command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

# npm packages for browser tests and the second DuckDB client (lockfile-pinned:
# playwright-core drives the Debian chromium above, no browser download).
# Reinstalled when the lockfile is newer than the installed tree.
[ "$for_what" = "test" ] || exit 0
if [ -f e2e/package-lock.json ] && { [ ! -f e2e/node_modules/.package-lock.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; }; then
  echo "install-deps: npm ci in e2e/" >&2
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
# The dashboard's build tools (esbuild, CodeMirror, uPlot) are needed only to
# rebuild ui/dist (`make ui`, ui/build.sh, which runs its own npm ci); the
# committed ui/dist is what `go build` embeds.
