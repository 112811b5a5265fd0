#!/usr/bin/env python3
"""Minimal XMPP probe (stdlib only): TLS (STARTTLS or direct), stream features, optional SCRAM login.

Usage: probe.py HOST PORT DOMAIN CAFILE starttls|direct [USER PASSWORD [MECHANISM]]

Prints one JSON line: TLS version, the server's certificate subject alt names as seen, the
SASL mechanisms offered after TLS, and, with USER/PASSWORD, the result of a SCRAM login (without
channel binding; the default mechanism is the strongest plain SCRAM offered). Exit 0 on success.
PROBE_MAX_TLS=1.2 in the environment caps the TLS version at 1.2; PROBE_REPORT=1 adds, after a
login, the post-auth stream features and what disco, XEP-0215 and MAM prefs answer.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import sys

NS_STREAM = "http://etherx.jabber.org/streams"


def header(domain):
    return (
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        f"xmlns:stream='{NS_STREAM}' to='{domain}' version='1.0'>"
    ).encode()


def read_until(sock, pattern, buf=b""):
    """Reads until the regex matches the buffer; returns (match, rest-of-buffer)."""
    rx = re.compile(pattern, re.S)
    while True:
        m = rx.search(buf)
        if m:
            return m, buf[m.end():]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed while waiting for {pattern!r}: {buf[-300:]!r}")
        buf += chunk


def features(sock, domain):
    sock.sendall(header(domain))
    m, _ = read_until(sock, rb"<stream:features\b.*?</stream:features>")
    return m.group(0).decode()


def scram_login(sock, mech, user, password):
    name = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}[mech]
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    msg = base64.b64encode(("n,," + first_bare).encode()).decode()
    sock.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mech}'>{msg}</auth>".encode())
    m, _ = read_until(sock, rb"<(challenge|failure)\b[^>]*>(.*?)</\1>|<failure\b[^>]*/>")
    if m.group(1) != b"challenge":
        return False, m.group(0).decode()
    server_first = base64.b64decode(m.group(2)).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    if not attrs["r"].startswith(nonce):
        return False, "server nonce does not extend ours"
    salted = hashlib.pbkdf2_hmac(name, password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", name).digest()
    stored_key = hashlib.new(name, client_key).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(stored_key, auth_message, name).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    final = base64.b64encode(f"{final_bare},p={proof}".encode()).decode()
    sock.sendall(f"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{final}</response>".encode())
    m, _ = read_until(sock, rb"<(success|failure)\b[^>]*>(.*?)</\1>|<(success|failure)\b[^>]*/>")
    if (m.group(1) or m.group(3)) != b"success":
        return False, m.group(0).decode()
    server_key = hmac.new(salted, b"Server Key", name).digest()
    expected = base64.b64encode(hmac.new(server_key, auth_message, name).digest()).decode()
    got = base64.b64decode(m.group(2) or b"").decode()
    if got != f"v={expected}":
        return False, f"bad server signature: {got!r}"
    return True, "success"


def iq(sock, ident, body, to=None, kind="get"):
    """Sends an IQ, returns the raw text of the answer (stanzas in between are skipped)."""
    to_attr = f" to='{to}'" if to else ""
    sock.sendall(f"<iq type='{kind}' id='{ident}'{to_attr}>{body}</iq>".encode())
    m, _ = read_until(sock, rf"<iq\b[^>]*\bid=['\"]{ident}['\"][^>]*?(/>|>.*?</iq>)".encode())
    return m.group(0).decode()


def session_report(sock, domain, user):
    """After SASL success: the post-auth features, then a few disco/services/MAM queries."""
    feats = features(sock, domain)
    report = {"stream_features": sorted(set(re.findall(r"xmlns=['\"]([^'\"]+)['\"]", feats)))}
    iq(sock, "bind", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>probe</resource></bind>", kind="set")
    info = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
    var = re.compile(r"<feature var=['\"]([^'\"]+)['\"]")
    report["server_features"] = var.findall(iq(sock, "d1", info, to=domain))
    report["account_features"] = var.findall(iq(sock, "d2", info, to=f"{user}@{domain}"))
    items = iq(sock, "d3", "<query xmlns='http://jabber.org/protocol/disco#items'/>", to=domain)
    report["items"] = re.findall(r"<item\b[^>]*\bjid=['\"]([^'\"]+)['\"]", items)
    for jid in report["items"]:
        if jid.startswith("upload."):
            report["upload_features"] = var.findall(iq(sock, "d4", info, to=jid))
    services = iq(sock, "x1", "<services xmlns='urn:xmpp:extdisco:2'/>", to=domain)
    report["extdisco"] = re.findall(r"<service\b[^>]*/?>", services)
    report["mam_prefs"] = re.findall(r"<prefs\b[^>]*>", iq(sock, "m1", "<prefs xmlns='urn:xmpp:mam:2'/>"))
    return report


def main():
    if len(sys.argv) not in (6, 8, 9):
        sys.exit(__doc__)
    host, port, domain, cafile, mode = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=cafile)
    if os.environ.get("PROBE_MAX_TLS") == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    raw = socket.create_connection((host, int(port)), timeout=10)
    if mode == "starttls":
        pre = features(raw, domain)
        if "urn:ietf:params:xml:ns:xmpp-tls" not in pre:
            sys.exit(f"no STARTTLS offered: {pre}")
        raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        read_until(raw, rb"<proceed\b[^>]*/>")
    elif mode != "direct":
        sys.exit("mode must be starttls or direct")
    sock = ctx.wrap_socket(raw, server_hostname=domain)
    feats = features(sock, domain)
    mechs = re.findall(r"<mechanism>([^<]+)</mechanism>", feats)
    sans = [v for _, v in sock.getpeercert().get("subjectAltName", ())]
    out = {"mode": mode, "port": int(port), "tls": sock.version(), "cert_names": sans, "mechanisms": mechs}
    ok = True
    if len(sys.argv) >= 8:
        user, password = sys.argv[6:8]
        if len(sys.argv) == 9:
            mech = sys.argv[8]
        else:
            mech = next((m for m in ("SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1") if m in mechs), None)
        if mech is None:
            ok, detail = False, "no plain SCRAM mechanism offered"
        else:
            ok, detail = scram_login(sock, mech, user, password)
        out["login"] = {"mechanism": mech, "ok": ok, "detail": detail}
        if ok and os.environ.get("PROBE_REPORT") == "1":
            out["session"] = session_report(sock, domain, user)
    sock.close()
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
