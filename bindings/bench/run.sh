#!/usr/bin/env bash
# The bindings' figures for docs/benchmarks.md (`make bench-bindings`), each beside its reference
# measured in the same run:
#   - a plain FFI call from Kotlin (JNA) and from Swift, beside a direct call to libc's getpid
#     from the same language (the floor of a call across the boundary);
#   - bob's send -> alice's ChatList listener firing in Kotlin (p50, p99), beside the same path
#     ending at alice's Rust SDK event (linnet-bench --only arrival), on the local Prosody;
#   - the size of the stripped release library (profile `mobile`), beside the linnet CLI binary.
# Environment: BENCH_RUNS (300), BENCH_WARMUP (20), BENCH_FFI_CALLS (1000000), BENCH_OUT.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
RUNS=${BENCH_RUNS:-300}
WARMUP=${BENCH_WARMUP:-20}
export BENCH_RUNS=$RUNS BENCH_WARMUP=$WARMUP BENCH_FFI_CALLS=${BENCH_FFI_CALLS:-1000000}
OUT=${BENCH_OUT:-target/bench/bindings-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
say() { printf '== %s\n' "$*" >&2; }

bash bindings/scripts/setup-toolchains.sh all >&2
bash tests/servers/servers.sh start >&2
while IFS='=' read -r k v; do
    [[ $k =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$k=$v"
done < <(bash tests/servers/servers.sh env)

say "building (release)"
cargo build --release --locked -p linnet-ffi -p linnet-bench >&2
cargo build --locked -p uniffi-bindgen >&2
LIBDIR=$ROOT/target/release
GEN=$OUT/gen
for lang in kotlin swift; do
    target/debug/uniffi-bindgen generate --no-format --language "$lang" --out-dir "$GEN/$lang" \
        "$LIBDIR/liblinnet_ffi.so" >/dev/null
done

stamp=$(date +%s)$RANDOM
account() { # NAME -> prints "jid password", creating the account on Prosody
    local pw
    pw="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    bash tests/servers/servers.sh adduser prosody "bb$1$stamp" "$pw" >&2
    echo "bb$1$stamp@$LINNET_PROSODY_DOMAIN $pw"
}
read -r ra_jid ra_pw < <(account ra)
read -r rb_jid rb_pw < <(account rb)
read -r ka_jid ka_pw < <(account ka)
read -r kb_jid kb_pw < <(account kb)
cat >"$OUT/accounts-rust.json" <<JSON
{"server": "prosody", "alice": {"jid": "$ra_jid", "password": "$ra_pw"}, "bob": {"jid": "$rb_jid", "password": "$rb_pw"}}
JSON
chmod 600 "$OUT/accounts-rust.json"

say "rust: arrival at the SDK event ($RUNS runs)"
target/release/linnet-bench --accounts "$OUT/accounts-rust.json" --only arrival \
    --runs "$RUNS" --warmup "$WARMUP" >"$OUT/rust.json"

say "kotlin: FFI call cost and arrival at the ChatList listener ($RUNS runs)"
export LINNET_BT_HOST=$LINNET_PROSODY_HOST LINNET_BT_PORT=$LINNET_PROSODY_STARTTLS_PORT
export LINNET_BT_CA_FILE=$LINNET_TEST_CA LINNET_BT_DOMAIN=$LINNET_PROSODY_DOMAIN
export LINNET_BT_A_JID=$ka_jid LINNET_BT_A_PASSWORD=$ka_pw LINNET_BT_B_JID=$kb_jid LINNET_BT_B_PASSWORD=$kb_pw
bash bindings/scripts/kotlin.sh --gen "$GEN/kotlin" --lib "$LIBDIR" --test bindings/bench/kotlin \
    --main BenchKt --build "$OUT/kotlin-build" | tee "$OUT/kotlin.txt" >&2

say "swift: FFI call cost"
bash bindings/scripts/swift.sh --gen "$GEN/swift" --lib "$LIBDIR" --src apple/Sources/Linnet \
    --test bindings/bench/swift --build "$OUT/swift-build" | tee "$OUT/swift.txt" >&2

say "size: release library, profile mobile (opt-level s, fat LTO, stripped)"
cargo build --profile mobile --locked -p linnet-ffi -p linnet-cli >&2
so=target/mobile/liblinnet_ffi.so
cli=target/mobile/linnet
strip -o "$OUT/liblinnet_ffi.stripped.so" "$so"
strip -o "$OUT/linnet.stripped" "$cli"

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def result(name):
    for line in open(os.path.join(out, name)):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    sys.exit(f"no RESULT line in {name}")
rust = json.load(open(os.path.join(out, "rust.json")))["arrival"]
kt, sw = result("kotlin.txt"), result("swift.txt")
mb = lambda p: os.path.getsize(os.path.join(out, p)) / 1e6
lines = [
    "| figure | Linnet | reference (same run) |",
    "|---|---|---|",
    f"| plain FFI call from Kotlin (JNA) | {kt['ffi_call_ns']:.0f} ns | JNA call to libc getpid: {kt['jna_getpid_ns']:.0f} ns |",
    f"| plain FFI call from Swift | {sw['ffi_call_ns']:.1f} ns | Swift call to libc getpid: {sw['libc_getpid_ns']:.1f} ns |",
    f"| bob sends -> alice's ChatList listener in Kotlin, p50 / p99 (n={kt['arrival_n']}) | {kt['arrival_p50_ms']:.3f} / {kt['arrival_p99_ms']:.3f} ms | same path to alice's Rust SDK event: {rust['median_ms']:.3f} / {rust['p99_ms']:.3f} ms |",
    f"| stripped release library (x86_64, profile mobile) | {mb('liblinnet_ffi.stripped.so'):.2f} MB | linnet CLI, same profile: {mb('linnet.stripped'):.2f} MB |",
]
text = "\n".join(lines)
open(os.path.join(out, "summary.md"), "w").write(text + "\n")
print(text)
PY
say "raw results in $OUT"
