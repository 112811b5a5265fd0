#!/usr/bin/env bash
# `make demo`: two Linnet CLI clients, alice and bob, on the local Prosody. They become contacts,
# exchange messages, and each message is followed through sent -> acknowledged by the server ->
# delivered (receipt) -> read (marker); a file goes through, and alice calls bob. Printed as a
# transcript.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source "${LINNET_TEST_STATE:-/tmp/linnet-test-servers}/servers.env"
bin=target/release/linnet
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

domain=$LINNET_PROSODY_DOMAIN
suffix=$(openssl rand -hex 3)
alice="alice-$suffix@$domain"
bob="bob-$suffix@$domain"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
as() { # who, command...: runs linnet as alice or bob, prefixing its output
  local who=$1; shift
  "$bin" --data-dir "$work/$who" "$@" 2>&1 | sed -u "s/^/  [$who] /"
}
wait_for_line() { # file, pattern
  for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

say "Creating two accounts on the local Prosody ($domain)"
for who in alice bob; do
  pw=$(openssl rand -hex 12)
  [ "$who" = alice ] && alice_pw=$pw
  bash tests/servers/servers.sh adduser prosody "$who-$suffix" "$pw"
  jid_var=$who
  LINNET_PASSWORD=$pw as "$who" account add "${!jid_var}" --server "127.0.0.1:$LINNET_PROSODY_STARTTLS_PORT" \
    --ca-file "$LINNET_TEST_CA"
done

say "alice and bob add each other as contacts"
as alice roster add "$bob" --name Bob
as bob roster approve "$alice"
as bob roster add "$alice" --name Alice
as alice roster approve "$bob"
as alice roster

say "bob listens (and reads what arrives); alice writes and follows her message"
"$bin" --data-dir "$work/bob" listen --mark-read --count 1 --timeout 60 >"$work/bob.out" 2>&1 &
pids+=($!)
wait_for_line "$work/bob.out" "listening"
as alice send "$bob" "Hi Bob! This is Linnet talking." --wait read
wait "${pids[-1]}"
sed 's/^/  [bob] /' "$work/bob.out"

say "alice listens; bob replies"
"$bin" --data-dir "$work/alice" listen --mark-read --count 1 --timeout 60 >"$work/alice.out" 2>&1 &
pids+=($!)
wait_for_line "$work/alice.out" "listening"
as bob send "$alice" "Hello Alice, loud and clear." --wait read
wait "${pids[-1]}"
sed 's/^/  [alice] /' "$work/alice.out"

say "What alice's store remembers"
as alice chats
as alice history "$bob"
say "alice on a new device: the history comes from the server archive (XEP-0313)"
LINNET_PASSWORD=$alice_pw as alice-new account add "$alice" --server "127.0.0.1:$LINNET_PROSODY_STARTTLS_PORT" \
  --ca-file "$LINNET_TEST_CA"
as alice-new sync
as alice-new history "$bob"

say "alice sends bob a file (HTTP upload, XEP-0363); bob's listen downloads it (he has alice as a contact)"
head -c 300000 /dev/urandom >"$work/holiday photo.jpg"
"$bin" --data-dir "$work/bob" listen --timeout 60 >"$work/bob-files.out" 2>&1 &
pids+=($!)
wait_for_line "$work/bob-files.out" "listening"
as alice send-file "$bob" "$work/holiday photo.jpg"
wait_for_line "$work/bob-files.out" "saved to"
kill "${pids[-1]}"; wait "${pids[-1]}" || true
sed 's/^/  [bob] /' "$work/bob-files.out"
saved=$(sed -n 's/.* saved to //p' "$work/bob-files.out" | tail -1)
cmp "$work/holiday photo.jpg" "$saved" && echo "  the file bob saved is byte for byte the one alice sent"

say "alice calls bob (Jingle, ICE, DTLS-SRTP, Opus): a 440 Hz tone one way, 660 Hz back, keys pressed"
"$bin" --data-dir "$work/bob" listen --answer-calls --tone 660 --record-dir "$work/calls" --timeout 60 \
  >"$work/bob-calls.out" 2>&1 &
pids+=($!)
wait_for_line "$work/bob-calls.out" "listening"
as alice call "$bob" --tone 440 --dtmf 42# --record "$work/alice-heard.wav" --hangup-after 3
wait_for_line "$work/bob-calls.out" "ended"
kill "${pids[-1]}"; wait "${pids[-1]}" || true
sed 's/^/  [bob] /' "$work/bob-calls.out"
echo "  recorded: alice $(stat -c %s "$work/alice-heard.wav") bytes, bob $(cat "$work"/calls/*.wav | wc -c) bytes of 48 kHz audio"
say "Done: messages acknowledged, delivered and read; a new device has the same history; a file went through; a call connected."
