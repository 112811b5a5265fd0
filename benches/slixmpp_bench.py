#!/usr/bin/env python3
"""The slixmpp reference for Linnet's benchmarks (benches/run.sh runs both on the same server).

Same three figures as benches/src/main.rs, doing the same work:

- connect: a fresh ClientXMPP each run (built before the clock starts; its build time is reported
  apart as construct_ms), connect() over STARTTLS, SASL SCRAM, bind, stream management
  (xep_0198), then a session_start handler that fetches the roster, enables carbons (Linnet's
  connect() does that too) and sends initial presence. Timed until that handler has sent presence.
- rtt: alice sends to bob (mutual contacts, as for Linnet), bob's slixmpp answers with a XEP-0184
  receipt by itself (xep_0184 auto_ack), until alice's 'receipt_received' for that message.
- burst: N messages to an offline account with xep_0198 enabled (its default ack-request window,
  plus one ack request queued after the last message),
  until 'stanza_acked' has fired for all N.
- reconnect: through a loopback TCP proxy (asyncio, below) that cuts the connection while new
  ones are refused; timed from the network's return (new connections allowed, connect() called,
  as an app's network callback would) until the server acknowledged a message sent as soon as
  the session is back: with xep_0198 resumption ('session_resumed'), and without (a new session:
  roster, carbons and presence as in connect, then the message).
- catchup (issue 5): an archive catch-up of the account in the --catchup file (the same account
  and archive Linnet and the floor client read, one after the other): connect as in `connect`
  (before the clock), then xep_0313's paged query (`retrieve(iterator=True)`, the RSM iterator
  its `iterate()` runs on) forward from the file's `after` archive id with the same page size, until
  the iterator stops; timed from the first query to the end. It stops on an empty page or, when
  the server gives a count (ejabberd), on the count: it does not read `complete`, so on Prosody
  it asks for one more, empty, page than Linnet and the floor.

Messages carry the same payloads as Linnet's: origin-id, receipt request, markable, chat state.
Prints one JSON object on stdout; progress on stderr. `--timeline N`: N connects with slixmpp's
debug log timestamped (every SEND/RECV), and the median run's steps.
"""

import argparse
import asyncio
import json
import logging
import os
import pathlib
import statistics
import sys
import time

import slixmpp
from slixmpp.plugins.xep_0198.stanza import RequestAck


def state_dir():
    return pathlib.Path(os.environ.get("LINNET_TEST_STATE", "/tmp/linnet-test-servers"))


def load_server(name):
    d = state_dir()
    info = json.loads((d / "servers.json").read_text())
    s = info[name]
    pid = None
    try:
        pid = int((d / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        pass
    return {"host": s["host"], "port": s["starttls_port"], "ca_file": info["ca_file"], "pid": pid}


def cpu_seconds(pid=None):
    """CPU time (user + system) of a process so far, from /proc, in seconds."""
    try:
        stat = pathlib.Path(f"/proc/{pid or 'self'}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


class CpuMeter:
    def __init__(self, server_pid):
        self.server_pid = server_pid
        self.own = cpu_seconds()
        self.server = cpu_seconds(server_pid)

    def stop(self):
        def d(a, b):
            return None if a is None or b is None else round(b - a, 2)
        return {"client_s": d(self.own, cpu_seconds()),
                "server_s": d(self.server, cpu_seconds(self.server_pid))}


def percentile(sorted_s, p):
    import math
    if not sorted_s:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_s)))
    return sorted_s[min(rank, len(sorted_s)) - 1]


def summary(samples):
    s = sorted(samples)
    return {"n": len(s), "median_ms": statistics.median(s), "p90_ms": percentile(s, 90),
            "min_ms": s[0], "max_ms": s[-1], "samples_ms": samples}


def ms(seconds):
    return round(seconds * 1000, 3)


def make_client(server, account):
    x = slixmpp.ClientXMPP(account["jid"], account["password"])
    # The servers listen for STARTTLS on this port: no direct-TLS attempt first.
    x.enable_direct_tls = False
    x.enable_starttls = True
    x.enable_plaintext = False
    x.ca_certs = pathlib.Path(server["ca_file"])
    x.use_origin_id = True
    for p in ("xep_0030", "xep_0198", "xep_0280", "xep_0184", "xep_0333", "xep_0085", "xep_0359"):
        x.register_plugin(p)
    return x


