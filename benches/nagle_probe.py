#!/usr/bin/env python3
"""Shows where the ~40 ms in every connect to the test Prosody comes from (docs/benchmarks.md).

After STARTTLS, a client sends its new stream header and waits for the server's stream header
and <stream:features/>. Prosody 0.12 leaves Nagle's algorithm on (net.server_epoll
`nagle = true` unless `network_settings = { nagle = false }`) and, right after the TLS 1.3
handshake, writes two small session tickets and then header and features: that last write waits
until the client ACKs the earlier small segment, and Linux delays that ACK by up to 40 ms when
the client has nothing to send. The probe times that step N times with the
client's ACKs as usual, and N times with TCP_QUICKACK set on the client socket before each read
(the client then ACKs at once). Standard library only. Usage: nagle_probe.py [prosody|ejabberd] [N]
"""

import json
import os
import pathlib
import socket
import ssl
import statistics
import sys
import time


def read_until(sock, marker, buf=b""):
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def one(server, quickack):
    host, port, domain, ca = server
    raw = socket.create_connection((host, port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    header = (f"<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams'>").encode()
    raw.sendall(header)
    read_until(raw, b"</stream:features>")
    raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    read_until(raw, b"<proceed")
    ctx = ssl.create_default_context(cafile=ca)
    tls = ctx.wrap_socket(raw, server_hostname=domain)
    t0 = time.perf_counter()
    tls.sendall(header)
    buf = b""
    while b"</stream:features>" not in buf:
        if quickack:
            tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = tls.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    dt = time.perf_counter() - t0
    tls.close()
    return dt * 1000


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "prosody"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    state = pathlib.Path(os.environ.get("LINNET_TEST_STATE", "/tmp/linnet-test-servers"))
    info = json.loads((state / "servers.json").read_text())
    s = info[name]
    server = (s["host"], s["starttls_port"], s["domain"], info["ca_file"])
    out = {}
    for quickack in (False, True, False, True):
        samples = [one(server, quickack) for _ in range(n)]
        key = "quickack" if quickack else "default"
        out.setdefault(key, []).extend(samples)
    for key, samples in out.items():
        samples.sort()
        print(f"{name}: stream header after TLS -> features, client ACKs {key:8}: "
              f"median {statistics.median(samples):6.2f} ms, min {samples[0]:6.2f}, "
              f"max {samples[-1]:6.2f} ({len(samples)} runs)")


if __name__ == "__main__":
    main()
