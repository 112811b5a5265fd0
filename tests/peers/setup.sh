#!/usr/bin/env bash
# Creates the Python venv the Jingle test peers run in (tests/peers/jingle_peer.py) and installs
# the pinned requirements from PyPI. Idempotent: does nothing when the venv was made from the same
# requirements.txt (its SHA-256 is stored in the venv).
#   LINNET_PEERS_VENV   where the venv lives (default /var/cache/linnet-peers-venv)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${LINNET_PEERS_VENV:-/var/cache/linnet-peers-venv}
requirements=$here/requirements.txt
want=$(sha256sum "$requirements" | cut -d' ' -f1)
stamp=$venv/.linnet-requirements.sha256

if [[ -x $venv/bin/python && -r $stamp && $(<"$stamp") == "$want" ]]; then
	echo "peers: venv $venv is up to date"
	exit 0
fi

# Debian's python3 lacks ensurepip without python3-venv; a pyenv python has it.
python=${LINNET_PEERS_PYTHON:-python3}
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
	if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
	else
		echo "peers: $python cannot make a venv; install python3-venv" >&2
		exit 1
	fi
fi

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$requirements"
# Fails here rather than in a test if something did not install.
"$venv/bin/python" -c 'import aiortc, slixmpp, numpy, av'
echo "$want" >"$stamp"
echo "peers: venv $venv ready ($("$venv/bin/python" --version), aiortc $("$venv/bin/python" -c 'import aiortc; print(aiortc.__version__)'))"
