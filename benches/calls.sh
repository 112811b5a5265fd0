#!/usr/bin/env bash
# Voice call benchmarks (issue 7): call setup latency (place_call -> the callee's first audio)
# between two Linnet clients through the local server, beside the media stack alone and an
# independent stack (aiortc calling aiortc through the same server), and DTMF accuracy over
# 200 seeded random digits. See docs/benchmarks.md, "Calls (issue 7)", and benches/src/calls.rs.
#
# Starts the shared test servers if needed (never stops them), builds linnet-calls-bench in
# release, runs it once, and keeps the JSON, the log and the machine facts in $BENCH_OUT.
#
# Environment:
#   CALLS_BENCH_SERVER        prosody (default) or ejabberd
#   CALLS_BENCH_CALLS         timed Linnet calls (default 20), after CALLS_BENCH_WARMUP (1)
#   CALLS_BENCH_MEDIA_RUNS    media-stack-alone runs, without and with STUN/TURN (default 20 each, after 1 warm-up)
#   CALLS_BENCH_AIORTC_RUNS   aiortc -> aiortc calls (default 10; 0 skips them)
#   CALLS_BENCH_DIGITS        DTMF digits in one call (default 200)
#   CALLS_BENCH_SEED          the digits' seed (default 7)
#   CALLS_BENCH_ONLY          phases (default setup,media,media-turn,aiortc,dtmf)
#   LINNET_PEERS_VENV         the test peers' venv (default /var/cache/linnet-peers-venv)
#   BENCH_OUT                 output dir (default target/bench/calls-<UTC time>)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVER=${CALLS_BENCH_SERVER:-prosody}
CALLS=${CALLS_BENCH_CALLS:-20}
WARMUP=${CALLS_BENCH_WARMUP:-1}
MEDIA_RUNS=${CALLS_BENCH_MEDIA_RUNS:-20}
AIORTC_RUNS=${CALLS_BENCH_AIORTC_RUNS:-10}
DIGITS=${CALLS_BENCH_DIGITS:-200}
SEED=${CALLS_BENCH_SEED:-7}
ONLY=${CALLS_BENCH_ONLY:-setup,media,media-turn,aiortc,dtmf}
if [ "$AIORTC_RUNS" = 0 ]; then
    ONLY=$(echo "$ONLY" | tr ',' '\n' | grep -vx aiortc | paste -sd, -)
fi
OUT=${BENCH_OUT:-target/bench/calls-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { printf '== %s\n' "$*" >&2; }

# 1. Servers (idempotent: nothing happens when they run); the aiortc peers' venv.
bash tests/servers/servers.sh start >&2
case ",$ONLY," in *,aiortc,*) bash tests/peers/setup.sh >&2 ;; esac

# 2. The bench binary.
say "building linnet-calls-bench (release)"
cargo build --release --locked -p linnet-bench --bin linnet-calls-bench >&2
BIN=$ROOT/target/release/linnet-calls-bench

# 3. Machine facts.
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)"
    echo "rustc=$(rustc --version)"
    echo "server=$SERVER calls=$CALLS warmup=$WARMUP media_runs=$MEDIA_RUNS aiortc_runs=$AIORTC_RUNS digits=$DIGITS seed=$SEED only=$ONLY"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

# 4. The run.
say "running (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN" --server "$SERVER" --calls "$CALLS" --warmup "$WARMUP" --media-runs "$MEDIA_RUNS" \
    --aiortc-runs "$AIORTC_RUNS" --digits "$DIGITS" --seed "$SEED" --only "$ONLY" \
    >"$OUT/calls.json" 2> >(tee "$OUT/calls.log" >&2)
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
say "raw results in $OUT"
