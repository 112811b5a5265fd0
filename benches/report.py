#!/usr/bin/env python3
"""Prints the Markdown table of one benches/run.sh output dir: Linnet beside slixmpp, and the
targets from the issue (connect-to-ready at least 3x faster than slixmpp; 1000 acknowledged
messages in under 2 s). Usage: report.py OUT_DIR"""

import json
import pathlib
import re
import sys

CONNECT_SPEEDUP_TARGET = 3.0
BURST_TARGET_S = 2.0


def load(out, client, phase):
    p = out / f"{client}-{phase}.json"
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def peak_rss_mib(out, client, phase):
    try:
        text = (out / f"time-{client}-{phase}.txt").read_text()
    except OSError:
        return None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(m.group(1)) / 1024 if m else None


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def main():
    out = pathlib.Path(sys.argv[1])
    machine = {}
    for line in (out / "machine.txt").read_text().splitlines():
        k, _, v = line.partition("=")
        machine[k] = v
    res = {c: {p: load(out, c, p) for p in ("connect", "rtt", "burst", "timeline")}
           for c in ("linnet", "slixmpp")}

    def fig(client, phase, key):
        d = res[client][phase]
        return None if d is None or phase not in d else d[phase].get(key)

    print(f"# Linnet vs slixmpp on {machine.get('server')} ({machine.get('date_utc')})\n")
    print(f"Machine: {machine.get('nproc')} cores, {machine.get('cpu')}, kernel {machine.get('kernel')}; "
          f"commit {machine.get('commit')}; {machine.get('rustc')}; {machine.get('python')}, "
          f"slixmpp {machine.get('slixmpp')}; {machine.get('runs')}.\n")
    print("| figure | Linnet | slixmpp | slixmpp / Linnet |")
    print("|---|---:|---:|---:|")

    def row(label, phase, key, digits=2, scale=1.0):
        a, b = fig("linnet", phase, key), fig("slixmpp", phase, key)
        a = None if a is None else a * scale
        b = None if b is None else b * scale
        ratio = f"{b / a:.1f}x" if a and b else "n/a"
        print(f"| {label} | {fmt(a, digits)} | {fmt(b, digits)} | {ratio} |")
        return a, b

    c_med = row("connect-to-ready, median (ms)", "connect", "median_ms")
    row("connect-to-ready, p90 (ms)", "connect", "p90_ms")
    row("connect-to-ready, min (ms)", "connect", "min_ms")
    sx_build = fig("slixmpp", "connect", "construct_median_ms")
    print(f"| slixmpp: building the ClientXMPP before connect(), median (ms), not in the figures above | | {fmt(sx_build)} | |")
    row("round trip to delivery receipt, median (ms)", "rtt", "median_ms")
    row("round trip to delivery receipt, p90 (ms)", "rtt", "p90_ms")
    row("round trip to delivery receipt, min (ms)", "rtt", "min_ms")
    n = fig("linnet", "burst", "messages") or fig("slixmpp", "burst", "messages")
    b_total = row(f"{n} messages until all acked (s)", "burst", "total_ms", 2, 0.001)
    row(f"{n} messages: rate (msg/s)", "burst", "msgs_per_s", 0)
    row(f"{n} messages: time to call send {n} times (ms)", "burst", "send_loop_ms", 1)
    for phase in ("connect", "rtt", "burst"):
        for who, key in (("client", "client_s"), ("server", "server_s")):
            a = (fig("linnet", phase, "cpu_total") or {}).get(key)
            b = (fig("slixmpp", phase, "cpu_total") or {}).get(key)
            ratio = f"{b / a:.1f}x" if a and b else "n/a"
            print(f"| CPU of the {who} process over the timed {phase} runs (s) | {fmt(a)} | {fmt(b)} | {ratio} |")
    for phase in ("connect", "rtt", "burst"):
        a, b = peak_rss_mib(out, "linnet", phase), peak_rss_mib(out, "slixmpp", phase)
        ratio = f"{b / a:.1f}x" if a and b else "n/a"
        print(f"| peak RSS of the {phase} process (MiB) | {fmt(a, 1)} | {fmt(b, 1)} | {ratio} |")

    print("\n## Targets\n")
    a, b = c_med
    if a and b:
        speedup = b / a
        met = "MET" if speedup >= CONNECT_SPEEDUP_TARGET else "NOT MET"
        print(f"- connect-to-ready at least {CONNECT_SPEEDUP_TARGET:.0f}x faster than slixmpp: "
              f"{speedup:.1f}x ({fmt(a)} ms vs {fmt(b)} ms median): **{met}**")
    a, b = b_total
    if a is not None:
        met = "MET" if a < BURST_TARGET_S else "NOT MET"
        print(f"- {n} acknowledged messages in under {BURST_TARGET_S:.0f} s: Linnet {a:.2f} s "
              f"(slixmpp {fmt(b)} s): **{met}**")

    prog = [(c, fig(c, "burst", "acked_at_ms")) for c in ("linnet", "slixmpp")]
    if any(p for _, p in prog):
        print("\n## Burst: time until k messages were acked (ms)\n")
        ks = [k for k, _ in (prog[0][1] or prog[1][1])]
        print("| client | " + " | ".join(str(k) for k in ks) + " |")
        print("|---|" + "---:|" * len(ks))
        for c, p in prog:
            if p:
                print(f"| {c} | " + " | ".join(fmt(t, 0) for _, t in p) + " |")

    titles = {"timeline": "one connect", "timeline_rtt": "one round trip (alice's and bob's lines interleaved)"}
    for key, what in titles.items():
        for c in ("linnet", "slixmpp"):
            t = res[c]["timeline"]
            if not t or key not in t:
                continue
            tl = t[key]
            print(f"\n## {c}: {what}, step by step (the median traced run, {fmt(tl['total_ms'])} ms)\n")
            print("```")
            prev = 0.0
            for name, at in tl["steps"]:
                print(f"{at:8.2f} ms  (+{at - prev:6.2f})  {name}")
                prev = at
            print("```")
    t = res["linnet"]["timeline"]
    if t and "timeline_burst" in t:
        b = t["timeline_burst"]
        print(f"\nlinnet, traced burst of {b['messages']} messages: {b['sent_ack_requests']} ack requests "
              f"written, {b['received_acks']} acks read in {b['reads']} reads, {fmt(b['total_ms'])} ms "
              f"(slixmpp's xep_0198 requests one ack per 5 stanzas).")

    try:
        loads = (out / "load.txt").read_text().strip()
        print("\n## Load average around each phase\n\n```\n" + loads + "\n```")
    except OSError:
        pass


if __name__ == "__main__":
    main()
