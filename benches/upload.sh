#!/usr/bin/env bash
# File upload benchmark (issue 6): Linnet's send_file of a 100 MB file beside curl's PUT to the
# same kind of slot, on the same server in the same run, and the peak memory of each for 10 MB and
# 100 MB. See docs/benchmarks.md, "File upload (issue 6)", and benches/src/upload.rs.
#
# Starts a private server instance (its own state dir on tmpfs, its own ports, a 200 MiB upload
# limit) beside the shared test servers, which it never touches; builds linnet-upload-bench in
# release; runs it for each server; stops and removes the private instance again (its state holds
# the uploaded files, in memory on tmpfs) unless it was running before. Raw JSON and logs land in
# $BENCH_OUT.
#
# Environment:
#   UPLOAD_BENCH_SERVERS       servers to measure (default "prosody ejabberd")
#   UPLOAD_BENCH_RUNS          timed uploads per client and server (default 5), after
#   UPLOAD_BENCH_WARMUP        warm-up uploads (default 1)
#   UPLOAD_BENCH_SIZE          file size in bytes (default 100000000)
#   UPLOAD_BENCH_MEMORY_SIZES  sizes for the peak-memory runs (default 10000000,100000000; "" = none)
#   UPLOAD_BENCH_DIR           where the files and Linnet's data dir go (default /dev/shm: tmpfs)
#   UPLOAD_BENCH_STATE         the private instance's state dir (default /dev/shm/linnet-uploadbench)
#   LINNET_PROSODY_*_PORT, LINNET_EJABBERD_*_PORT  its ports (defaults 17902-17904, 27902-27906)
#   BENCH_OUT                  output dir (default target/bench/upload-<UTC time>)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVERS=${UPLOAD_BENCH_SERVERS:-prosody ejabberd}
RUNS=${UPLOAD_BENCH_RUNS:-5}
WARMUP=${UPLOAD_BENCH_WARMUP:-1}
SIZE=${UPLOAD_BENCH_SIZE:-100000000}
MEMORY_SIZES=${UPLOAD_BENCH_MEMORY_SIZES-10000000,100000000}
DIR=${UPLOAD_BENCH_DIR:-/dev/shm}
OUT=${BENCH_OUT:-target/bench/upload-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { printf '== %s\n' "$*" >&2; }

# 1. The private instance: never the shared one.
export LINNET_TEST_STATE=${UPLOAD_BENCH_STATE:-/dev/shm/linnet-uploadbench}
if [ "$LINNET_TEST_STATE" = /tmp/linnet-test-servers ]; then
    echo "upload.sh: UPLOAD_BENCH_STATE must not be the shared test servers' state dir" >&2
    exit 2
fi
export LINNET_TEST_SERVERS="$SERVERS"
export LINNET_UPLOAD_MAX_BYTES=209715200 # 200 MiB
export LINNET_PROSODY_STARTTLS_PORT=${LINNET_PROSODY_STARTTLS_PORT:-17902}
export LINNET_PROSODY_DIRECT_TLS_PORT=${LINNET_PROSODY_DIRECT_TLS_PORT:-17903}
export LINNET_PROSODY_UPLOAD_HTTPS_PORT=${LINNET_PROSODY_UPLOAD_HTTPS_PORT:-17904}
export LINNET_EJABBERD_STARTTLS_PORT=${LINNET_EJABBERD_STARTTLS_PORT:-27902}
export LINNET_EJABBERD_DIRECT_TLS_PORT=${LINNET_EJABBERD_DIRECT_TLS_PORT:-27903}
export LINNET_EJABBERD_UPLOAD_HTTPS_PORT=${LINNET_EJABBERD_UPLOAD_HTTPS_PORT:-27904}
export LINNET_EJABBERD_API_PORT=${LINNET_EJABBERD_API_PORT:-27905}
export LINNET_EJABBERD_DIST_PORT=${LINNET_EJABBERD_DIST_PORT:-27906}

started=0
if ! bash tests/servers/servers.sh status >/dev/null 2>&1; then
    say "starting the private server instance in $LINNET_TEST_STATE"
    started=1
    # Stop and remove it again at the end, however the run ends.
    trap 'say "stopping the private server instance"; bash tests/servers/servers.sh clean >&2 || true' EXIT
    bash tests/servers/servers.sh start >&2
else
    say "the private instance in $LINNET_TEST_STATE is running already: using it, leaving it running"
fi

# 2. GNU time for curl's CPU time and peak RSS.
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing GNU time"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2 || true
fi
[ -x /usr/bin/time ] || say "no /usr/bin/time: curl's CPU time and peak RSS are not recorded"

# 3. The bench binary.
say "building linnet-upload-bench (release)"
cargo build --release --locked -p linnet-bench --bin linnet-upload-bench >&2
BIN=$ROOT/target/release/linnet-upload-bench

# 4. Machine facts.
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)"
    echo "rustc=$(rustc --version)"
    echo "curl=$(curl --version | head -1)"
    echo "dir=$DIR ($(stat -f -c %T "$DIR"))"
    echo "state=$LINNET_TEST_STATE ($(stat -f -c %T "$LINNET_TEST_STATE"))"
    echo "servers=$SERVERS runs=$RUNS warmup=$WARMUP size=$SIZE memory_sizes=$MEMORY_SIZES"
} >"$OUT/machine.txt"

# 5. The figures, server by server.
for s in $SERVERS; do
    say "$s (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$BIN" --server "$s" --runs "$RUNS" --warmup "$WARMUP" --size "$SIZE" \
        --memory-sizes "$MEMORY_SIZES" --dir "$DIR" \
        >"$OUT/upload-$s.json" 2> >(tee "$OUT/upload-$s.log" >&2)
done
wait
for s in $SERVERS; do grep '^|' "$OUT/upload-$s.log" || true; echo; done | tee "$OUT/table.md"
say "raw results in $OUT"
