#!/usr/bin/env python3
"""Prints the Markdown table of one benches/run.sh output dir: Linnet beside slixmpp, and the
targets from the issue (connect-to-ready at least 3x faster than slixmpp; 1000 acknowledged
messages in under 2 s). Samples of all rounds are pooled for the connect and round-trip
figures; the burst figure is the median of the rounds. Usage: report.py OUT_DIR"""

import json
import math
import pathlib
import re
import statistics
import sys

CONNECT_SPEEDUP_TARGET = 3.0
BURST_TARGET_S = 2.0
CATCHUP_FLOOR_TARGET = 1.2  # issue 5: Linnet's catch-up within 1.2x of the floor
CLIENTS = ("linnet", "slixmpp")


def rounds(out, client, phase, key=None):
    """The per-round results of a phase (its `key` in the JSON, the phase's name by default)."""
    key = key or phase
    files = sorted(out.glob(f"{client}-{phase}-r*.json"), key=lambda p: int(p.stem.rsplit("-r", 1)[1]))
    if not files and (out / f"{client}-{phase}.json").exists():
        files = [out / f"{client}-{phase}.json"]
    res = []
    for p in files:
        try:
            d = json.loads(p.read_text())
        except ValueError:
            continue
        if key in d:
            res.append(d[key])
    return res


def peak_rss_mib(out, client, phase):
    peak = None
    for p in out.glob(f"time-{client}-{phase}*.txt"):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.read_text())
        if m:
            v = int(m.group(1)) / 1024
            peak = v if peak is None else max(peak, v)
    return peak


def percentile(sorted_s, p):
    rank = max(1, math.ceil(p / 100.0 * len(sorted_s)))
    return sorted_s[min(rank, len(sorted_s)) - 1]


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def ratio(a, b):
    return f"{b / a:.1f}x" if a and b else "n/a"


