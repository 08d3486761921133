#!/usr/bin/env bash
# e2e.sh: the tests that need the real binary, a real server and a second
# program: the dashboard in headless Chromium (e2e/run.mjs) and, when
# present, the notebook snapshot opened by @duckdb/node-api
# (e2e/snapshot_test.mjs). Each runs against its own fresh data dir. The
# dashboard's pure helpers have node:test files beside them (ui/src/lib).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-bin/exohunter}"
[ -x "$BIN" ] || go build -o "$BIN" .
[ -d e2e/node_modules ] || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)

work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# free_port asks the kernel for an unused loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

# start_server DIR: serve a fresh data dir in the background, wait for health.
start_server() {
  local dir="$1" port
  port="$(free_port)"
  "$BIN" serve --data-dir "$dir/data" --feature-store "$dir/feature_store" --addr "127.0.0.1:$port" \
    >"$dir/server.log" 2>&1 &
  pid=$!
  URL="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do
    if curl -fsS "$URL/api/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; echo "e2e: server exited" >&2; return 1; }
    sleep 0.5
  done
  cat "$dir/server.log" >&2
  echo "e2e: server did not become healthy" >&2
  return 1
}

stop_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

status=0
echo "e2e: dashboard unit tests (node --test ui/src/lib/)" >&2
node --test ui/src/lib/ || status=1

mkdir -p "$work/browser"
start_server "$work/browser"
echo "e2e: dashboard in headless chromium against $URL" >&2
EXOHUNTER_URL="$URL" node e2e/run.mjs || status=1
stop_server
[ $status -eq 0 ] || tail -50 "$work/browser/server.log" >&2

if [ -f e2e/snapshot_test.mjs ]; then
  mkdir -p "$work/snapshot"
  start_server "$work/snapshot"
  echo "e2e: snapshot opened by @duckdb/node-api while the server runs" >&2
  EXOHUNTER_URL="$URL" EXOHUNTER_BIN="$BIN" EXOHUNTER_DATA="$work/snapshot/data" node e2e/snapshot_test.mjs || status=1
  stop_server
fi
exit $status
