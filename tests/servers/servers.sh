#!/usr/bin/env bash
# Install and run real XMPP servers on loopback for Linnet's integration tests and demo:
#   Prosody 0.12 (prosody.test), ejabberd 23.01 (ejabberd.test), coturn (TURN for both) and
#   PostgreSQL 15 (the push app server's shared store: database linnet_push, role linnet).
#
# Usage: tests/servers/servers.sh install | start | stop | status | env | clean
#        tests/servers/servers.sh adduser prosody|prosody-sasl2|ejabberd USER PASSWORD
#        tests/servers/servers.sh kick prosody|prosody-sasl2|ejabberd USER   (closes USER's sessions: reconnect tests)
#        (prosody-sasl2: the same Prosody, host sasl2.prosody.test with SASL2/Bind2/FAST)
#        tests/servers/servers.sh logs prosody|ejabberd|coturn|postgres [LINES]
#        tests/servers/servers.sh ejabberdctl ARGS...   (debugging)
#
# State (configs, certs, data, logs, pids, servers.env, servers.json) lives in
# ${LINNET_TEST_STATE:-/tmp/linnet-test-servers}. See README.md beside this file.
#
# A second, private instance (e.g. one a test restarts) runs beside the shared one with its own
# LINNET_TEST_STATE, its own ports and, if wanted, only some of the servers, all from the
# environment (the same names servers.env uses; every command of that instance needs them):
#   LINNET_TEST_SERVERS="prosody"        which servers (default "prosody ejabberd coturn postgres")
#   LINNET_PROSODY_STARTTLS_PORT LINNET_PROSODY_DIRECT_TLS_PORT LINNET_PROSODY_UPLOAD_HTTPS_PORT
#   LINNET_EJABBERD_STARTTLS_PORT LINNET_EJABBERD_DIRECT_TLS_PORT LINNET_EJABBERD_UPLOAD_HTTPS_PORT
#   LINNET_EJABBERD_API_PORT LINNET_EJABBERD_DIST_PORT LINNET_TURN_PORT
#   LINNET_PROSODY_GATEWAY_PORT LINNET_EJABBERD_GATEWAY_PORT   external component (XEP-0114) ports
#   LINNET_POSTGRES_PORT                 PostgreSQL's TCP port (default 15432)
#   LINNET_UPLOAD_MAX_BYTES              HTTP upload limit (default 10 MiB; benches use more)
# Unset, each keeps the default below.
#
# Everything binds to 127.0.0.1 (and ::1 when the machine has it) only; `start` fails if any
# process it started listens elsewhere.
set -euo pipefail

STATE=${LINNET_TEST_STATE:-/tmp/linnet-test-servers}
MARKER="LINNET_TEST_SERVERS_STATE=$STATE"

PROSODY_DOMAIN=prosody.test
# A second Prosody host with SASL2 (XEP-0388), Bind2 (XEP-0386), inline SM and FAST (XEP-0484);
# prosody.test keeps the classic features. Same ports; the certificate covers *.prosody.test.
PROSODY_SASL2_DOMAIN=sasl2.$PROSODY_DOMAIN
PROSODY_C2S_PORT=15222
PROSODY_TLS_PORT=15223
PROSODY_HTTPS_PORT=15281
# The phone-gateway test component gateway.prosody.test (XEP-0114, tests/peers/jingle_peer.py).
PROSODY_GATEWAY_PORT=15347

EJABBERD_DOMAIN=ejabberd.test
EJABBERD_C2S_PORT=25222
EJABBERD_TLS_PORT=25223
EJABBERD_HTTPS_PORT=25281
EJABBERD_API_PORT=25280    # plain HTTP, 127.0.0.1 only: mod_http_api
EJABBERD_DIST_PORT=25270   # Erlang distribution, 127.0.0.1 only, no epmd
EJABBERD_GATEWAY_PORT=25347   # the test component gateway.ejabberd.test (XEP-0114)

TURN_PORT=3478
TURN_REALM=linnet.test

# A throwaway cluster: trust authentication on 127.0.0.1 only, no fsync.
POSTGRES_PORT=15432
POSTGRES_DB=linnet_push
POSTGRES_ROLE=linnet

PACKAGES=(prosody prosody-modules ejabberd coturn postgresql lua-dbi-sqlite3 lua-unbound openssl curl iproute2)
SERVERS=(prosody ejabberd coturn postgres)

# A private instance's overrides (see the top of this file); unset, the defaults above stay.
PROSODY_C2S_PORT=${LINNET_PROSODY_STARTTLS_PORT:-$PROSODY_C2S_PORT}
PROSODY_TLS_PORT=${LINNET_PROSODY_DIRECT_TLS_PORT:-$PROSODY_TLS_PORT}
PROSODY_HTTPS_PORT=${LINNET_PROSODY_UPLOAD_HTTPS_PORT:-$PROSODY_HTTPS_PORT}
EJABBERD_C2S_PORT=${LINNET_EJABBERD_STARTTLS_PORT:-$EJABBERD_C2S_PORT}
EJABBERD_TLS_PORT=${LINNET_EJABBERD_DIRECT_TLS_PORT:-$EJABBERD_TLS_PORT}
EJABBERD_HTTPS_PORT=${LINNET_EJABBERD_UPLOAD_HTTPS_PORT:-$EJABBERD_HTTPS_PORT}
EJABBERD_API_PORT=${LINNET_EJABBERD_API_PORT:-$EJABBERD_API_PORT}
EJABBERD_DIST_PORT=${LINNET_EJABBERD_DIST_PORT:-$EJABBERD_DIST_PORT}
# A private instance that moved its c2s port but says nothing of the gateway's gets c2s + 9: the
# last port of the block of ten PrivateServer (tests/src/private_server.rs) reserves, so that it
# never collides with the shared instance's gateway port.
if [[ -n ${LINNET_PROSODY_STARTTLS_PORT:-} ]]; then PROSODY_GATEWAY_PORT=$((PROSODY_C2S_PORT + 9)); fi
if [[ -n ${LINNET_EJABBERD_STARTTLS_PORT:-} ]]; then EJABBERD_GATEWAY_PORT=$((EJABBERD_C2S_PORT + 9)); fi
PROSODY_GATEWAY_PORT=${LINNET_PROSODY_GATEWAY_PORT:-$PROSODY_GATEWAY_PORT}
EJABBERD_GATEWAY_PORT=${LINNET_EJABBERD_GATEWAY_PORT:-$EJABBERD_GATEWAY_PORT}
UPLOAD_MAX_BYTES=${LINNET_UPLOAD_MAX_BYTES:-10485760}
TURN_PORT=${LINNET_TURN_PORT:-$TURN_PORT}
POSTGRES_PORT=${LINNET_POSTGRES_PORT:-$POSTGRES_PORT}
if [[ -n ${LINNET_TEST_SERVERS:-} ]]; then read -ra SERVERS <<<"$LINNET_TEST_SERVERS"; fi

die() { echo "servers.sh: error: $*" >&2; exit 1; }
warn() { echo "servers.sh: warning: $*" >&2; }