def chat_message(x, to, body):
    m = x.make_message(mto=to, mbody=body, mtype="chat")
    m["request_receipt"] = True
    m.enable("markable")
    m["chat_state"] = "active"
    return m


async def connect_ready(server, account):
    """Connects a fresh client; returns (client, seconds to ready, seconds to construct)."""
    c0 = time.perf_counter()
    x = make_client(server, account)
    c1 = time.perf_counter()
    ready = asyncio.get_running_loop().create_future()

    async def session_start(_event):
        try:
            await x.get_roster()
            await x.plugin["xep_0280"].enable()
            x.send_presence()
            ready.set_result(time.perf_counter())
        except Exception as e:  # noqa: BLE001 - reported to the waiting side
            if not ready.done():
                ready.set_exception(e)

    def failed(event):
        if not ready.done():
            ready.set_exception(RuntimeError(f"connection failed: {event}"))

    x.add_event_handler("session_start", session_start)
    x.add_event_handler("failed_auth", failed)
    x.add_event_handler("connection_failed", failed)
    t0 = time.perf_counter()
    x.connect(server["host"], server["port"])
    t1 = await asyncio.wait_for(ready, 30)
    return x, t1 - t0, c1 - c0


async def bench_catchup(server, catchup, page_size, warmup, runs):
    account = catchup["catchup"]
    after = catchup["after"]
    samples = []
    for i in range(warmup + runs):
        # Built and connected before the clock, as for Linnet (connect done before its clock).
        x = make_client(server, account)
        for p in ("xep_0059", "xep_0297", "xep_0313"):
            x.register_plugin(p)
        ready = asyncio.get_running_loop().create_future()

        async def session_start(_event, x=x, ready=ready):
            await x.get_roster()
            await x.plugin["xep_0280"].enable()
            x.send_presence()
            ready.set_result(None)

        x.add_event_handler("session_start", session_start)
        x.connect(server["host"], server["port"])
        await asyncio.wait_for(ready, 30)
        await asyncio.sleep(0.3)  # let the connect's own traffic settle, as Linnet's run does
        meter = CpuMeter(server["pid"])
        t0 = time.perf_counter()
        pages = fetched = 0
        rsm = {"max": page_size}
        if after:
            rsm["after"] = after
        pager = x.plugin["xep_0313"].retrieve(iterator=True, rsm=rsm)
        async for page in pager:
            pages += 1
            fetched += len(page["mam"]["results"])
        t1 = time.perf_counter()
        # Stopped on the count (ejabberd) or by one more query that came back empty (Prosody).
        queries = pages if pager._stop else pages + 1
        cpu = meter.stop()
        await disconnect(x)
        log(f"slixmpp catch-up {'warm-up ' if i < warmup else 'run '}{i}: {ms(t1 - t0):.1f} ms, "
            f"{pages} pages ({queries} queries), {fetched} messages, cpu {cpu['client_s']} s (server {cpu['server_s']} s)")
        if i >= warmup:
            samples.append({"wall_ms": ms(t1 - t0), "cpu_s": cpu["client_s"], "server_cpu_s": cpu["server_s"],
                            "pages": queries, "pages_with_results": pages, "fetched": fetched})
    return {"runs": samples, "page_size": page_size}


async def disconnect(x):
    fut = x.disconnect(wait=2.0)
    try:
        await asyncio.wait_for(fut, 5)
    except asyncio.TimeoutError:
        x.abort()


async def bench_connect(server, account, warmup, runs):
    samples, construct = [], []
    meter = None
    for i in range(warmup + runs):
        if i == warmup:
            meter = CpuMeter(server["pid"])
        x, dt, ct = await connect_ready(server, account)
        if i >= warmup:
            samples.append(ms(dt))
            construct.append(ms(ct))
        await disconnect(x)
    v = summary(samples)
    v["warmup"] = warmup
    v["cpu_total"] = meter.stop() if meter else None
    v["construct_median_ms"] = statistics.median(construct)
    log(f"slixmpp connect-to-ready: median {v['median_ms']:.2f} ms "
        f"(+ {v['construct_median_ms']:.2f} ms to build the client)")
    return v


