#!/usr/bin/env bash
# Run every fuzz target for a share of SECONDS (default 60), on the corpus kept in the repo.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]      (or: make fuzz FUZZ_SECONDS=600)
#
# * Installs cargo-fuzz (crates.io) if it is missing.
# * Builds with the stable toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer=address and
#   friends), which stable rustc accepts with RUSTC_BOOTSTRAP=1. No nightly toolchain is needed.
# * Replays fuzz/regressions/<target>/* first: each must pass (they are fixed crashes).
# * Runs each target for SECONDS / number-of-targets with -max_total_time, reading
#   fuzz/seeds/<target>/ and fuzz/corpus/<target>/ and adding what it finds to the latter.
# * Minimises a target's corpus with `cargo fuzz cmin -- -use_counters=0` (keeps every covered
#   edge, not every hit-count bucket) when it grows past CORPUS_MAX_KB (default 512), so that the
#   committed corpus stays small.
# * Logs go to fuzz/artifacts/<target>.log, crashes to fuzz/artifacts/<target>/ (git-ignored).
# Exits non-zero if a target crashed or a regression input fails. Not part of CI.
set -euo pipefail

cd "$(dirname "$0")"
total=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(stream_reader stanza_handling scram)
fi
corpus_max_kb=${CORPUS_MAX_KB:-512}

if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 1 ]; then
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

per=$((total / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1

echo "== building fuzz targets (the first build takes several minutes)"
for t in "${targets[@]}"; do
    cargo fuzz build "$t"
done
bin_dir=target/x86_64-unknown-linux-gnu/release

failed=()
mkdir -p artifacts

echo "== replaying fuzz/regressions"
for t in "${targets[@]}"; do
    dir=regressions/$t
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        if "$bin_dir/$t" "$f" >"artifacts/regression-$t.log" 2>&1; then
            echo "   ok   $f"
        else
            echo "   FAIL $f (see fuzz/artifacts/regression-$t.log)"
            failed+=("regression $f")
        fi
    done
done

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dict=xmpp.dict
    [ "$t" = scram ] && dict=scram.dict
    echo "== $t for ${per}s"
    log=artifacts/$t.log
    status=0
    # -timeout: one input taking over 10 s counts as a hang (a crash).
    cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$per" -timeout=10 -rss_limit_mb=4096 -dict="$dict" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    echo "   ${runs:-?} executions, ${eps:-?}/s, ${new:-?} new corpus entries, ${cov:-cov: ?}"
    if [ "$status" -ne 0 ]; then
        echo "   CRASH (exit $status): see fuzz/$log and fuzz/artifacts/$t/"
        grep -m 3 -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)' "$log" | sed 's/^/   /' || true
        failed+=("$t")
    fi

    size_kb=$(du -sk --apparent-size "corpus/$t" | cut -f1)
    if [ "$size_kb" -gt "$corpus_max_kb" ]; then
        echo "   corpus is ${size_kb} KiB > ${corpus_max_kb} KiB: cargo fuzz cmin"
        cargo fuzz cmin "$t" "corpus/$t" -- -use_counters=0 >"artifacts/$t-cmin.log" 2>&1 ||
            echo "   cmin failed, see fuzz/artifacts/$t-cmin.log"
        echo "   now $(du -sk --apparent-size "corpus/$t" | cut -f1) KiB, $(find "corpus/$t" -type f | wc -l) files"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "== FAILED: ${failed[*]}"
    exit 1
fi
echo "== no crashes"