check_overrides() {
	local s p
	((${#SERVERS[@]})) || die "LINNET_TEST_SERVERS names no server"
	for s in "${SERVERS[@]}"; do
		case $s in
		prosody | ejabberd | coturn | postgres) ;;
		*) die "LINNET_TEST_SERVERS: unknown server $s (prosody, ejabberd, coturn, postgres)" ;;
		esac
	done
	for p in "$PROSODY_C2S_PORT" "$PROSODY_TLS_PORT" "$PROSODY_HTTPS_PORT" "$EJABBERD_C2S_PORT" \
		"$EJABBERD_TLS_PORT" "$EJABBERD_HTTPS_PORT" "$EJABBERD_API_PORT" "$EJABBERD_DIST_PORT" "$TURN_PORT" \
		"$PROSODY_GATEWAY_PORT" "$EJABBERD_GATEWAY_PORT" "$POSTGRES_PORT"; do
		[[ $p =~ ^[1-9][0-9]{0,4}$ ]] && ((p < 65536)) || die "not a port number: $p"
	done
}

check_state_path() {
	# The path goes into Lua, YAML, JSON and shell files unquoted-safe: keep it simple.
	[[ $STATE =~ ^/[A-Za-z0-9._/-]+$ ]] || die "LINNET_TEST_STATE must be an absolute path of [A-Za-z0-9._/-]: $STATE"
	case "$STATE/" in
	/root/*) die "LINNET_TEST_STATE must not be under /root (0700: the server users cannot read it)" ;;
	esac
}

is_root() { [[ $EUID -eq 0 ]]; }

# Which user runs a given server (root: the Debian system user; otherwise: ourselves).
run_user() {
	if is_root; then
		case $1 in
		prosody) echo prosody ;;
		ejabberd) echo ejabberd ;;
		coturn) echo turnserver ;;
		postgres) echo postgres ;;
		esac
	else
		id -un
	fi
}

# Sets CMD to the prefix that runs a command as the server's user with a clean environment
# carrying our marker. Everything in it execs (setpriv, env), so a PID is the server's own.
server_prefix() {
	CMD=()
	if is_root; then
		local u
		u=$(run_user "$1")
		CMD=(setpriv "--reuid=$u" "--regid=$u" --init-groups)
	fi
	CMD+=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$STATE/$1" "$MARKER")
}

as_server() {
	server_prefix "$1"
	shift
	"${CMD[@]}" "$@"
}

have_ipv6_loopback() {
	[[ -r /proc/net/if_inet6 ]] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

loopbacks() {
	echo 127.0.0.1
	if have_ipv6_loopback; then echo ::1; fi
}

# ---------------------------------------------------------------------------------------------
# Processes

pidfile() { echo "$STATE/$1.pid"; }

has_marker() { grep -qzxF "$MARKER" "/proc/$1/environ" 2>/dev/null; }

# Prints the recorded PID of a server if that process is alive and is ours.
live_pid() {
	local f pid
	f=$(pidfile "$1")
	[[ -r $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -d /proc/$pid ]] && has_marker "$pid" || return 1
	# A zombie is not running.
	[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
	echo "$pid"
}

# All processes carrying our marker (servers, their helpers such as erl_child_setup, and
# an epmd if one got started from our Erlang VM).
marked_pids() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		if has_marker "$p"; then echo "$p"; fi
	done
}

# Processes whose command line matches a pattern (no procps needed).
pids_matching() {
	local p cmd
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p != "$$" ]] || continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		if [[ $cmd =~ $1 ]]; then echo "$p"; fi
	done
}

wait_gone() { # PID TIMEOUT_TENTHS
	local i
	for ((i = 0; i < $2; i++)); do
		[[ -d /proc/$1 ]] || return 0
		[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]] || return 0
		sleep 0.1
	done
	return 1
}

kill_pid() { # PID NAME [SIGNAL]
	kill "-${3:-TERM}" "$1" 2>/dev/null || return 0
	if ! wait_gone "$1" 100; then
		warn "$2 (pid $1) did not exit within 10 s after SIG${3:-TERM}: SIGKILL"
		kill -KILL "$1" 2>/dev/null || true
		wait_gone "$1" 50 || warn "$2 (pid $1) still there after SIGKILL"
	fi
}

# Our own processes of a server that we lost track of (pidfile gone or overwritten): stop them.
kill_orphans() {
	local pattern pid
	case $1 in
	prosody) pattern='/usr/bin/prosody ' ;;
	ejabberd) pattern='/beam(\.smp)? |(^|/)epmd( |$)' ;;
	coturn) pattern='^(/usr/bin/)?turnserver ' ;;
	postgres) pattern='(^|/)postgres[: ]' ;;
	esac
	for pid in $(marked_pids); do
		if [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") =~ $pattern ]]; then
			warn "stopping an untracked $1 process of this state dir (pid $pid)"
			kill_pid "$pid" "$1"
		fi
	done
}

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

log_file() {
	case $1 in
	prosody) echo "$STATE/prosody/prosody.log" ;;
	ejabberd) echo "$STATE/ejabberd/log/ejabberd.log" ;;
	coturn) echo "$STATE/coturn/turnserver.log" ;;
	postgres) echo "$STATE/postgres/console.log" ;;
	*) die "unknown server: $1 (prosody, ejabberd, coturn or postgres)" ;;
	esac
}

show_log_tail() {
	local f
	f=$(log_file "$1")
	echo "---- last lines of $f ----" >&2
	tail -n 40 "$f" >&2 2>/dev/null || echo "(no log)" >&2
	if [[ $f != "$STATE/$1/console.log" && -s $STATE/$1/console.log ]]; then
		echo "---- last lines of $STATE/$1/console.log ----" >&2
		tail -n 20 "$STATE/$1/console.log" >&2
	fi
}

# Waits until PORT accepts on 127.0.0.1, failing early if PID dies. 
wait_port() { # NAME PID PORT TIMEOUT_SECONDS
	local name=$1 pid=$2 port=$3 i
	for ((i = 0; i < $4 * 20; i++)); do
		port_accepts "$port" && return 0
		if ! [[ -d /proc/$pid ]] || [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
			show_log_tail "$name"
			die "$name (pid $pid) exited before port $port accepted connections"
		fi
		sleep 0.05
	done
	show_log_tail "$name"
	die "$name (pid $pid): port $port did not accept connections within $4 s"
}

# Fails if a TCP port is already taken (by anything: a system instance, an old run, ...).
require_free_tcp() { # NAME PORT...
	local name=$1 port
	shift
	for port in "$@"; do
		if port_accepts "$port"; then
			die "cannot start $name: 127.0.0.1:$port is already in use ($(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1))"
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# install

stop_system_instances() {
	local svc pid f
	# systemd, when it is what runs this machine.
	if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
		for svc in prosody ejabberd coturn; do
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		done
	fi
	# Debian's pidfiles, then any server process that is not ours (no marker of any Linnet
	# state dir): those are system instances started by apt's postinst scripts.
	for f in /run/prosody/prosody.pid /run/ejabberd/ejabberd.pid /run/turnserver.pid \
		/run/turnserver/turnserver.pid /var/run/turnserver.pid; do
		[[ -r $f ]] || continue
		pid=$(<"$f")
		if [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] && ! grep -qz '^LINNET_TEST_SERVERS_STATE=' "/proc/$pid/environ" 2>/dev/null; then
			echo "stopping system server pid $pid ($f)"
			kill_pid "$pid" "system server"
		fi
	done
	local pattern='^(/usr/bin/)?lua[0-9.]* /usr/bin/prosody|/beam(\.smp)? .*-s ejabberd|^(/usr/bin/)?turnserver|(^|/)epmd( |$)'
	for pid in $(pids_matching "$pattern"); do
		[[ -d /proc/$pid ]] || continue
		if grep -qz '^LINNET_TEST_SERVERS_STATE=' "/proc/$pid/environ" 2>/dev/null; then continue; fi
		# epmd: only the one the ejabberd system user runs (another Erlang program may use its own).
		if [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") =~ (^|/)epmd( |$) ]] &&
			[[ $(stat -c %U "/proc/$pid" 2>/dev/null) != ejabberd ]]; then
			continue
		fi
		echo "stopping system process $pid: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
		kill_pid "$pid" "system process"
	done
}

cmd_install() {
	is_root || die "install needs root"
	local -a missing=()
	local p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]})); then
		echo "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
	stop_system_instances
}

# ---------------------------------------------------------------------------------------------
# Certificates: one throwaway CA (kept across restarts), one cert per server.

make_ca() {
	local d=$STATE/ca
	if [[ -s $d/ca.pem && -s $d/ca.key ]] && openssl x509 -in "$d/ca.pem" -noout -checkend 604800 >/dev/null; then
		return 0
	fi
	mkdir -p "$d"
	chmod 0755 "$d"
	# Name constraints: even if someone trusted this CA by mistake, it cannot vouch for real names.
	cat >"$d/ca.cnf" <<-'EOF'
		[req]
		distinguished_name = dn
		prompt = no
		[dn]
		CN = Linnet throwaway test CA
		[v3_ca]
		basicConstraints = critical, CA:TRUE, pathlen:0
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		nameConstraints = critical, permitted;DNS:test, permitted;DNS:localhost, permitted;IP:127.0.0.0/255.0.0.0, permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
	EOF
	(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/ca.key" 2>/dev/null)
	openssl req -new -x509 -config "$d/ca.cnf" -extensions v3_ca -key "$d/ca.key" \
		-days 825 -sha256 -out "$d/ca.pem"
	chmod 0644 "$d/ca.pem"
	# New CA: every server cert must be re-issued.
	rm -f "$STATE"/prosody/certs/*.crt "$STATE"/ejabberd/certs/*.pem
}

# issue_cert DOMAIN OUT_CRT OUT_KEY OWNER
issue_cert() {
	local domain=$1 crt=$2 key=$3 owner=$4 d=$STATE/ca
	if [[ -s $crt && -s $key ]] && openssl x509 -in "$crt" -noout -checkend 604800 >/dev/null &&
		openssl verify -CAfile "$d/ca.pem" "$crt" >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p "$(dirname "$crt")"
	local ext
	ext=$(mktemp)
	cat >"$ext" <<-EOF
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:$domain, DNS:*.$domain, DNS:localhost, IP:127.0.0.1, IP:::1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null)
	openssl req -new -key "$key" -subj "/CN=$domain" 2>/dev/null |
		openssl x509 -req -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 397 -sha256 \
			-extfile "$ext" -out "$crt" 2>/dev/null
	rm -f "$ext"
	chmod 0644 "$crt"
	chmod 0600 "$key"
	if is_root; then chown "$owner:" "$key"; fi
}

# ---------------------------------------------------------------------------------------------
# Configs

turn_secret() {
	local f=$STATE/turn.secret
	if [[ ! -s $f ]]; then
		(umask 022 && openssl rand -hex 24 >"$f")
	fi
	cat "$f"
}

# The shared secret of the gateway test components (XEP-0114 handshake), like the TURN secret.
gateway_secret() {
	local f=$STATE/gateway.secret
	if [[ ! -s $f ]]; then
		(umask 022 && openssl rand -hex 24 >"$f")
	fi
	cat "$f"
}

# Our Prosody modules go into the state dir: the prosody user may not be able to read the repo.
install_prosody_modules() {
	local src
	src=$(dirname "${BASH_SOURCE[0]}")/prosody
	mkdir -p "$STATE/prosody/modules"
	cp "$src"/mod_*.lua "$STATE/prosody/modules/"
	chmod 0755 "$STATE/prosody/modules"
	chmod 0644 "$STATE/prosody/modules"/mod_*.lua
	if is_root; then chown -R prosody: "$STATE/prosody/modules"; fi
}

write_prosody_config() {
	local d=$STATE/prosody secret=$1 gateway_secret=$2 ifaces
	ifaces=$(loopbacks | sed 's/.*/"&"/' | paste -sd, | sed 's/,/, /g')
	cat >"$d/prosody.cfg.lua" <<-EOF
		-- Generated by tests/servers/servers.sh: Linnet test server, loopback only.
		prosody_user = "$(run_user prosody)"
		pidfile = "$d/prosody.pid"
		data_path = "$d/data"
		certificates = "$d/certs"
		-- Our own modules (copied from tests/servers/prosody/) first, then the packaged ones.
		plugin_paths = { "$d/modules", "/usr/lib/prosody/modules" }
		log = { { levels = { min = "${LINNET_PROSODY_LOG_LEVEL:-info}" }, to = "file", filename = "$d/prosody.log" } }

		interfaces = { $ifaces }
		local_interfaces = { $ifaces }
		c2s_ports = { $PROSODY_C2S_PORT }
		c2s_direct_tls_ports = { $PROSODY_TLS_PORT }
		http_ports = { }
		https_ports = { $PROSODY_HTTPS_PORT }
		component_ports = { $PROSODY_GATEWAY_PORT }
		component_interfaces = { $ifaces }
		http_default_host = "upload.$PROSODY_DOMAIN"

		modules_enabled = {
			"roster"; "saslauth"; "tls"; "disco"; "carbons"; "pep"; "private"; "blocklist";
			"vcard4"; "vcard_legacy"; "bookmarks"; "version"; "uptime"; "time"; "ping";
			"register"; "mam"; "csi_simple"; "smacks"; "offline"; "admin_shell";
			"external_services"; "turn_external"; "cloud_notify";
		}
		modules_disabled = { "s2s" }

		c2s_require_encryption = true
		allow_unencrypted_plain_auth = false
		authentication = "internal_hashed"
		allow_registration = true
		min_seconds_between_registrations = 0

		default_storage = "internal"
		storage = { archive = "sql"; muc_log = "sql" }
		sql = { driver = "SQLite3"; database = "prosody.sqlite" }

		default_archive_policy = true
		archive_expires_after = "never"

		turn_external_host = "127.0.0.1"
		turn_external_port = $TURN_PORT
		turn_external_secret = "$secret"
		turn_external_tcp = true

		VirtualHost "$PROSODY_DOMAIN"

		-- SASL2 + Bind2 + inline SM + FAST, from prosody-modules (hg 556bf57d6417). That
		-- snapshot targets Prosody 13 APIs: without the compat shim it breaks every TLS client of
		-- the host on 0.12 (no stream features after TLS).
		VirtualHost "$PROSODY_SASL2_DOMAIN"
			modules_enabled = { "sasl2_compat012"; "sasl2"; "sasl2_bind2"; "sasl2_sm"; "sasl2_fast" }

		Component "upload.$PROSODY_DOMAIN" "http_file_share"
			http_host = "127.0.0.1"
			http_external_url = "https://127.0.0.1:$PROSODY_HTTPS_PORT/"
			http_file_share_size_limit = $UPLOAD_MAX_BYTES
			http_file_share_daily_quota = 100 * $UPLOAD_MAX_BYTES

		Component "conference.$PROSODY_DOMAIN" "muc"
			modules_enabled = { "muc_mam" }
			muc_log_by_default = true
			restrict_room_creation = false

		-- A phone gateway (JMP/Cheogram model) played by tests/peers/jingle_peer.py --component.
		-- Prosody's mod_disco lists subdomain components in the host's disco#items by itself.
		Component "gateway.$PROSODY_DOMAIN"
			component_secret = "$gateway_secret"

		-- Two push app servers (XEP-0357) played by linnet-push in the tests: a device can move
		-- from one to the other. Same component port and secret as the gateway.
		Component "push.$PROSODY_DOMAIN"
			component_secret = "$gateway_secret"
		Component "push2.$PROSODY_DOMAIN"
			component_secret = "$gateway_secret"
	EOF
}

write_ejabberd_config() {
	local d=$STATE/ejabberd secret=$1 gateway_secret=$2 ip listeners=""
	for ip in $(loopbacks); do
		listeners+="
  - port: $EJABBERD_C2S_PORT
    ip: \"$ip\"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: true
    protocol_options: 'TLS_OPTIONS'
  - port: $EJABBERD_TLS_PORT
    ip: \"$ip\"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    tls: true
    protocol_options: 'TLS_OPTIONS'
  - port: $EJABBERD_HTTPS_PORT
    ip: \"$ip\"
    module: ejabberd_http
    tls: true
    protocol_options: 'TLS_OPTIONS'
    request_handlers:
      /upload: mod_http_upload
  - port: $EJABBERD_GATEWAY_PORT
    ip: \"$ip\"
    module: ejabberd_service
    hosts:
      gateway.$EJABBERD_DOMAIN:
        password: \"$gateway_secret\"
      push.$EJABBERD_DOMAIN:
        password: \"$gateway_secret\"
      push2.$EJABBERD_DOMAIN:
        password: \"$gateway_secret\""
	done
	cat >"$d/ejabberd.yml" <<-EOF
		# Generated by tests/servers/servers.sh: Linnet test server, loopback only.
		hosts:
		  - $EJABBERD_DOMAIN
		loglevel: ${LINNET_EJABBERD_LOG_LEVEL:-info}
		log_rotate_count: 0
		certfiles:
		  - "$d/certs/server.pem"
		ca_file: "$STATE/ca/ca.pem"
		acme:
		  auto: false
		define_macro:
		  'TLS_CIPHERS': "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
		  'TLS_OPTIONS':
		    - "no_sslv3"
		    - "no_tlsv1"
		    - "no_tlsv1_1"
		    - "cipher_server_preference"
		    - "no_compression"
		c2s_ciphers: 'TLS_CIPHERS'
		c2s_protocol_options: 'TLS_OPTIONS'
		listen:$listeners
		  - port: $EJABBERD_API_PORT
		    ip: "127.0.0.1"
		    module: ejabberd_http
		    request_handlers:
		      /api: mod_http_api
		auth_method: internal
		auth_password_format: scram
		auth_scram_hash: sha256
		disable_sasl_mechanisms:
		  - "digest-md5"
		  - "x-oauth2"
		registration_timeout: infinity
		s2s_access: s2s
		acl:
		  local:
		    user_regexp: ""
		  loopback:
		    ip:
		      - 127.0.0.0/8
		      - ::1/128
		access_rules:
		  local:
		    allow: local
		  c2s:
		    allow: all
		  s2s:
		    deny: all
		  muc_create:
		    allow: local
		  pubsub_createnode:
		    allow: local
		  register:
		    allow: all
		  trusted_network:
		    allow: loopback
		api_permissions:
		  "console commands":
		    from:
		      - ejabberd_ctl
		    who: all
		    what: "*"
		  "loopback http api":
		    from:
		      - mod_http_api
		    who:
		      ip: 127.0.0.1/8
		    what:
		      - "*"
		      - "!stop"
		      - "!restart"
		      - "!halt"
		shaper_rules:
		  max_user_sessions: 100
		  max_user_offline_messages: 5000
		  c2s_shaper: none
		modules:
		  mod_adhoc: {}
		  mod_admin_extra: {}
		  mod_blocking: {}
		  mod_caps: {}
		  mod_carboncopy: {}
		  mod_client_state: {}
		  mod_disco:
		    # ejabberd lists an external component only while it is connected; Prosody always does.
		    # Listed here, gateway.<domain> shows on both servers whether or not a test runs it.
		    extra_domains:
		      - gateway.$EJABBERD_DOMAIN
		  mod_http_api: {}
		  mod_http_upload:
		    put_url: "https://127.0.0.1:$EJABBERD_HTTPS_PORT/upload"
		    docroot: "$d/upload"
		    max_size: $UPLOAD_MAX_BYTES
		    thumbnail: false
		  mod_last: {}
		  mod_mam:
		    assume_mam_usage: true
		    default: always
		  mod_muc:
		    access_create: muc_create
		    default_room_options:
		      mam: true
		  mod_muc_admin: {}
		  mod_offline:
		    access_max_user_messages: max_user_offline_messages
		  mod_ping: {}
		  mod_privacy: {}
		  mod_private: {}
		  mod_pubsub:
		    access_createnode: pubsub_createnode
		    plugins:
		      - flat
		      - pep
		    force_node_config:
		      storage:bookmarks:
		        access_model: whitelist
		  mod_push: {}
		  mod_push_keepalive: {}
		  mod_register:
		    ip_access: trusted_network
		  mod_roster:
		    versioning: true
		  mod_stream_mgmt:
		    resend_on_timeout: if_offline
		  mod_stun_disco:
		    secret: "$secret"
		    services:
		      - host: 127.0.0.1
		        port: $TURN_PORT
		        type: stun
		        transport: udp
		        restricted: false
		      - host: 127.0.0.1
		        port: $TURN_PORT
		        type: turn
		        transport: udp
		        restricted: true
		      - host: 127.0.0.1
		        port: $TURN_PORT
		        type: turn
		        transport: tcp
		        restricted: true
		  mod_vcard: {}
		  mod_vcard_xupdate: {}
		  mod_version:
		    show_os: false
	EOF
	cat >"$d/inetrc" <<-'EOF'
		{lookup, [file, native]}.
		{host, {127,0,0,1}, ["localhost"]}.
	EOF
	# For `servers.sh ejabberdctl ...` (ejabberdctl --config-dir reads it).
	cat >"$d/ejabberdctl.cfg" <<-EOF
		ERLANG_NODE=ejabberd@localhost
		ERL_DIST_PORT=$EJABBERD_DIST_PORT
		ERL_OPTIONS="-setcookie \$(cat '$d/cookie') -env ERL_CRASH_DUMP_BYTES 0"
		EJABBERD_CONFIG_PATH=$d/ejabberd.yml
	EOF
}

write_coturn_config() {
	local d=$STATE/coturn secret=$1 ip
	{
		echo "# Generated by tests/servers/servers.sh: Linnet test TURN server, loopback only."
		for ip in $(loopbacks); do
			echo "listening-ip=$ip"
			echo "relay-ip=$ip"
		done
		cat <<-EOF
			listening-port=$TURN_PORT
			min-port=49152
			max-port=49999
			use-auth-secret
			static-auth-secret=$secret
			realm=$TURN_REALM
			fingerprint
			no-tls
			no-dtls
			no-cli
			no-rfc5780
			no-multicast-peers
			allow-loopback-peers
			no-software-attribute
			userdb=$d/turndb
			pidfile=$d/turnserver.pid
			log-file=$d/turnserver.log
			simple-log
		EOF
	} >"$d/turnserver.conf"
}

# ---------------------------------------------------------------------------------------------
# start

ensure_state_dir() {
	if [[ -L $STATE ]]; then die "$STATE is a symlink: refusing"; fi
	mkdir -p "$STATE"
	[[ -O $STATE ]] || die "$STATE exists but is not owned by $(id -un)"
	chmod 0755 "$STATE"
	touch "$STATE/.linnet-test-servers"
}

prepare_dirs() {
	local s
	# Every server's dir, also of those LINNET_TEST_SERVERS leaves out: all configs are written.
	for s in prosody ejabberd coturn postgres; do
		mkdir -p "$STATE/$s"
	done
	mkdir -p "$STATE/prosody/data" "$STATE/prosody/certs" "$STATE/ejabberd/db" \
		"$STATE/ejabberd/log" "$STATE/ejabberd/upload" "$STATE/ejabberd/certs"
	if is_root; then
		chown -R prosody: "$STATE/prosody"
		chown -R ejabberd: "$STATE/ejabberd"
		chown -R turnserver: "$STATE/coturn"
		chown -R postgres: "$STATE/postgres"
	fi
	chmod 0750 "$STATE/prosody/data" "$STATE/ejabberd/db" "$STATE/ejabberd/upload"
}

# launch NAME CMD...: runs CMD as NAME's user in a session of its own, records its PID.
launch() {
	local name=$1
	shift
	server_prefix "$name"
	# 9>&-: the servers must not inherit (and so hold) the start lock.
	setsid "${CMD[@]}" "$@" >>"$STATE/$name/console.log" 2>&1 </dev/null 9>&- &
	echo $! >"$(pidfile "$name")"
}

# If the server wrote its own pidfile, make sure ours names the same process.
reconcile_pid() { # NAME SERVER_PIDFILE
	local ours theirs
	ours=$(<"$(pidfile "$1")")
	[[ -r $2 ]] || return 0
	theirs=$(tr -dc '0-9' <"$2")
	if [[ -n $theirs && $theirs != "$ours" ]] && has_marker "$theirs"; then
		warn "$1: recorded pid $ours but the server reports $theirs; using $theirs"
		echo "$theirs" >"$(pidfile "$1")"
	fi
}

launch_prosody() {
	rm -f "$STATE/prosody/prosody.pid"
	launch prosody prosody --config "$STATE/prosody/prosody.cfg.lua" -F
}

await_prosody() {
	local pid
	pid=$(<"$(pidfile prosody)")
	wait_port prosody "$pid" "$PROSODY_C2S_PORT" 20
	wait_port prosody "$pid" "$PROSODY_TLS_PORT" 5
	wait_port prosody "$pid" "$PROSODY_HTTPS_PORT" 5
	wait_port prosody "$pid" "$PROSODY_GATEWAY_PORT" 5
	reconcile_pid prosody "$STATE/prosody/prosody.pid"
}

ejabberd_erl_libs() {
	local lib
	lib=$(sed -n "s/^ERL_LIBS='\(.*\)'\$/\1/p" /usr/sbin/ejabberdctl 2>/dev/null | head -n1)
	if [[ -z $lib ]]; then
		lib=$(dirname "$(find /usr/lib -maxdepth 2 -type d -name 'ejabberd-[0-9]*' | head -n1)")
	fi
	echo "$lib"
}

launch_ejabberd() {
	local d=$STATE/ejabberd cookie
	if [[ ! -s $d/cookie ]]; then
		(umask 077 && openssl rand -hex 20 >"$d/cookie")
		if is_root; then chown ejabberd: "$d/cookie"; fi
	fi
	cookie=$(<"$d/cookie")
	rm -f "$d/ejabberd.pid"
	# What `ejabberdctl foreground` runs, minus its wrapper shell (which would not exec erl).
	# Distribution: fixed port (no epmd at all), bound to 127.0.0.1.
	launch ejabberd \
		EJABBERD_CONFIG_PATH="$d/ejabberd.yml" \
		EJABBERD_LOG_PATH="$d/log/ejabberd.log" \
		EJABBERD_PID_PATH="$d/ejabberd.pid" \
		ERL_LIBS="$(ejabberd_erl_libs)" \
		ERL_INETRC="$d/inetrc" \
		ERL_CRASH_DUMP="$d/log/erl_crash.dump" \
		ERL_MAX_PORTS=32000 ERL_MAX_ETS_TABLES=1400 \
		ERL_DIST_PORT="$EJABBERD_DIST_PORT" \
		erl -sname ejabberd@localhost -setcookie "$cookie" \
		+K true +P 250000 -env ERL_CRASH_DUMP_BYTES 0 \
		-erl_epmd_port "$EJABBERD_DIST_PORT" -start_epmd false \
		-kernel inet_dist_use_interface '{127,0,0,1}' \
		-mnesia dir "\"$d/db\"" -s ejabberd -noinput
}

await_ejabberd() {
	local pid i
	pid=$(<"$(pidfile ejabberd)")
	wait_port ejabberd "$pid" "$EJABBERD_C2S_PORT" 60
	wait_port ejabberd "$pid" "$EJABBERD_TLS_PORT" 10
	wait_port ejabberd "$pid" "$EJABBERD_HTTPS_PORT" 10
	wait_port ejabberd "$pid" "$EJABBERD_API_PORT" 10
	wait_port ejabberd "$pid" "$EJABBERD_GATEWAY_PORT" 10
	# The HTTP API answers only once ejabberd has finished starting.
	for ((i = 0; i < 200; i++)); do
		if curl -sf --max-time 2 -d '{}' "http://127.0.0.1:$EJABBERD_API_PORT/api/status" >/dev/null; then
			break
		fi
		sleep 0.05
	done
	((i < 200)) || { show_log_tail ejabberd; die "ejabberd: the HTTP API did not answer /api/status within 10 s"; }
	reconcile_pid ejabberd "$STATE/ejabberd/ejabberd.pid"
}

launch_coturn() {
	rm -f "$STATE/coturn/turnserver.pid"
	launch coturn turnserver -c "$STATE/coturn/turnserver.conf"
}

await_coturn() {
	wait_port coturn "$(<"$(pidfile coturn)")" "$TURN_PORT" 10
	reconcile_pid coturn "$STATE/coturn/turnserver.pid"
}

postgres_bin() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n1)
	[[ -x $d/postgres && -x $d/initdb ]] || die "PostgreSQL not found under /usr/lib/postgresql: run '$0 install' (as root) first"
	echo "$d"
}

