# Heirloom: `make run` serves the app on http://127.0.0.1:3000, `make test` runs every test.
# Both install what they need first and are quick when everything is in place.

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Keep build output outside the checkout when the caller says so (CI does).
export CARGO_TARGET_DIR ?= $(CURDIR)/target
# cargo-leptos always writes the site here, relative to the workspace.
SITE_ROOT := $(CURDIR)/target/site
BIN := $(CARGO_TARGET_DIR)/release/heirloom

.PHONY: tools build run dev test test-rust test-js test-ops test-e2e test-api test-fuzz fuzz bench chaos fmt lint clean-data

tools:
	@scripts/tools.sh

build: tools
	cargo leptos build --release

run: build
	LEPTOS_SITE_ROOT=$(SITE_ROOT) LEPTOS_SITE_ADDR=$${LEPTOS_SITE_ADDR:-127.0.0.1:3000} LEPTOS_ENV=PROD \
	HEIRLOOM_LOG_FORMAT=$${HEIRLOOM_LOG_FORMAT:-pretty} $(BIN) serve

# Rebuilds and restarts on every change (debug build).
dev: tools
	cargo leptos watch

test: tools
	@scripts/test-tools.sh
	$(MAKE) test-rust
	$(MAKE) test-fuzz
	$(MAKE) test-js
	$(MAKE) test-ops
	$(MAKE) build
	$(MAKE) test-e2e
	$(MAKE) test-api

# Unit and integration tests; the PostgreSQL variants run when TEST_DATABASE_URL is set.
test-rust:
	@if command -v cargo-nextest >/dev/null; then \
	  cargo nextest run --workspace --exclude frontend --no-fail-fast; \
	else \
	  cargo test --workspace --exclude frontend --no-fail-fast; \
	fi

# The editor's Markdown round trip and mounted-editor tests (node's test runner, jsdom).
test-js:
	npm test --prefix editor

# The Dockerfile, docker-compose.yml and the Helm chart, without Docker or helm:
# hadolint, Compose's parser, Helm's engine, Kubernetes' schemas (see the script).
test-ops:
	scripts/test-ops.sh

# Playwright in Debian's Chromium against the release binary and site.
test-e2e:
	E2E_BIN=$(BIN) LEPTOS_SITE_ROOT=$(SITE_ROOT) npx playwright test --config end2end/playwright.config.ts

# Schemathesis against the release binary's REST API: no 5xx, every response as documented.
test-api:
	E2E_BIN=$(BIN) LEPTOS_SITE_ROOT=$(SITE_ROOT) scripts/schemathesis.sh

# Fuzzing (cargo-fuzz, libFuzzer): the Markdown → sanitized HTML path and upload content
# sniffing, each for $(1) seconds. cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets
# the pinned stable toolchain accept them. New inputs go to fuzz/corpus/<target> (not
# committed); checked-in seeds are read from there or from fuzz/seeds/<target>.
FUZZ_TARGETS := markdown_render upload_sniff
FUZZ = cd fuzz && for target in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$target && \
	  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)-fuzz cargo fuzz run $$target corpus/$$target \
	    $$(test -d seeds/$$target && echo seeds/$$target) -- -max_total_time=$(1) || exit 1; \
	done
test-fuzz:
	$(call FUZZ,$${FUZZ_SECONDS:-5})

fuzz:
	$(call FUZZ,$${FUZZ_SECONDS:-300})

# Load scenarios against the release binary; results in bench/results/ (see bench/README.md).
bench: build
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "bench: install wrk"; exit 1; }
	BENCH_BIN=$(BIN) LEPTOS_SITE_ROOT=$(SITE_ROOT) python3 bench/run.py

# Load and fault scenarios (kill -9 under writes; PostgreSQL, NATS and S3 outages, each
# a server of its own; sustained load); loopback only, about 20 minutes; results in
# bench/results/chaos-*.
chaos: build
	BENCH_BIN=$(BIN) BENCH_SITE=$(SITE_ROOT) python3 bench/chaos.py

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

clean-data:
	rm -rf data
