# Linnet: the two commands from the README are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never
SERVERS := tests/servers/servers.sh

.PHONY: deps servers stop-servers build test test-unit test-integration demo bench fuzz fmt clippy lint

# System packages (Debian 12) and the local XMPP servers' packages.
deps:
	@bash tests/setup-deps.sh
	@bash $(SERVERS) install

servers: deps
	@bash $(SERVERS) start

stop-servers:
	@bash $(SERVERS) stop

build:
	cargo build --workspace --all-targets

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Unit tests, then integration tests against real Prosody and ejabberd (started here).
test: servers
	cargo build --workspace --all-targets --locked
	bash tests/redaction-canary.sh
	cargo nextest run --workspace --locked --no-fail-fast --profile ci

demo: servers
	cargo build --release --locked -p linnet-cli
	bash tests/demo.sh

bench: servers
	bash benches/run.sh

# Fuzz the XML stream reader, the stanza handlers and SCRAM for FUZZ_SECONDS in all (default 60),
# on the corpus in fuzz/ (not run in CI). See fuzz/README.md.
fuzz:
	bash fuzz/run.sh $${FUZZ_SECONDS:-60}