# The cluster is made once per state dir (initdb, then the role and database in single-user
# mode, without a server) and kept across restarts like ejabberd's database. It is built in a
# side directory and renamed into place, so a half-made cluster is never used.
init_postgres() {
	local d=$STATE/postgres bin
	[[ -s $d/data/PG_VERSION ]] && return 0
	bin=$(postgres_bin)
	rm -rf "$d/data.new"
	as_server postgres "$bin/initdb" --pgdata="$d/data.new" --username=postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 ||
		{ tail -n 20 "$d/initdb.log" >&2; die "postgres: initdb failed (see $d/initdb.log)"; }
	as_server postgres "$bin/postgres" --single -D "$d/data.new" -c fsync=off postgres \
		>>"$d/initdb.log" 2>&1 <<-EOF ||
		CREATE ROLE $POSTGRES_ROLE LOGIN;
		CREATE DATABASE $POSTGRES_DB OWNER $POSTGRES_ROLE;
	EOF
		{ tail -n 20 "$d/initdb.log" >&2; die "postgres: creating the role and database failed (see $d/initdb.log)"; }
	mv "$d/data.new" "$d/data"
}

write_postgres_config() {
	local d=$STATE/postgres
	# Only TCP from 127.0.0.1 (and the unix socket in the state dir), without a password.
	cat >"$d/pg_hba.conf" <<-EOF
		local all all trust
		host all all 127.0.0.1/32 trust
	EOF
}

