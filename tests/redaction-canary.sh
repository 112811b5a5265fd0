#!/usr/bin/env bash
# Secrets never reach a log, proven on a RELEASE build of the CLI: canary passwords go through
# account creation, login (SCRAM on both servers), a wrong-password attempt and a message send, all
# with wire-level TRACE logging on. The logs must show the SASL exchange (so the check cannot pass
# vacuously) yet never a canary, nor the base64 forms of a PLAIN payload that would carry it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source "${LINNET_TEST_STATE:-/tmp/linnet-test-servers}/servers.env"

cargo build --release --locked -q -p linnet-cli
bin=target/release/linnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}

for server in prosody ejabberd; do
  up=${server^^}
  domain_var="LINNET_${up}_DOMAIN"; port_var="LINNET_${up}_STARTTLS_PORT"
  domain=${!domain_var}; port=${!port_var}
  user="canary$(openssl rand -hex 4)"
  canary="Canary-$(openssl rand -hex 10)"
  wrong="Canary-wrong-$(openssl rand -hex 10)"
  bash tests/servers/servers.sh adduser "$server" "$user" "$canary"
  jid="$user@$domain"
  log="$work/$server.log"
  data="$work/$server-data"
  common=(--data-dir "$data" --log "trace")
  LINNET_PASSWORD=$canary "$bin" "${common[@]}" account add "$jid" --server "127.0.0.1:$port" \
    --ca-file "$LINNET_TEST_CA" >>"$log" 2>&1
  "$bin" "${common[@]}" send "$jid" "note to self" >>"$log" 2>&1
  "$bin" "${common[@]}" --json doctor >>"$log" 2>&1
  set +e
  LINNET_PASSWORD=$wrong "$bin" --data-dir "$work/$server-wrong" --log trace account add "$jid" \
    --server "127.0.0.1:$port" --ca-file "$LINNET_TEST_CA" >>"$log" 2>&1
  code=$?
  set -e
  check "$server: wrong password exits with the auth code (3), got $code" test "$code" = 3

  plain_b64=$(printf '\0%s\0%s' "$user" "$canary" | base64 -w0)
  plain_b64_wrong=$(printf '\0%s\0%s' "$user" "$wrong" | base64 -w0)
  check "$server: the log shows wire traffic" grep -q 'linnet::wire' "$log"
  check "$server: the log shows the SASL exchange" grep -q '<auth ' "$log"
  check "$server: SASL payloads are redacted" grep -q '\[redacted\]' "$log"
  for secret in "$canary" "$wrong" "$plain_b64" "$plain_b64_wrong"; do
    check "$server: a secret reached the log" bash -c '! grep -qF -- "$1" "$2"' _ "$secret" "$log"
  done
  check "$server: the password is not in the database" bash -c '! grep -qaF -- "$1" "$2"/linnet.db*' _ "$canary" "$data"
  check "$server: the secrets file is private" test "$(stat -c %a "$data/secrets.json")" = 600
done
echo "canary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
