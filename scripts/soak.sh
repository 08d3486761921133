#!/usr/bin/env bash
# soak.sh [DURATION]: load a real server on loopback (make soak; default 60s,
# `make soak DURATION=5m` runs longer). Seeds a temporary data dir with the
# shared KOI table (by path), serves it with a fixed --memory-limit, runs 50
# concurrent clients plus one upload every 10 s, and prints requests, errors,
# p50/p99 latency per kind and the server's RSS. Exits non-zero when a
# must-hold fails (reliability/cmd/soak documents them). Extra flags after the
# duration go to the soak program (e.g. -clients 20 -json soak.json).
set -euo pipefail
cd "$(dirname "$0")/.."
d="${1:-60s}"
shift || true
koi="${SOAK_KOI:-../shared/data/koi_cumulative_2025.csv}"
if [ ! -f "$koi" ]; then
  echo "soak: $koi is missing (the shared NASA KOI table; set SOAK_KOI to another copy)" >&2
  exit 1
fi
[ -x bin/exohunter ] || go build -o bin/exohunter .
exec go run ./reliability/cmd/soak -duration "$d" -bin bin/exohunter -koi "$koi" "$@"