launch_postgres() {
	local d=$STATE/postgres
	init_postgres
	launch postgres "$(postgres_bin)/postgres" -D "$d/data" \
		-c listen_addresses=127.0.0.1 -c port="$POSTGRES_PORT" \
		-c unix_socket_directories="$d" -c hba_file="$d/pg_hba.conf" \
		-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c max_connections=200
}

await_postgres() {
	wait_port postgres "$(<"$(pidfile postgres)")" "$POSTGRES_PORT" 20
}

# Fails if any of our processes (anything carrying our marker) listens beyond loopback, or if
# anything listens on one of our ports beyond loopback (in case ss cannot show processes).
check_loopback_only() {
	local -A ours=() ports=()
	local p line addr port pid bad=""
	for p in $(marked_pids); do ours[$p]=1; done
	for p in "$PROSODY_C2S_PORT" "$PROSODY_TLS_PORT" "$PROSODY_HTTPS_PORT" "$EJABBERD_C2S_PORT" \
		"$EJABBERD_TLS_PORT" "$EJABBERD_HTTPS_PORT" "$EJABBERD_API_PORT" "$EJABBERD_DIST_PORT" "$TURN_PORT" \
		"$PROSODY_GATEWAY_PORT" "$EJABBERD_GATEWAY_PORT" "$POSTGRES_PORT"; do
		ports[$p]=1
	done
	while read -r line; do
		addr=$(awk '{print $5}' <<<"$line")
		port=${addr##*:}
		pid=""
		if [[ $line =~ pid=([0-9]+) ]]; then pid=${BASH_REMATCH[1]}; fi
		[[ -n ${ours[${pid:-x}]:-} || -n ${ports[$port]:-} ]] || continue
		case $addr in
		127.* | \[::1\]:* | \[::ffff:127.*) ;;
		*) bad+="$line"$'\n' ;;
		esac
	done < <(ss -H -ltunp 2>/dev/null)
	if [[ -n $bad ]]; then
		echo "$bad" >&2
		cmd_stop >&2
		die "a test server listened on a non-loopback address (see above); everything was stopped"
	fi
}