def main():
    out = pathlib.Path(sys.argv[1])
    machine = {}
    for line in (out / "machine.txt").read_text().splitlines():
        k, _, v = line.partition("=")
        machine[k] = v
    data = {c: {p: rounds(out, c, p) for p in ("connect", "rtt", "burst")} for c in CLIENTS}
    for c in CLIENTS:
        for key in ("reconnect_resume", "reconnect_full"):
            data[c][key] = rounds(out, c, "reconnect", key)

    print(f"# Linnet vs slixmpp on {machine.get('server')} ({machine.get('date_utc')})\n")
    print(f"Machine: {machine.get('nproc')} cores, {machine.get('cpu')}, kernel {machine.get('kernel')}; "
          f"commit {machine.get('commit')}; {machine.get('rustc')}; {machine.get('python')}, "
          f"slixmpp {machine.get('slixmpp')}; runs={machine.get('runs')}.\n")
    print("| figure | Linnet | slixmpp | slixmpp / Linnet |")
    print("|---|---:|---:|---:|")

    def pooled(client, phase):
        s = sorted(x for r in data[client][phase] for x in r["samples_ms"])
        return s or None

    summary = {}
    for phase, label in (("connect", "connect-to-ready"), ("rtt", "round trip to delivery receipt"),
                         ("reconnect_resume", "network back to queued message acked, resuming (XEP-0198)"),
                         ("reconnect_full", "network back to queued message acked, new session")):
        if not (data["linnet"][phase] or data["slixmpp"][phase]):
            continue
        pl, ps = pooled("linnet", phase), pooled("slixmpp", phase)
        n = len(pl or ps or [])
        for name, f in (("median", statistics.median), ("p90", lambda s: percentile(s, 90)), ("min", lambda s: s[0])):
            a = f(pl) if pl else None
            b = f(ps) if ps else None
            summary[(phase, name)] = (a, b)
            print(f"| {label}, {name} of {n} runs (ms) | {fmt(a)} | {fmt(b)} | {ratio(a, b)} |")
        per = {c: ", ".join(fmt(r["median_ms"], 1) for r in data[c][phase]) for c in CLIENTS}
        print(f"| {label}, median of each round (ms) | {per['linnet']} | {per['slixmpp']} | |")
        if phase == "connect":
            b = [r.get("construct_median_ms") for r in data["slixmpp"]["connect"]]
            b = statistics.median(b) if b and None not in b else None
            print(f"| slixmpp only: building the ClientXMPP before connect(), median (ms), not counted above | | {fmt(b)} | |")

    n_msgs = None
    burst = {}
    for c in CLIENTS:
        rs = data[c]["burst"]
        if rs:
            n_msgs = rs[0]["messages"]
            totals = [r["total_ms"] / 1000 for r in rs]
            burst[c] = {"totals": totals, "median": statistics.median(totals),
                        "loop": statistics.median(r["send_loop_ms"] for r in rs),
                        "median_round": sorted(rs, key=lambda r: r["total_ms"])[len(rs) // 2]}
    if burst:
        g = lambda c, k: burst.get(c, {}).get(k)  # noqa: E731
        a, b = g("linnet", "median"), g("slixmpp", "median")
        summary["burst"] = (a, b)
        print(f"| {n_msgs} messages until all acked, median of rounds (s) | {fmt(a)} | {fmt(b)} | {ratio(a, b)} |")
        per = {c: ", ".join(fmt(t) for t in burst.get(c, {}).get("totals", [])) for c in CLIENTS}
        print(f"| {n_msgs} messages until all acked, each round (s) | {per['linnet']} | {per['slixmpp']} | |")
        ra = n_msgs / a if a else None
        rb = n_msgs / b if b else None
        print(f"| {n_msgs} messages: rate at the median (msg/s) | {fmt(ra, 0)} | {fmt(rb, 0)} | {ratio(ra, rb)} |")
        a, b = g("linnet", "loop"), g("slixmpp", "loop")
        print(f"| {n_msgs} messages: time to call send {n_msgs} times, median (ms) | {fmt(a, 1)} | {fmt(b, 1)} | {ratio(a, b)} |")

    measured = [p for p in ("connect", "rtt", "burst") if data["linnet"][p] or data["slixmpp"][p]]
    for phase in measured:
        for who, key in (("client", "client_s"), ("server", "server_s")):
            vals = {}
            for c in CLIENTS:
                xs = [(r.get("cpu_total") or {}).get(key) for r in data[c][phase]]
                vals[c] = round(sum(xs), 2) if xs and None not in xs else None
            print(f"| CPU of the {who} process, all timed {phase} runs of all rounds (s) | "
                  f"{fmt(vals['linnet'])} | {fmt(vals['slixmpp'])} | {ratio(vals['linnet'], vals['slixmpp'])} |")
    for phase in measured:
        a, b = peak_rss_mib(out, "linnet", phase), peak_rss_mib(out, "slixmpp", phase)
        print(f"| peak RSS of the {phase} process, largest of the rounds (MiB) | {fmt(a, 1)} | {fmt(b, 1)} | {ratio(a, b)} |")

    catchup = catchup_table(out)

    print("\n## Targets\n")
    a, b = summary.get(("connect", "median"), (None, None))
    if a and b:
        speedup = b / a
        met = "MET" if speedup >= CONNECT_SPEEDUP_TARGET else "NOT MET"
        print(f"- connect-to-ready at least {CONNECT_SPEEDUP_TARGET:.0f}x faster than slixmpp: "
              f"{speedup:.1f}x ({fmt(a)} ms vs {fmt(b)} ms median): **{met}**")
    a, b = summary.get("burst", (None, None))
    if a is not None:
        met = "MET" if a < BURST_TARGET_S else "NOT MET"
        print(f"- {n_msgs} acknowledged messages in under {BURST_TARGET_S:.0f} s: Linnet {a:.2f} s "
              f"(slixmpp {fmt(b)} s), median of the rounds: **{met}**")

    if catchup:
        a, f = catchup
        met = "MET" if a / f <= CATCHUP_FLOOR_TARGET else "NOT MET"
        print(f"- archive catch-up within {CATCHUP_FLOOR_TARGET}x of the floor: {a / f:.2f}x "
              f"({fmt(a, 1)} ms vs {fmt(f, 1)} ms median): **{met}**")

    if burst:
        print("\n## Burst: time until k messages were acked, the median round (ms)\n")
        ks = None
        for c in CLIENTS:
            if c in burst:
                prog = burst[c]["median_round"].get("acked_at_ms") or []
                if ks is None:
                    ks = [k for k, _ in prog]
                    print("| client | " + " | ".join(str(k) for k in ks) + " |")
                    print("|---|" + "---:|" * len(ks))
                print(f"| {c} | " + " | ".join(fmt(t, 0) for _, t in prog) + " |")

    tl = {}
    for c in CLIENTS:
        try:
            tl[c] = json.loads((out / f"{c}-timeline.json").read_text())
        except (OSError, ValueError):
            pass
    titles = {"timeline": "one connect", "timeline_rtt": "one round trip (alice's and bob's lines interleaved)"}
    for key, what in titles.items():
        for c in CLIENTS:
            t = tl.get(c, {}).get(key)
            if not t:
                continue
            print(f"\n## {c}: {what}, step by step (the median traced run, {fmt(t['total_ms'])} ms)\n")
            print("```")
            prev = 0.0
            for name, at in t["steps"]:
                print(f"{at:8.2f} ms  (+{at - prev:6.2f})  {name}")
                prev = at
            print("```")
    b = tl.get("linnet", {}).get("timeline_burst")
    if b:
        print(f"\nlinnet, traced burst of {b['messages']} messages: {b['sent_ack_requests']} ack requests "
              f"written, {b['received_acks']} acks read in {b['reads']} reads, {fmt(b['total_ms'])} ms "
              f"(slixmpp's xep_0198 requests one ack per 5 stanzas).")

    try:
        loads = (out / "load.txt").read_text().strip()
        print("\n## Load average around each phase\n\n```\n" + loads + "\n```")
    except OSError:
        pass


def catchup_table(out):
    """The archive catch-up (issue 5): Linnet's sync_archive(), the floor client and slixmpp on
    the same archive. Returns (Linnet median, floor median) in ms, or None."""
    clients = ("linnet", "floor", "slixmpp")
    runs = {c: [x for r in rounds(out, c, "catchup") for x in r.get("runs", [])] for c in clients}
    if not any(runs.values()):
        return None

    def med(c, key):
        xs = [r.get(key) for r in runs[c] if r.get(key) is not None]
        return statistics.median(xs) if xs else None

    def each_round(c):
        return ", ".join(fmt(statistics.median(x["wall_ms"] for x in r["runs"]), 0)
                         for r in rounds(out, c, "catchup") if r.get("runs"))

    n = max((len(v) for v in runs.values()), default=0)
    fetched = {c: med(c, "fetched") for c in clients}
    print(f"\n## Archive catch-up (issue 5): {fmt(fetched['floor'] or fetched['linnet'], 0)} messages\n")
    print("| figure | Linnet `sync_archive()` | floor (raw pages) | slixmpp xep_0313 |")
    print("|---|---:|---:|---:|")
    walls = {c: sorted(r["wall_ms"] for r in runs[c]) for c in clients}
    row = lambda label, vals: print(f"| {label} | " + " | ".join(vals) + " |")  # noqa: E731
    row(f"wall time, median of up to {n} runs (ms)",
        [fmt(statistics.median(walls[c]), 1) if walls[c] else "n/a" for c in clients])
    row("wall time, min / max (ms)",
        [f"{fmt(walls[c][0], 0)} / {fmt(walls[c][-1], 0)}" if walls[c] else "n/a" for c in clients])
    row("wall time, median of each round (ms)", [each_round(c) for c in clients])
    f = statistics.median(walls["floor"]) if walls["floor"] else None
    row("wall time / floor", [f"{statistics.median(walls[c]) / f:.2f}x" if f and walls[c] else "n/a"
                              for c in clients])
    row("client CPU per run, median (s)", [fmt(med(c, "cpu_s")) for c in clients])
    row("server CPU per run, median (s)", [fmt(med(c, "server_cpu_s")) for c in clients])
    row("peak RSS of the process (MiB)", [fmt(peak_rss_mib(out, c, "catchup"), 1) for c in clients])
    row("pages per run", [fmt(med(c, "pages"), 0) for c in clients])
    row("messages fetched per run", [fmt(fetched[c], 0) for c in clients])
    row("messages stored per run", [fmt(med(c, "stored"), 0) if c == "linnet" else "-" for c in clients])
    a = statistics.median(walls["linnet"]) if walls["linnet"] else None
    return (a, f) if a and f else None


if __name__ == "__main__":
    main()
