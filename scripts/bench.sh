#!/usr/bin/env bash
# make bench: pipeline, results, export and console benchmarks (bench/main.go).
# Not part of make test. Environment:
#   BENCH_SIZES=250k,1M,10M   catalog sizes (default all three)
#   BENCH_DIR=DIR             work dir; generated catalogs are reused from it
#                             (default: a fresh temp dir, removed afterwards)
#   BENCH_KEEP=1              keep the work dir
#   BENCH_MEMLIMIT_ROWS=5M    rows of the --memory-limit 256MB stage (0 skips)
#   BENCH_MODELS_ROWS=1M      rows of the models stage: features build, anomalies,
#                             score with a model trained on the real KOI table (0 skips);
#                             the stage also times training the three targets on KOI
#   BENCH_ARGS="..."          more flags, e.g. "-repeat 1 -clients 16"
# The 10M catalog is about 3.6 GB of CSV; the bench checks free disk first.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
if [ ! -x bin/exohunter ]; then
	"$GO" build -o bin/exohunter .
fi
"$GO" build -o bin/exobench ./bench

# shellcheck disable=SC2086
exec ./bin/exobench -bin bin/exohunter -repo . ${BENCH_ARGS:-}