write_env_files() {
	local secret=$1 gateway_secret=$2 v6=null api="http://127.0.0.1:$EJABBERD_API_PORT/api"
	local postgres_url="postgres://$POSTGRES_ROLE@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB"
	if have_ipv6_loopback; then v6='"::1"'; fi
	cat >"$STATE/servers.env.tmp" <<-EOF
		LINNET_TEST_STATE=$STATE
		LINNET_TEST_CA=$STATE/ca/ca.pem
		LINNET_TURN_HOST=127.0.0.1
		LINNET_TURN_PORT=$TURN_PORT
		LINNET_TURN_SECRET=$secret
		LINNET_TURN_REALM=$TURN_REALM
		LINNET_PROSODY_DOMAIN=$PROSODY_DOMAIN
		LINNET_PROSODY_HOST=127.0.0.1
		LINNET_PROSODY_STARTTLS_PORT=$PROSODY_C2S_PORT
		LINNET_PROSODY_DIRECT_TLS_PORT=$PROSODY_TLS_PORT
		LINNET_PROSODY_UPLOAD_JID=upload.$PROSODY_DOMAIN
		LINNET_PROSODY_UPLOAD_HTTPS_PORT=$PROSODY_HTTPS_PORT
		LINNET_PROSODY_MUC_JID=conference.$PROSODY_DOMAIN
		LINNET_PROSODY_TURN_HOST=127.0.0.1
		LINNET_PROSODY_TURN_PORT=$TURN_PORT
		LINNET_PROSODY_TURN_SECRET=$secret
		LINNET_PROSODY_SASL2_DOMAIN=$PROSODY_SASL2_DOMAIN
		LINNET_EJABBERD_DOMAIN=$EJABBERD_DOMAIN
		LINNET_EJABBERD_HOST=127.0.0.1
		LINNET_EJABBERD_STARTTLS_PORT=$EJABBERD_C2S_PORT
		LINNET_EJABBERD_DIRECT_TLS_PORT=$EJABBERD_TLS_PORT
		LINNET_EJABBERD_UPLOAD_JID=upload.$EJABBERD_DOMAIN
		LINNET_EJABBERD_UPLOAD_HTTPS_PORT=$EJABBERD_HTTPS_PORT
		LINNET_EJABBERD_MUC_JID=conference.$EJABBERD_DOMAIN
		LINNET_EJABBERD_TURN_HOST=127.0.0.1
		LINNET_EJABBERD_TURN_PORT=$TURN_PORT
		LINNET_EJABBERD_TURN_SECRET=$secret
		LINNET_EJABBERD_API_URL=$api
		LINNET_PROSODY_GATEWAY_JID=gateway.$PROSODY_DOMAIN
		LINNET_PROSODY_GATEWAY_PORT=$PROSODY_GATEWAY_PORT
		LINNET_EJABBERD_GATEWAY_JID=gateway.$EJABBERD_DOMAIN
		LINNET_EJABBERD_GATEWAY_PORT=$EJABBERD_GATEWAY_PORT
		LINNET_GATEWAY_SECRET=$gateway_secret
		LINNET_PROSODY_PUSH_JID=push.$PROSODY_DOMAIN
		LINNET_EJABBERD_PUSH_JID=push.$EJABBERD_DOMAIN
		LINNET_POSTGRES_PORT=$POSTGRES_PORT
		LINNET_POSTGRES_URL=$postgres_url
	EOF
	cat >"$STATE/servers.json.tmp" <<-EOF
		{
		  "state_dir": "$STATE",
		  "ca_file": "$STATE/ca/ca.pem",
		  "turn": { "host": "127.0.0.1", "port": $TURN_PORT, "transports": ["udp", "tcp"], "secret": "$secret", "realm": "$TURN_REALM" },
		  "postgres": { "url": "$postgres_url", "host": "127.0.0.1", "port": $POSTGRES_PORT, "database": "$POSTGRES_DB", "user": "$POSTGRES_ROLE" },
		  "prosody": {
		    "domain": "$PROSODY_DOMAIN",
		    "host": "127.0.0.1",
		    "host_v6": $v6,
		    "starttls_port": $PROSODY_C2S_PORT,
		    "direct_tls_port": $PROSODY_TLS_PORT,
		    "upload_jid": "upload.$PROSODY_DOMAIN",
		    "upload_https_port": $PROSODY_HTTPS_PORT,
		    "muc_jid": "conference.$PROSODY_DOMAIN",
		    "sasl_scram": "SCRAM-SHA-1",
		    "turn": { "host": "127.0.0.1", "port": $TURN_PORT, "secret": "$secret" },
		    "gateway": { "jid": "gateway.$PROSODY_DOMAIN", "host": "127.0.0.1", "port": $PROSODY_GATEWAY_PORT, "secret": "$gateway_secret" },
		    "push": { "jids": ["push.$PROSODY_DOMAIN", "push2.$PROSODY_DOMAIN"], "host": "127.0.0.1", "port": $PROSODY_GATEWAY_PORT, "secret": "$gateway_secret" }
		  },
		  "prosody-sasl2": {
		    "domain": "$PROSODY_SASL2_DOMAIN",
		    "host": "127.0.0.1",
		    "host_v6": $v6,
		    "starttls_port": $PROSODY_C2S_PORT,
		    "direct_tls_port": $PROSODY_TLS_PORT,
		    "sasl_scram": "SCRAM-SHA-1",
		    "sasl2": true
		  },
		  "ejabberd": {
		    "domain": "$EJABBERD_DOMAIN",
		    "host": "127.0.0.1",
		    "host_v6": $v6,
		    "starttls_port": $EJABBERD_C2S_PORT,
		    "direct_tls_port": $EJABBERD_TLS_PORT,
		    "upload_jid": "upload.$EJABBERD_DOMAIN",
		    "upload_https_port": $EJABBERD_HTTPS_PORT,
		    "muc_jid": "conference.$EJABBERD_DOMAIN",
		    "sasl_scram": "SCRAM-SHA-256",
		    "api_url": "$api",
		    "turn": { "host": "127.0.0.1", "port": $TURN_PORT, "secret": "$secret" },
		    "gateway": { "jid": "gateway.$EJABBERD_DOMAIN", "host": "127.0.0.1", "port": $EJABBERD_GATEWAY_PORT, "secret": "$gateway_secret" },
		    "push": { "jids": ["push.$EJABBERD_DOMAIN", "push2.$EJABBERD_DOMAIN"], "host": "127.0.0.1", "port": $EJABBERD_GATEWAY_PORT, "secret": "$gateway_secret" }
		  }
		}
	EOF
	chmod 0644 "$STATE/servers.env.tmp" "$STATE/servers.json.tmp"
	mv -f "$STATE/servers.env.tmp" "$STATE/servers.env"
	mv -f "$STATE/servers.json.tmp" "$STATE/servers.json"
}

