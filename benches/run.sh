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
#   BENCH_PHASES    figures to run (default "connect rtt burst reconnect"; add "catchup" for the
#                   archive catch-up: its seeding takes 10-20 s on Prosody with the servers' state
#                   on tmpfs, minutes on disk, ~12 min on ejabberd)
#   BENCH_CATCHUP_MESSAGES  messages the archive receives while the catch-up account is offline
#                   (default 10000), from BENCH_CATCHUP_PEERS peers (default 20), every 10th of a
#                   conversation from the account's other device
#   BENCH_CATCHUP_RUNS      timed catch-ups per client and round (default 5, after 1 warm-up)
#   BENCH_PAGE_SIZE RSM page size all catch-up clients ask for (default 250, Linnet's default;
#                   Prosody clamps it to 50, ejabberd to 250)
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
PHASES=${BENCH_PHASES:-connect rtt burst reconnect}
CATCHUP_MESSAGES=${BENCH_CATCHUP_MESSAGES:-10000}
CATCHUP_PEERS=${BENCH_CATCHUP_PEERS:-20}
CATCHUP_RUNS=${BENCH_CATCHUP_RUNS:-5}
PAGE_SIZE=${BENCH_PAGE_SIZE:-250}
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
FLOOR=$ROOT/target/release/linnet-mam-floor

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

# 5b. The catch-up archive (phase catchup): one account whose archive all three clients read in
# turn (a catch-up reads the archive and changes nothing on the server). It first gets a few
# messages, and Linnet syncs once into a template data dir ("synced once before"; each Linnet run
# starts from a copy of it); the floor client reads the last archive id of that state (where all
# three start paging forward from); then the archive receives BENCH_CATCHUP_MESSAGES more while
# no client of the account but the seeder's "other device" is online.
case " $PHASES " in *" catchup "*)
    user="benchcatchup${stamp}"
    pw="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    bash tests/servers/servers.sh adduser "$SERVER" "$user" "$pw"
    python3 - "$OUT/catchup.json" "$SERVER" "$user@$domain" "$pw" "$OUT/catchup-template" "$PAGE_SIZE" <<'PY'
import json, sys
path, server, jid, pw, template, page = sys.argv[1:]
json.dump({"server": server, "catchup": {"jid": jid, "password": pw}, "template": template,
           "page_size": int(page), "after": None}, open(path, "w"))
PY
    chmod 600 "$OUT/catchup.json"
    say "catch-up: a first small archive, synced once by Linnet into the template data dir"
    "$BIN" --catchup "$OUT/catchup.json" --catchup-prepare before 2>&1 | tee "$OUT/catchup-prepare.log" >&2
    "$FLOOR" --accounts "$OUT/catchup.json" --page-size "$PAGE_SIZE" --last-id >"$OUT/catchup-last-id.json"
    python3 - "$OUT/catchup.json" "$OUT/catchup-last-id.json" <<'PY'
import json, sys
path, last = sys.argv[1:]
c = json.load(open(path))
c["after"] = json.load(open(last))["last"]
assert c["after"], "no archive id after the first seeding"
json.dump(c, open(path, "w"))
PY
    say "catch-up: seeding $CATCHUP_MESSAGES messages from $CATCHUP_PEERS peers"
    "$BIN" --catchup "$OUT/catchup.json" --catchup-prepare seed --messages "$CATCHUP_MESSAGES" \
        --peers "$CATCHUP_PEERS" 2>&1 | tee -a "$OUT/catchup-prepare.log" >&2
    ;;
esac

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
    echo "phases=$PHASES catchup_messages=$CATCHUP_MESSAGES catchup_peers=$CATCHUP_PEERS catchup_runs=$CATCHUP_RUNS page_size=$PAGE_SIZE"
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
catchup_args=(--catchup "$OUT/catchup.json" --runs "$CATCHUP_RUNS" --warmup 1 --page-size "$PAGE_SIZE")
run_catchup() { # CLIENT ROUND
    case $1 in
    linnet) run linnet "catchup-r$2" "$BIN" "${catchup_args[@]}" --only catchup ;;
    floor) run floor "catchup-r$2" "$FLOOR" --accounts "$OUT/catchup.json" --runs "$CATCHUP_RUNS" --warmup 1 --page-size "$PAGE_SIZE" ;;
    slixmpp)
        run slixmpp "catchup-r$2" "$PY" benches/slixmpp_bench.py --accounts "$OUT/accounts-slixmpp.json" \
            "${catchup_args[@]}" --only catchup
        ;;
    esac
}
for round in $(seq 1 "$ROUNDS"); do
    for phase in $PHASES; do
        if [ "$phase" = catchup ]; then
            # Three clients, the same archive, one after the other; the order alternates.
            order="linnet floor slixmpp"
            [ $((round % 2)) = 0 ] && order="slixmpp floor linnet"
            for client in $order; do run_catchup "$client" "$round"; done
            continue
        fi
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
