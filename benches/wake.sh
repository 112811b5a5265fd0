#!/usr/bin/env bash
# Wake-up benchmark (issue 8, Deliver 6): peak resident memory and wall time of `linnet wake`
# (release build) fetching N pending messages (default 50) from the local Prosody and ejabberd,
# beside a slixmpp reference (benches/wake_ref.py fetch) that connects, fetches the same messages
# through MAM and disconnects, measured the same way in the same run. See docs/benchmarks.md,
# "Wake-up (issue 8)".
#
# Per server: a receiver account whose data dir synced once (the device's stored state) with the
# sender in its roster; then per iteration the sender (slixmpp, not measured) sends N messages and
# waits for their acks, `linnet wake` runs under GNU time, then the reference fetches the same N
# (archived since the batch started) under GNU time. Both must report N, or the run fails.
#
# Uses the shared test servers (started if need be; never stopped). Environment:
#   WAKE_BENCH_SERVERS   servers to measure (default "prosody ejabberd")
#   WAKE_BENCH_RUNS      measured iterations per server (default 7), after
#   WAKE_BENCH_WARMUP    warm-up iterations (default 1)
#   WAKE_BENCH_MESSAGES  messages per wake (default 50)
#   LINNET_PEERS_VENV    the slixmpp venv of tests/peers/setup.sh (default /var/cache/linnet-peers-venv)
#   BENCH_OUT            output dir (default target/bench/wake-<UTC time>)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVERS=${WAKE_BENCH_SERVERS:-prosody ejabberd}
RUNS=${WAKE_BENCH_RUNS:-7}
WARMUP=${WAKE_BENCH_WARMUP:-1}
COUNT=${WAKE_BENCH_MESSAGES:-50}
STATE=${LINNET_TEST_STATE:-/tmp/linnet-test-servers}
VENV=${LINNET_PEERS_VENV:-/var/cache/linnet-peers-venv}
OUT=${BENCH_OUT:-target/bench/wake-$(date -u +%Y%m%dT%H%M%SZ)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { printf '== %s\n' "$*" >&2; }

bash tests/servers/servers.sh start >&2
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing GNU time"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
fi
[ -x /usr/bin/time ] || { echo "wake.sh: GNU time (/usr/bin/time) is needed" >&2; exit 1; }
PY=$VENV/bin/python
[ -x "$PY" ] || { echo "wake.sh: no slixmpp venv at $VENV: bash tests/peers/setup.sh" >&2; exit 1; }

say "building linnet (release)"
cargo build --release --locked -p linnet-cli >&2
BIN=$TARGET/release/linnet

{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "messages=$COUNT runs=$RUNS warmup=$WARMUP"
} > "$OUT/machine.txt"

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$STATE/servers.json" "$@"; }
ca_file=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ca_file"])' "$STATE/servers.json")

# Runs a command under GNU time; appends "<label> <wall s> <max RSS KiB>" to $OUT/samples.txt.
measure() {
    local label=$1 out=$2
    shift 2
    /usr/bin/time -f '%e %M' -o "$OUT/time.tmp" "$@" > "$out"
    echo "$label $(cat "$OUT/time.tmp")" >> "$OUT/samples.txt"
}

: > "$OUT/samples.txt"
for server in $SERVERS; do
    domain=$(field "$server" domain)
    host=$(field "$server" host)
    port=$(field "$server" starttls_port)
    tag=$(date +%s%N | tail -c 9)
    rx=wakerx$tag tx=waketx$tag pw=pw-$tag
    bash tests/servers/servers.sh adduser "$server" "$rx" "$pw" >&2
    bash tests/servers/servers.sh adduser "$server" "$tx" "$pw" >&2
    data=$OUT/$server-data
    LINNET_PASSWORD=$pw "$BIN" --data-dir "$data" account add "$rx@$domain" \
        --server "$host:$port" --ca-file "$ca_file" >&2
    "$BIN" --data-dir "$data" roster add "$tx@$domain" --name "Bench Sender" >&2
    "$BIN" --data-dir "$data" sync >&2
    for i in $(seq 1 $((WARMUP + RUNS))); do
        kind=run
        [ "$i" -le "$WARMUP" ] && kind=warmup
        # Prosody's archive keeps whole seconds: start the batch on a new second, so that a
        # query from it finds this batch and nothing of the one before.
        now=$(date +%s%3N)
        since=$(( (now / 1000 + 1) * 1000 ))
        sleep "$(printf '0.%03d' $(( since - now - 1 )))"
        sleep 0.001
        "$PY" benches/wake_ref.py send --state "$STATE" --server "$server" --jid "$tx@$domain" \
            --password "$pw" --to "$rx@$domain" --count "$COUNT" --tag "run $i" > /dev/null
        measure "$server linnet $kind" "$OUT/$server-linnet-$i.json" \
            "$BIN" --data-dir "$data" --json wake
        measure "$server slixmpp $kind" "$OUT/$server-slixmpp-$i.json" \
            "$PY" benches/wake_ref.py fetch --state "$STATE" --server "$server" \
            --jid "$rx@$domain" --password "$pw" --since "$since"
        python3 - "$OUT/$server-linnet-$i.json" "$OUT/$server-slixmpp-$i.json" "$COUNT" <<'PY'
import json, sys
linnet = json.loads(open(sys.argv[1]).read().splitlines()[-1])
ref = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
assert linnet["new_messages"] == n and len(linnet["notifications"]) == n and linnet["complete"], linnet
assert ref["fetched"] == n, ref
PY
        say "$server iteration $i ($kind): $(tail -2 "$OUT/samples.txt" | tr '\n' ' ')"
    done
done

python3 - "$OUT/samples.txt" <<'PY' | tee "$OUT/summary.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    server, client, kind, wall, rss = line.split()
    if kind == "run":
        rows.setdefault((server, client), []).append((float(wall), int(rss)))
print(f"{'server':<10} {'client':<8} {'runs':>4} {'wall median s':>13} {'wall max s':>10} {'peak RSS median MiB':>19} {'peak RSS max MiB':>16}")
for (server, client), s in rows.items():
    walls = [w for w, _ in s]
    rss = [r / 1024 for _, r in s]
    print(f"{server:<10} {client:<8} {len(s):>4} {statistics.median(walls):>13.2f} {max(walls):>10.2f} "
          f"{statistics.median(rss):>19.1f} {max(rss):>16.1f}")
PY
say "raw samples, outputs and machine facts in $OUT"