cmd_start() {
	check_state_path
	local b
	for b in prosody prosodyctl erl turnserver openssl curl ss setpriv flock; do
		command -v "$b" >/dev/null || die "$b not found: run '$0 install' (as root) first"
	done
	local -a todo=()
	local s
	for s in "${SERVERS[@]}"; do
		live_pid "$s" >/dev/null || todo+=("$s")
	done
	if ((${#todo[@]} == 0)); then
		return 0
	fi
	local t0
	t0=$(date +%s%N)
	ensure_state_dir
	# Serialise concurrent `start`s.
	exec 9>"$STATE/.start.lock"
	flock -w 120 9 || die "timed out waiting for another 'start' ($STATE/.start.lock)"
	todo=()
	for s in "${SERVERS[@]}"; do
		live_pid "$s" >/dev/null || todo+=("$s")
	done
	((${#todo[@]})) || return 0

	prepare_dirs
	local secret
	secret=$(turn_secret)
	local gw_secret
	gw_secret=$(gateway_secret)
	make_ca
	issue_cert "$PROSODY_DOMAIN" "$STATE/prosody/certs/$PROSODY_DOMAIN.crt" \
		"$STATE/prosody/certs/$PROSODY_DOMAIN.key" "$(run_user prosody)"
	if [[ ! -s $STATE/ejabberd/certs/server.pem ]] ||
		! openssl verify -CAfile "$STATE/ca/ca.pem" "$STATE/ejabberd/certs/server.pem" >/dev/null 2>&1; then
		issue_cert "$EJABBERD_DOMAIN" "$STATE/ejabberd/certs/server.crt" \
			"$STATE/ejabberd/certs/server.key" "$(run_user ejabberd)"
		(umask 077 && cat "$STATE/ejabberd/certs/server.key" "$STATE/ejabberd/certs/server.crt" \
			>"$STATE/ejabberd/certs/server.pem")
		if is_root; then chown ejabberd: "$STATE/ejabberd/certs/server.pem"; fi
	fi
	install_prosody_modules
	write_prosody_config "$secret" "$gw_secret"
	write_ejabberd_config "$secret" "$gw_secret"
	write_coturn_config "$secret"
	write_postgres_config
	if is_root; then
		chown prosody: "$STATE/prosody/prosody.cfg.lua"
		chown ejabberd: "$STATE/ejabberd/ejabberd.yml" "$STATE/ejabberd/inetrc" "$STATE/ejabberd/ejabberdctl.cfg"
		chown turnserver: "$STATE/coturn/turnserver.conf"
		chown postgres: "$STATE/postgres/pg_hba.conf"
	fi

	for s in "${todo[@]}"; do
		rm -f "$(pidfile "$s")"
		kill_orphans "$s"
		case $s in
		prosody) require_free_tcp prosody "$PROSODY_C2S_PORT" "$PROSODY_TLS_PORT" "$PROSODY_HTTPS_PORT" \
			"$PROSODY_GATEWAY_PORT" ;;
		ejabberd) require_free_tcp ejabberd "$EJABBERD_C2S_PORT" "$EJABBERD_TLS_PORT" \
			"$EJABBERD_HTTPS_PORT" "$EJABBERD_API_PORT" "$EJABBERD_DIST_PORT" "$EJABBERD_GATEWAY_PORT" ;;
		coturn) require_free_tcp coturn "$TURN_PORT" ;;
		postgres) require_free_tcp postgres "$POSTGRES_PORT" ;;
		esac
	done
	# Start them side by side, then wait for each.
	for s in "${todo[@]}"; do "launch_$s"; done
	for s in "${todo[@]}"; do "await_$s"; done
	check_loopback_only
	write_env_files "$secret" "$gw_secret"
	echo "started ${todo[*]} in $((($(date +%s%N) - t0) / 1000000)) ms; see $STATE/servers.json"
}

# ---------------------------------------------------------------------------------------------
# stop / status / logs

cmd_stop() {
	local s pid
	for s in "${SERVERS[@]}"; do
		if pid=$(live_pid "$s"); then
			# PostgreSQL: SIGINT is its fast shutdown (SIGTERM would wait for every client
			# to disconnect).
			if [[ $s == postgres ]]; then kill_pid "$pid" "$s" INT; else kill_pid "$pid" "$s"; fi
		fi
		rm -f "$(pidfile "$s")"
	done
	# Leftovers: helpers of the Erlang VM, an epmd our VM started, anything else of ours.
	for pid in $(marked_pids); do
		kill_pid "$pid" "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
	done
}

cmd_clean() {
	cmd_stop
	if [[ -d $STATE ]]; then
		[[ -e $STATE/.linnet-test-servers ]] || die "$STATE does not look like a state dir of this script: not removing it"
		rm -rf "$STATE"
	fi
}

cmd_status() {
	local s pid rc=0
	for s in "${SERVERS[@]}"; do
		if pid=$(live_pid "$s"); then
			echo "$s: running (pid $pid)"
		else
			echo "$s: stopped"
			rc=3
		fi
	done
	return $rc
}

cmd_logs() {
	[[ $# -ge 1 ]] || die "usage: $0 logs prosody|ejabberd|coturn|postgres [LINES]"
	tail -n "${2:-50}" "$(log_file "$1")"
}

# ---------------------------------------------------------------------------------------------
# adduser

cmd_adduser() {
	[[ $# -eq 3 ]] || die "usage: $0 adduser prosody|prosody-sasl2|ejabberd USER PASSWORD"
	local server=$1 user=$2 password=$3 out
	[[ $user =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "user name must match [a-z0-9][a-z0-9._-]*: $user"
	[[ -n $password ]] || die "empty password"
	case $server in
	prosody | prosody-sasl2)
		local domain=$PROSODY_DOMAIN
		if [[ $server == prosody-sasl2 ]]; then domain=$PROSODY_SASL2_DOMAIN; fi
		live_pid prosody >/dev/null || die "prosody is not running"
		# `prosodyctl shell` runs user:create inside the running server over its admin socket
		# (a unix socket in the data dir): the existence check and the creation happen in one
		# event-loop turn, so parallel calls are safe without a lock, and an existing account is
		# an error as on ejabberd (`prosodyctl register` would silently reset its password).
		# Measured here: ~0.07 s per call (20 in a row: 68 ms each; 20 in parallel: 2.2 s total,
		# no failure; 10 parallel calls for one name: exactly 1 success).
		if ! out=$(as_server prosody prosodyctl --config "$STATE/prosody/prosody.cfg.lua" \
			shell user create "$user@$domain" "$password" 2>&1); then
			die "prosody: could not create $user@$domain: $out"
		fi
		;;
	ejabberd)
		live_pid ejabberd >/dev/null || die "ejabberd is not running"
		# POST /api/register to mod_http_api on 127.0.0.1 only (an `ejabberdctl register` would
		# boot an Erlang VM each time, ~0.85 s). Measured here: ~0.05 s per call (20 in a row:
		# 48 ms each, mostly this script; 20 in parallel: 1.0 s total; one name 10 times in
		# parallel: exactly 1 success, the others get 409 "already registered").
		local body
		body=$(printf '{"user":"%s","host":"%s","password":"%s"}' "$user" "$EJABBERD_DOMAIN" \
			"$(json_escape "$password")")
		if ! out=$(curl -sS --fail-with-body --max-time 10 -H 'Content-Type: application/json' \
			--data-binary @- "http://127.0.0.1:$EJABBERD_API_PORT/api/register" <<<"$body" 2>&1); then
			die "ejabberd: could not create $user@$EJABBERD_DOMAIN: $out"
		fi
		;;
	*) die "unknown server: $server (prosody, prosody-sasl2 or ejabberd)" ;;
	esac
}

# Closes every session of USER from the server side, as an operator would (reconnect tests).
cmd_kick() {
	[[ $# -eq 2 ]] || die "usage: $0 kick prosody|prosody-sasl2|ejabberd USER"
	local server=$1 user=$2 out
	[[ $user =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "user name must match [a-z0-9][a-z0-9._-]*: $user"
	case $server in
	prosody | prosody-sasl2)
		local domain=$PROSODY_DOMAIN
		if [[ $server == prosody-sasl2 ]]; then domain=$PROSODY_SASL2_DOMAIN; fi
		live_pid prosody >/dev/null || die "prosody is not running"
		if ! out=$(as_server prosody prosodyctl --config "$STATE/prosody/prosody.cfg.lua" \
			shell c2s close "$user@$domain" 2>&1); then
			die "prosody: could not kick $user@$domain: $out"
		fi
		;;
	ejabberd)
		live_pid ejabberd >/dev/null || die "ejabberd is not running"
		if ! out=$(curl -sS --fail-with-body --max-time 10 -H 'Content-Type: application/json' \
			--data-binary "{\"user\":\"$user\",\"host\":\"$EJABBERD_DOMAIN\"}" \
			"http://127.0.0.1:$EJABBERD_API_PORT/api/kick_user" 2>&1); then
			die "ejabberd: could not kick $user@$EJABBERD_DOMAIN: $out"
		fi
		;;
	*) die "unknown server: $server (prosody, prosody-sasl2 or ejabberd)" ;;
	esac
}

json_escape() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------

main() {
	[[ $# -ge 1 ]] || die "usage: $0 install|start|stop|status|adduser|kick|logs|env|clean"
	local cmd=$1
	shift
	check_state_path
	check_overrides
	case $cmd in
	install) cmd_install "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	clean) cmd_clean "$@" ;;
	status) cmd_status "$@" ;;
	adduser) cmd_adduser "$@" ;;
	kick) cmd_kick "$@" ;;
	logs) cmd_logs "$@" ;;
	env) cat "$STATE/servers.env" ;;
	ejabberdctl) # debugging aid: ejabberdctl against our node (boots a VM: ~1 s per call)
		ejabberdctl --config-dir "$STATE/ejabberd" --spool "$STATE/ejabberd/db" \
			--logs "$STATE/ejabberd/log" "$@" ;;
	*) die "unknown command: $cmd" ;;
	esac
}

main "$@"
