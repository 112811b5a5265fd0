#!/usr/bin/env bash
# Linnet's benchmarks beside slixmpp's, on the same local server in the same run (`make bench`).
# See docs/benchmarks.md for what each figure measures and the latest results.
#
# Starts the test servers if needed, creates fresh accounts (one set per client, so neither sees
# the other's offline messages or archive), installs slixmpp into a venv under target/ if missing,
# builds the bench in release, runs both clients figure by figure in BENCH_ROUNDS rounds (one
# client right after the other for each figure, alternating who goes first, so a change in
# machine load hits both alike), each process under /usr/bin/time -v for its peak RSS, and
# prints a table. Raw JSON, logs and the table land in $BENCH_OUT.
#
# Environment:
#   BENCH_SERVER    prosody (default) or ejabberd
#   BENCH_RUNS      timed runs for connect and round trip (default 50), after BENCH_WARMUP (3)
#   BENCH_ROUNDS    rounds of all three figures (default 3), alternating which client goes first;
#                   the table pools the samples of all rounds and shows each round's figure too
#   BENCH_MESSAGES  messages in the burst (default 1000)
#   BENCH_PHASES    figures to run (default "connect rtt burst reconnect")
#   BENCH_TIMELINE  traced connects for the where-does-the-time-go timelines (default 20; 0 = skip)
#   BENCH_OUT       output dir (default target/bench/<UTC time>)
#   BENCH_SLIXMPP   pip requirement for the reference (default slixmpp==1.17.0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVER=${BENCH_SERVER:-prosody}
RUNS=${BENCH_RUNS:-50}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3}
MESSAGES=${BENCH_MESSAGES:-1000}
TIMELINE=${BENCH_TIMELINE:-20}
SLIXMPP_REQ=${BENCH_SLIXMPP:-slixmpp==1.17.0}
OUT=${BENCH_OUT:-target/bench/$(date -u +%Y%m%dT%H%M%SZ)}
VENV=$ROOT/target/bench-venv
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { printf '== %s\n' "$*" >&2; }

# 1. Servers (idempotent: nothing happens when they run).
bash tests/servers/servers.sh start >&2

# 2. GNU time for peak RSS.
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing GNU time (peak RSS)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2 || true
    fi
fi
TIME=()
if [ -x /usr/bin/time ]; then
    TIME=(/usr/bin/time -v -o)
else
    say "no /usr/bin/time: peak RSS is not recorded"
fi

# 3. slixmpp in a venv under target/ (or the user site when venv is unavailable).
PY=$VENV/bin/python
if ! "$PY" -c 'import slixmpp' 2>/dev/null; then
    say "installing $SLIXMPP_REQ into $VENV"
    if python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q "$SLIXMPP_REQ" >&2; then
        :
    else
        say "venv failed; installing into the user site instead"
        python3 -m pip install -q --user "$SLIXMPP_REQ" >&2
        PY=python3
    fi
fi
"$PY" -c 'import slixmpp' || { echo "slixmpp is not importable" >&2; exit 1; }

# 4. The bench binary.
say "building linnet-bench (release)"
cargo build --release --locked -p linnet-bench >&2
BIN=$ROOT/target/release/linnet-bench

# 5. Fresh accounts: connect, alice, bob and an offline sink, for each client.
domain=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]['domain'])" \
    "${LINNET_TEST_STATE:-/tmp/linnet-test-servers}/servers.json" "$SERVER")
stamp=$(date +%s)$RANDOM
make_accounts() { # CLIENT -> $OUT/accounts-CLIENT.json
    local client=$1 tag=${1:0:1} json="{\"server\": \"$SERVER\""
    local role user pw
    for role in connect alice bob sink; do
        user="bench${tag}${role}${stamp}"
        pw="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        bash tests/servers/servers.sh adduser "$SERVER" "$user" "$pw"
        json+=", \"$role\": {\"jid\": \"$user@$domain\", \"password\": \"$pw\"}"
    done
    echo "$json}" >"$OUT/accounts-$client.json"
    chmod 600 "$OUT/accounts-$client.json"
}
make_accounts linnet
make_accounts slixmpp

# 6. Machine facts.
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)"
    echo "rustc=$(rustc --version)"
    echo "python=$("$PY" --version 2>&1)"
    echo "slixmpp=$("$PY" -c 'import slixmpp; print(slixmpp.__version__)')"
    echo "server=$SERVER"
    echo "runs=$RUNS warmup=$WARMUP messages=$MESSAGES rounds=$ROUNDS"
} >"$OUT/machine.txt"

# 7. The figures, Linnet then slixmpp for each.
run() { # CLIENT PHASE ARGS...
    local client=$1 phase=$2
    shift 2
    local load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    say "$client $phase (load average before: $load)"
    echo "$client $phase load_before=$load" >>"$OUT/load.txt"
    local timer=()
    [ ${#TIME[@]} -gt 0 ] && timer=("${TIME[@]}" "$OUT/time-$client-$phase.txt")
    "${timer[@]}" "$@" >"$OUT/$client-$phase.json" 2> >(tee "$OUT/$client-$phase.log" >&2)
    echo "$client $phase load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
}
common=(--runs "$RUNS" --warmup "$WARMUP" --messages "$MESSAGES")
run_linnet() { run linnet "$1-r$2" "$BIN" --accounts "$OUT/accounts-linnet.json" "${common[@]}" --only "$1"; }
run_slixmpp() {
    run slixmpp "$1-r$2" "$PY" benches/slixmpp_bench.py --accounts "$OUT/accounts-slixmpp.json" "${common[@]}" --only "$1"
}
for round in $(seq 1 "$ROUNDS"); do
    for phase in ${BENCH_PHASES:-connect rtt burst reconnect}; do
        # Alternate who goes first: the machine's load drifts (other builds share the 2 cores).
        if [ $((round % 2)) = 1 ]; then
            run_linnet "$phase" "$round"
            run_slixmpp "$phase" "$round"
        else
            run_slixmpp "$phase" "$round"
            run_linnet "$phase" "$round"
        fi
    done
done
if [ "$TIMELINE" -gt 0 ]; then
    run linnet timeline "$BIN" --accounts "$OUT/accounts-linnet.json" --timeline "$TIMELINE"
    run slixmpp timeline "$PY" benches/slixmpp_bench.py --accounts "$OUT/accounts-slixmpp.json" --timeline "$TIMELINE"
fi

# 8. The table.
python3 benches/report.py "$OUT" | tee "$OUT/table.md"
say "raw results in $OUT"
