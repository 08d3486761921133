# ExoHunter. `make run` serves the dashboard; `make test` runs every test.
# Both install what a fresh Debian machine lacks (scripts/install-deps.sh).

GO        ?= go
BIN       := bin/exohunter
SAMPLE    ?= ../shared/data/koi_cumulative_2025.csv
# note: make run honours EXOHUNTER_ADDR as serve does; ADDR=... overrides both.
ADDR      ?= $(or $(EXOHUNTER_ADDR),127.0.0.1:8080)
DATA      ?= data
DURATION  ?= 60s
FUZZTIME  ?= 10s

.PHONY: all build run test test-go test-e2e deps deps-run vet bench soak fuzz ui clean

all: build

# deps-run: what the server needs (XGBoost for training from the
# dashboard); deps: also Chromium, Node.js and the tests' npm packages.
deps-run:
	@./scripts/install-deps.sh run

deps:
	@./scripts/install-deps.sh test

build:
	$(GO) build -o $(BIN) .

# Serve on the embedded default database. When the shared NASA sample exists
# it is ingested and processed once, on an empty database only.
run: deps-run build
	@if [ -f "$(SAMPLE)" ]; then \
		exec ./$(BIN) serve --addr $(ADDR) --data-dir $(DATA) --sample "$(SAMPLE)"; \
	else \
		exec ./$(BIN) serve --addr $(ADDR) --data-dir $(DATA); \
	fi

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The whole suite: Go tests (real DuckDB, real HTTP, in-process S3 server,
# XGBoost), short fuzz runs, then the browser and second-client tests.
test: deps vet test-go fuzz test-e2e

test-go:
	$(GO) test -count=1 -timeout 30m ./...

test-e2e: build
	@./scripts/e2e.sh

# Fuzz targets, briefly; FUZZTIME=5m for a longer run.
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

# Benchmarks print numbers and are not part of `make test`.
bench: deps-run build
	@./scripts/bench.sh

soak: deps-run build
	@./scripts/soak.sh $(DURATION)

ui:
	@./ui/build.sh

clean:
	rm -rf bin
