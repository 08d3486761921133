#!/usr/bin/env bash
# fuzz.sh [DURATION]: runs every `func FuzzX` target in the module for
# DURATION each (default 10s; CI keeps it short, `make fuzz FUZZTIME=5m`
# runs longer). New crashers land in the package's testdata/fuzz/ folder.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-10s}"
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r name; do
    echo "fuzz: $pkg $name for $t" >&2
    go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" "$pkg"
  done
done