async def befriend(a, a_jid, b, b_jid):
    """Mutual subscription: slixmpp's default roster policy approves and subscribes back."""
    a.send_presence_subscription(pto=b_jid)
    deadline = time.monotonic() + 20
    while True:
        sa = a.client_roster[b_jid]["subscription"] if b_jid in a.client_roster else None
        sb = b.client_roster[a_jid]["subscription"] if a_jid in b.client_roster else None
        if sa == "both" and sb == "both":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no mutual subscription: {sa}, {sb}")
        await asyncio.sleep(0.05)


async def bench_rtt(server, alice, bob, warmup, runs):
    a, _, _ = await connect_ready(server, alice)
    b, _, _ = await connect_ready(server, bob)
    await befriend(a, alice["jid"], b, bob["jid"])
    waiting = {}

    def receipt(msg):
        fut = waiting.pop(msg["receipt"], None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    a.add_event_handler("receipt_received", receipt)
    loop = asyncio.get_running_loop()
    samples, meter = [], None
    for i in range(warmup + runs):
        if i == warmup:
            meter = CpuMeter(server["pid"])
        t0 = time.perf_counter()
        m = chat_message(a, bob["jid"], f"ping {i}")
        fut = loop.create_future()
        waiting[m["id"]] = fut
        m.send()
        t1 = await asyncio.wait_for(fut, 20)
        if i >= warmup:
            samples.append(ms(t1 - t0))
    cpu = meter.stop()
    await disconnect(a)
    await disconnect(b)
    v = summary(samples)
    v["warmup"] = warmup
    v["cpu_total"] = cpu
    log(f"slixmpp round trip: median {v['median_ms']:.2f} ms")
    return v


async def bench_burst(server, alice, sink, n):
    a, _, _ = await connect_ready(server, alice)
    await asyncio.sleep(0.3)
    done = asyncio.get_running_loop().create_future()
    pending = set()
    step = max(1, n // 10)
    progress = []

    def acked(stanza):
        if isinstance(stanza, slixmpp.Message) and stanza["id"] in pending:
            pending.discard(stanza["id"])
            if (n - len(pending)) % step == 0:
                progress.append([n - len(pending), ms(time.perf_counter() - t0)])
            if not pending and not done.done():
                done.set_result(time.perf_counter())

    a.add_event_handler("stanza_acked", acked)
    meter = CpuMeter(server["pid"])
    t0 = time.perf_counter()
    for i in range(n):
        m = chat_message(a, sink["jid"], f"message {i} of the burst")
        pending.add(m["id"])
        m.send()
    # xep_0198 requests an ack only every `window` (5) stanzas, counted from the stream's start:
    # queue one more request behind the last message (the send queue keeps the order), or the
    # tail would wait for the next stanza sent. Linnet requests one per burst it writes.
    a.send(str(RequestAck(a)), use_filters=False)
    send_loop = time.perf_counter() - t0
    t1 = await asyncio.wait_for(done, 300)
    cpu = meter.stop()
    await disconnect(a)
    total = t1 - t0
    v = {"messages": n, "send_loop_ms": ms(send_loop), "total_ms": ms(total),
         "msgs_per_s": round(n / total), "sm_window": a.plugin["xep_0198"].window, "acked_at_ms": progress, "cpu_total": cpu}
    log(f"slixmpp {n} acked messages: {ms(total):.1f} ms ({v['msgs_per_s']} msg/s)")
    return v


class CutProxy:
    """A loopback TCP proxy that can cut every current connection and refuse new ones."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.refuse = False
        self.links = set()

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer):
        if self.refuse:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        link = (writer, up_writer)
        self.links.add(link)

        async def pipe(r, w):
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.links.discard(link)

    def cut(self):
        for a, b in list(self.links):
            for w in (a, b):
                w.transport.abort()
        self.links.clear()


async def bench_reconnect(server, alice, sink, resume, warmup, runs):
    proxy = CutProxy(server["host"], server["port"])
    await proxy.start()
    via = dict(server, host="127.0.0.1", port=proxy.port)
    x, _, _ = await connect_ready(via, alice)
    sm = x.plugin["xep_0198"]
    sm.allow_resume = resume
    loop = asyncio.get_running_loop()
    waiting = {}

    def acked(stanza):
        fut = waiting.pop(stanza["id"], None) if isinstance(stanza, slixmpp.Message) else None
        if fut and not fut.done():
            fut.set_result(time.perf_counter())

    x.add_event_handler("stanza_acked", acked)
    samples = []
    for i in range(warmup + runs):
        gone = loop.create_future()
        back = loop.create_future()
        x.add_event_handler("disconnected", lambda _e, f=gone: f.done() or f.set_result(None), disposable=True)
        proxy.refuse = True
        proxy.cut()
        await asyncio.wait_for(gone, 10)

        async def session_start(_event, f=back):
            await x.get_roster()
            await x.plugin["xep_0280"].enable()
            x.send_presence()
            f.done() or f.set_result(None)

        if resume:
            x.add_event_handler("session_resumed", lambda _e, f=back: f.done() or f.set_result(None), disposable=True)
        else:
            x.add_event_handler("session_start", session_start, disposable=True)
        t0 = time.perf_counter()
        proxy.refuse = False
        x.connect(via["host"], via["port"])
        await asyncio.wait_for(back, 20)
        m = chat_message(x, sink["jid"], f"queued while offline {i}")
        done = loop.create_future()
        waiting[m["id"]] = done
        m.send()
        x.send(str(RequestAck(x)), use_filters=False)
        t1 = await asyncio.wait_for(done, 20)
        if i >= warmup:
            samples.append(ms(t1 - t0))
    await disconnect(x)
    v = summary(samples)
    v["warmup"] = warmup
    log(f"slixmpp reconnect ({'resume' if resume else 'full'}): median {v['median_ms']:.2f} ms")
    return v


class Marks(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.marks = []

    def emit(self, record):
        self.marks.append((time.perf_counter(), record.getMessage()))


def step_name(msg):
    import re
    for d in ("SEND: ", "RECV: "):
        if msg.startswith(d):
            names = re.findall(r"<([A-Za-z][\w:.-]*)", msg[len(d):])[:2]
            return f"{d[:4]} <{'><'.join(n.split(':')[-1] for n in names)}>"
    return msg[:70]


async def timeline(server, account, runs):
    marks = Marks()
    logger = logging.getLogger("slixmpp")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(marks)
    logger.propagate = False
    events = ("connected", "ssl_cert", "auth_success", "session_bind", "sm_enabled", "session_start")
    results = []
    for i in range(runs + 2):
        c0 = time.perf_counter()
        x = make_client(server, account)
        ready = asyncio.get_running_loop().create_future()
        for ev in events:
            x.add_event_handler(ev, lambda _e, ev=ev: marks.marks.append((time.perf_counter(), f"event {ev}")))

        async def session_start(_event, x=x, ready=ready):
            await x.get_roster()
            await x.plugin["xep_0280"].enable()
            x.send_presence()
            ready.set_result(time.perf_counter())

        x.add_event_handler("session_start", session_start)
        marks.marks.clear()
        t0 = time.perf_counter()
        x.connect(server["host"], server["port"])
        t1 = await asyncio.wait_for(ready, 30)
        await asyncio.sleep(0.05)  # let the presence reach the wire log
        got = [(t, m) for t, m in marks.marks if t >= t0]
        await disconnect(x)
        if i < 2:
            continue
        steps = [(step_name(m), ms(t - t0)) for t, m in got if t <= t1 + 0.05]
        steps.append(("session_start handler done (ready)", ms(t1 - t0)))
        steps.sort(key=lambda s: s[1])
        results.append((ms(t1 - t0), ms(t0 - c0), steps))
    results.sort(key=lambda r: r[0])
    total, construct, steps = results[len(results) // 2]
    keep = [s for s in steps if s[0].startswith(("SEND", "RECV", "event", "session_start handler"))
            or "mechanism" in s[0].lower()]
    log(f"slixmpp connect timeline (median of {runs} traced runs, total {total:.2f} ms, "
        f"client built in {construct:.2f} ms before):")
    prev = 0.0
    for name, at in keep:
        log(f"  {at:8.2f} ms  (+{at - prev:6.2f})  {name}")
        prev = at
    return {"total_ms": total, "construct_ms": construct, "steps": keep}


async def timeline_rtt(server, alice, bob, runs):
    """Traced round trips; both clients log to the same handler, so their lines interleave."""
    marks = next(h for h in logging.getLogger("slixmpp").handlers if isinstance(h, Marks))
    a, _, _ = await connect_ready(server, alice)
    b, _, _ = await connect_ready(server, bob)
    await befriend(a, alice["jid"], b, bob["jid"])
    await asyncio.sleep(0.3)
    waiting = {}

    def receipt(msg):
        fut = waiting.pop(msg["receipt"], None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    a.add_event_handler("receipt_received", receipt)
    loop = asyncio.get_running_loop()
    results = []
    for i in range(runs + 2):
        marks.marks.clear()
        t0 = time.perf_counter()
        m = chat_message(a, bob["jid"], f"traced ping {i}")
        fut = loop.create_future()
        waiting[m["id"]] = fut
        m.send()
        t1 = await asyncio.wait_for(fut, 20)
        got = [(t, msg) for t, msg in marks.marks if t0 <= t <= t1]
        if i < 2:
            continue
        steps = [(step_name(msg), ms(t - t0)) for t, msg in got if msg.startswith(("SEND", "RECV"))]
        steps.append(("alice sees the receipt", ms(t1 - t0)))
        results.append((ms(t1 - t0), steps))
    await disconnect(a)
    await disconnect(b)
    results.sort(key=lambda r: r[0])
    total, steps = results[len(results) // 2]
    log(f"slixmpp round trip timeline (median of {runs} traced runs, total {total:.2f} ms; "
        f"all: {[r[0] for r in results]}):")
    prev = 0.0
    for name, at in steps:
        log(f"  {at:8.2f} ms  (+{at - prev:6.2f})  {name}")
        prev = at
    return {"total_ms": total, "all_ms": [r[0] for r in results], "steps": steps}


def log(text):
    print(text, file=sys.stderr, flush=True)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", required=True)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--only", default="connect,rtt,burst")
    ap.add_argument("--timeline", type=int)
    ap.add_argument("--catchup", help="the catch-up account file (run.sh writes it): catchup phase")
    ap.add_argument("--page-size", type=int, default=250)
    args = ap.parse_args()
    accounts = json.loads(pathlib.Path(args.accounts).read_text())
    server_name = accounts.get("server", "prosody")
    server = load_server(server_name)
    out = {"client": "slixmpp", "version": slixmpp.__version__, "python": sys.version.split()[0],
           "server": server_name, "pid": os.getpid(), "runs": args.runs}
    if args.timeline:
        out["timeline"] = await timeline(server, accounts["connect"], args.timeline)
        out["timeline_rtt"] = await timeline_rtt(server, accounts["alice"], accounts["bob"], args.timeline)
    else:
        only = args.only.split(",")
        if "connect" in only:
            out["connect"] = await bench_connect(server, accounts["connect"], args.warmup, args.runs)
        if "rtt" in only:
            out["rtt"] = await bench_rtt(server, accounts["alice"], accounts["bob"], args.warmup, args.runs)
        if "reconnect" in only:
            out["reconnect_resume"] = await bench_reconnect(server, accounts["alice"], accounts["sink"], True, args.warmup, args.runs)
            out["reconnect_full"] = await bench_reconnect(server, accounts["alice"], accounts["sink"], False, args.warmup, args.runs)
        if "burst" in only:
            out["burst"] = await bench_burst(server, accounts["alice"], accounts["sink"], args.messages)
        if "catchup" in only:
            catchup = json.loads(pathlib.Path(args.catchup).read_text())
            out["catchup"] = await bench_catchup(load_server(catchup["server"]), catchup, args.page_size,
                                                 args.warmup, args.runs)
    print(json.dumps(out))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Each connect run builds a new ClientXMPP; when an old one is collected, asyncio complains
    # about its idle send-queue task ("Task was destroyed but it is pending"). Harmless here.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    asyncio.run(main())
