#!/usr/bin/env python3
"""Helpers of the wake-up benchmark (benches/wake.sh), built on slixmpp.

- `send`: the sender's side, not measured: N chat messages from one account to another (one
  connection; waits until stream management acknowledged every one), so N are pending.
- `fetch`: the reference the benchmark measures beside `linnet wake`, doing the same work over the
  wire: connect (STARTTLS, SASL, bind, stream management), fetch the messages archived since
  --since (Unix ms) through MAM (XEP-0313, paged until the server says complete), and disconnect
  cleanly. It stores nothing and shows nothing: a floor for the network part of a wake. Prints
  {"fetched": N} on stdout.
"""

import argparse
import asyncio
import json
import pathlib
import sys
from datetime import datetime, timezone

import slixmpp
from slixmpp.plugins.xep_0198.stanza import RequestAck


def load_server(state, name):
    info = json.loads((pathlib.Path(state) / "servers.json").read_text())
    s = info[name]
    return {"host": s["host"], "port": s["starttls_port"], "ca_file": info["ca_file"]}


def make_client(server, jid, password, plugins):
    x = slixmpp.ClientXMPP(jid, password)
    x.enable_direct_tls = False
    x.enable_starttls = True
    x.enable_plaintext = False
    x.ca_certs = pathlib.Path(server["ca_file"])
    for p in plugins:
        x.register_plugin(p)
    return x


async def run_client(x, server, work):
    done = asyncio.get_running_loop().create_future()

    async def session_start(_event):
        try:
            done.set_result(await work())
        except Exception as e:  # noqa: BLE001 - reported to the caller
            if not done.done():
                done.set_exception(e)

    x.add_event_handler("session_start", session_start)
    x.connect(server["host"], server["port"])
    try:
        return await asyncio.wait_for(done, 60)
    finally:
        fut = x.disconnect(wait=2.0)
        try:
            await asyncio.wait_for(fut, 5)
        except asyncio.TimeoutError:
            x.abort()


async def send(server, args):
    x = make_client(server, args.jid, args.password, ("xep_0198",))

    async def work():
        acked = asyncio.get_running_loop().create_future()
        pending = set()

        def on_acked(stanza):
            if isinstance(stanza, slixmpp.Message):
                pending.discard(stanza["id"])
                if not pending and not acked.done():
                    acked.set_result(None)

        x.add_event_handler("stanza_acked", on_acked)
        for i in range(args.count):
            m = x.make_message(mto=args.to, mbody=f"{args.tag} message {i + 1} of {args.count}", mtype="chat")
            pending.add(m["id"])
            m.send()
        x.send(str(RequestAck(x)), use_filters=False)
        await asyncio.wait_for(acked, 60)
        return args.count

    return {"sent": await run_client(x, server, work)}


async def fetch(server, args):
    x = make_client(server, args.jid, args.password, ("xep_0059", "xep_0297", "xep_0313"))

    async def work():
        start = datetime.fromtimestamp(args.since / 1000, tz=timezone.utc)
        fetched = 0
        pager = x.plugin["xep_0313"].retrieve(start=start, iterator=True, rsm={"max": args.page})
        async for page in pager:
            fetched += len(page["mam"]["results"])
        return fetched

    return {"fetched": await run_client(x, server, work)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "fetch"])
    ap.add_argument("--state", default="/tmp/linnet-test-servers")
    ap.add_argument("--server", required=True)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--to")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--tag", default="wake")
    ap.add_argument("--since", type=int, default=0)
    ap.add_argument("--page", type=int, default=250)
    args = ap.parse_args()
    server = load_server(args.state, args.server)
    out = asyncio.run(send(server, args) if args.mode == "send" else fetch(server, args))
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
