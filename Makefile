# Linnet: the two commands from the README are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never
SERVERS := tests/servers/servers.sh

.PHONY: deps servers stop-servers build test test-unit test-integration test-bindings test-apps soak toolchains demo bench bench-upload bench-calls bench-wake bench-push bench-bindings fuzz fmt clippy lint

# System packages (Debian 12) and the local XMPP servers' packages.
deps:
	@bash tests/setup-deps.sh
	@bash tests/peers/setup.sh
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
	bash bindings/scripts/test-bindings.sh

# The fault soak at full length (issue 4): 1000 messages each way between two clients while a
# random fault (cut, stall, latency, fragments) hits a link every 1-3 s, on Prosody and ejabberd.
# `make test` runs it with 200. LINNET_SOAK_SEED=N replays a run's faults.
soak: servers
	cargo build -p linnet-tests --tests --locked
	LINNET_SOAK_MESSAGES=$${LINNET_SOAK_MESSAGES:-1000} cargo nextest run -p linnet-tests --test faults \
		--locked --profile ci --no-capture -E 'test(soak)' 2>&1 | grep -E '^(soak|faults: soak)|PASS|FAIL|panicked|Summary'; \
		exit $${PIPESTATUS[0]}

# Kotlin (kotlinc 2.4.20, JDK 17, JNA) and Swift 6 (a Debian 13 chroot on Linux) for the bindings'
# tests, in $${LINNET_TOOLCHAINS:-/var/cache/linnet-toolchains}; idempotent, <1 s when installed.
# See bindings/scripts/setup-toolchains.sh.
toolchains:
	@bash bindings/scripts/setup-toolchains.sh all

# The generated Kotlin and Swift bindings, compiled and run against the test servers: every program
# under bindings/tests/{kotlin,swift}, then the native apps (their view layers checked, their
# presentation layers tested; see bindings/scripts/test-bindings.sh for the conventions).
# BINDINGS=kotlin|swift|apps|all (default all), BINDINGS_FILTER=substring of a program's name;
# LINNET_BINDINGS_SERVERS=0 runs without servers.
test-bindings: servers
	bash bindings/scripts/test-bindings.sh $${BINDINGS:-all} $${BINDINGS_FILTER:-}

# The native apps alone: the view-layer check and the presentation layers' tests.
test-apps: servers
	bash bindings/scripts/test-bindings.sh apps $${BINDINGS_FILTER:-}

demo: servers
	cargo build --release --locked -p linnet-cli
	bash tests/demo.sh

bench: servers
	bash benches/run.sh

# Upload of a 100 MB file beside curl, and peak memory (issue 6): its own private server instance.
bench-upload:
	bash benches/upload.sh

# Voice calls (issue 7): setup latency over 20 calls through Prosody beside the media stack alone
# and aiortc, and DTMF accuracy over 200 digits. See benches/calls.sh for its variables.
bench-calls: servers
	bash benches/calls.sh

# The push wake-up (issue 8): peak RSS and wall time of `linnet wake` fetching 50 pending messages
# beside a slixmpp MAM fetch, on Prosody and ejabberd. See benches/wake.sh for its variables.
bench-wake: servers
	bash benches/wake.sh

# The push app server's throughput to the fake APNs (issue 8): benches/push.sh.
bench-push: servers
	bash benches/push.sh

# The bindings' figures: FFI call cost (Kotlin, Swift), arrival-to-listener latency, library size.
bench-bindings: servers
	bash bindings/bench/run.sh

# Fuzz the XML stream reader, the stanza handlers and SCRAM for FUZZ_SECONDS in all (default 60),
# on the corpus in fuzz/ (not run in CI). See fuzz/README.md.
fuzz:
	bash fuzz/run.sh $${FUZZ_SECONDS:-60}
