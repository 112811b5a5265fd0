#!/usr/bin/env bash
# Push app server throughput (issue 8, Deliver 6): pushes forwarded per second to the fake APNs
# endpoint, by the APNs sender alone (the ceiling of the HTTP/2 leg) and by linnet-push's publish
# handling with its SQLite and PostgreSQL stores (release build). See docs/benchmarks.md,
# "Push app server (issue 8)" and benches/src/push.rs.
#
# Environment: PUSH_BENCH_DEVICES (default 2000), PUSH_BENCH_WINDOW (default 64),
# PUSH_BENCH_SERVER (default prosody: the server linnet-push connects to as push.<domain>).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/servers/servers.sh start >&2
cargo build --release --locked -p linnet-bench --bin linnet-push-bench >&2
"${CARGO_TARGET_DIR:-target}/release/linnet-push-bench" \
    --server "${PUSH_BENCH_SERVER:-prosody}" \
    --devices "${PUSH_BENCH_DEVICES:-2000}" \
    --window "${PUSH_BENCH_WINDOW:-64}"
