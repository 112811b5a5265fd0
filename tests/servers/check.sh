#!/usr/bin/env bash
# Quick end-to-end check of the servers that `servers.sh start` runs (a few seconds):
# TLS on every port (STARTTLS and direct TLS, trusted only through our CA, right names),
# `adduser` on both servers (and a duplicate refused), SASL mechanisms and a SCRAM login
# (with python3, when the machine has it), STUN and a TURN allocation on coturn.
#
# Usage: tests/servers/check.sh   (after tests/servers/servers.sh start)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${LINNET_TEST_STATE:-/tmp/linnet-test-servers}
[[ -r $STATE/servers.env ]] || { echo "check.sh: $STATE/servers.env missing: run servers.sh start" >&2; exit 1; }
# shellcheck source=/dev/null
source "$STATE/servers.env"
CA=$LINNET_TEST_CA

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

# tls LABEL PORT NAME starttls|direct: handshake verified against our CA and NAME.
tls() {
	local label=$1 port=$2 name=$3 mode=$4 out
	local -a extra=()
	if [[ $mode == starttls ]]; then extra=(-starttls xmpp -xmpphost "$name"); fi
	if out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$name" \
		-CAfile "$CA" -verify_return_error -verify_hostname "$name" "${extra[@]}" </dev/null 2>&1) &&
		grep -q 'Verify return code: 0 (ok)' <<<"$out"; then
		ok "$label: $mode on $port, cert verified for $name ($(grep -m1 -o 'New, TLSv[0-9.]*' <<<"$out" | cut -c6-))"
	else
		bad "$label: $mode on $port for $name"
		tail -n 5 <<<"$out" | sed 's/^/     /'
	fi
	# The same handshake must fail against the system trust store and for another name.
	if timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$name" \
		-verify_return_error "${extra[@]}" </dev/null >/dev/null 2>&1; then
		bad "$label: $mode on $port verified WITHOUT our CA"
	fi
	if timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$name" -CAfile "$CA" \
		-verify_return_error -verify_hostname "other.example" "${extra[@]}" </dev/null >/dev/null 2>&1; then
		bad "$label: $mode on $port verified for a name the cert does not have"
	fi
}

https() { # LABEL PORT: TLS to https://127.0.0.1:PORT/ (IP in the URL, as upload URLs have it)
	local code
	if code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://127.0.0.1:$2/" 2>&1); then
		ok "$1: https://127.0.0.1:$2/ TLS verified (HTTP $code)"
	else
		bad "$1: https://127.0.0.1:$2/: $code"
	fi
}

tls prosody "$LINNET_PROSODY_STARTTLS_PORT" "$LINNET_PROSODY_DOMAIN" starttls
tls prosody "$LINNET_PROSODY_DIRECT_TLS_PORT" "$LINNET_PROSODY_DOMAIN" direct
tls ejabberd "$LINNET_EJABBERD_STARTTLS_PORT" "$LINNET_EJABBERD_DOMAIN" starttls
tls ejabberd "$LINNET_EJABBERD_DIRECT_TLS_PORT" "$LINNET_EJABBERD_DOMAIN" direct
https prosody "$LINNET_PROSODY_UPLOAD_HTTPS_PORT"
https ejabberd "$LINNET_EJABBERD_UPLOAD_HTTPS_PORT"

user="check$$x$RANDOM"
PY=$(command -v python3 || true)
for server in prosody ejabberd; do
	start=$(date +%s%N)
	if out=$("$HERE/servers.sh" adduser "$server" "$user" "pw-$user" 2>&1) && [[ -z $out ]]; then
		ok "$server: adduser $user in $((($(date +%s%N) - start) / 1000000)) ms"
	else
		bad "$server: adduser $user: $out"
	fi
	if "$HERE/servers.sh" adduser "$server" "$user" other >/dev/null 2>&1; then
		bad "$server: adduser of an existing user succeeded"
	else
		ok "$server: adduser of an existing user refused"
	fi
	if [[ -z $PY ]]; then
		echo "skip $server: SASL mechanisms and SCRAM login (no python3)"
		continue
	fi
	domain_var=LINNET_${server^^}_DOMAIN
	if [[ $server == prosody ]]; then want=SCRAM-SHA-1; else want=SCRAM-SHA-256; fi
	for mode in starttls direct; do
		if [[ $mode == starttls ]]; then port_var=LINNET_${server^^}_STARTTLS_PORT; else port_var=LINNET_${server^^}_DIRECT_TLS_PORT; fi
		if out=$("$PY" "$HERE/probe.py" 127.0.0.1 "${!port_var}" "${!domain_var}" "$CA" "$mode" "$user" "pw-$user" "$want" 2>&1) &&
			[[ $out == *"\"$want\""* && $out == *'"ok": true'* ]]; then
			mechs=$(grep -o '"mechanisms": \[[^]]*\]' <<<"$out")
			ok "$server: $mode login with $want; offered ${mechs#*: }"
		else
			bad "$server: $mode login with $want: $out"
		fi
	done
	if "$PY" "$HERE/probe.py" 127.0.0.1 "${!port_var}" "${!domain_var}" "$CA" direct "$user" wrong "$want" >/dev/null 2>&1; then
		bad "$server: login with a wrong password succeeded"
	else
		ok "$server: login with a wrong password refused"
	fi
done

# The gateway component (XEP-0114): the handshake with the secret succeeds, a wrong one fails.
# Stdlib only. "conflict" means a test peer holds the component name right now.
component_handshake() { # PORT DOMAIN SECRET -> prints ok | conflict | refused | error:...
	"$PY" - "$@" <<-'PYEOF'
		import hashlib, re, socket, sys
		port, domain, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
		try:
		    s = socket.create_connection(("127.0.0.1", port), timeout=5)
		    s.sendall(f"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='{domain}'>".encode())
		    buf = b""
		    while not re.search(rb"<stream:stream[^>]*>", buf):
		        chunk = s.recv(4096)
		        if not chunk:
		            break
		        buf += chunk
		    m = re.search(rb"id=['\"]([^'\"]+)", buf)
		    if not m:
		        print("error:no stream id")
		        sys.exit()
		    digest = hashlib.sha1(m.group(1) + secret.encode()).hexdigest()
		    s.sendall(f"<handshake>{digest}</handshake>".encode())
		    buf = b""
		    while b"handshake" not in buf and b"error" not in buf:
		        chunk = s.recv(4096)
		        if not chunk:
		            break
		        buf += chunk
		    print("ok" if b"<handshake" in buf else "conflict" if b"conflict" in buf else "refused")
		except OSError as e:
		    print(f"error:{e}")
	PYEOF
}
if [[ -n $PY ]]; then
	for server in prosody ejabberd; do
		port_var=LINNET_${server^^}_GATEWAY_PORT jid_var=LINNET_${server^^}_GATEWAY_JID
		if [[ -z ${!port_var:-} ]]; then
			bad "$server: no gateway component in servers.env (restart the servers)"
			continue
		fi
		out=$(component_handshake "${!port_var}" "${!jid_var}" "$LINNET_GATEWAY_SECRET")
		case $out in
		ok | conflict) ok "$server: component ${!jid_var} handshake on ${!port_var} ($out)" ;;
		*) bad "$server: component ${!jid_var} handshake on ${!port_var}: $out" ;;
		esac
		out=$(component_handshake "${!port_var}" "${!jid_var}" "wrong$LINNET_GATEWAY_SECRET")
		case $out in
		refused | conflict) ok "$server: component handshake with a wrong secret refused" ;;
		*) bad "$server: component handshake with a wrong secret: $out" ;;
		esac
	done
fi

if command -v turnutils_stunclient >/dev/null; then
	out=$(timeout 3 turnutils_stunclient -p "$LINNET_TURN_PORT" "$LINNET_TURN_HOST" 2>&1 || true)
	if grep -q 'reflexive addr: 127.0.0.1' <<<"$out"; then
		ok "coturn: STUN binding on $LINNET_TURN_HOST:$LINNET_TURN_PORT"
	else
		bad "coturn: STUN binding on $LINNET_TURN_HOST:$LINNET_TURN_PORT"
	fi
	# A TURN allocation with REST credentials from the shared secret (uclient derives them). It
	# allocates at once, then keeps waiting for a peer that is not there: cut it short.
	out=$(timeout 1 turnutils_uclient -W "$LINNET_TURN_SECRET" -p "$LINNET_TURN_PORT" -n 1 -m 1 -l 100 \
		-e 127.0.0.1 -X "$LINNET_TURN_HOST" 2>&1 || true)
	if grep -q 'Total connect time' <<<"$out" && ! grep -q 'ERROR' <<<"$out"; then
		ok "coturn: TURN allocation with the shared secret"
	else
		bad "coturn: TURN allocation with the shared secret"
	fi
	out=$(timeout 1 turnutils_uclient -W "wrong$LINNET_TURN_SECRET" -p "$LINNET_TURN_PORT" -n 1 -m 1 -l 100 \
		-e 127.0.0.1 -X "$LINNET_TURN_HOST" 2>&1 || true)
	if grep -q 'Cannot complete Allocation' <<<"$out"; then
		ok "coturn: TURN allocation with a wrong secret refused"
	else
		bad "coturn: TURN allocation with a wrong secret was not refused"
	fi
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
