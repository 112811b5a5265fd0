#!/usr/bin/env python3
"""A small, independent Jingle audio peer for Linnet's interoperability tests.

XMPP through slixmpp, media through aiortc (its own ICE, DTLS-SRTP, Opus and PCMU), and a Jingle <->
SDP translator written here. It follows XEP-0166/0167/0176/0320/0338/0353 (urn:xmpp:jingle-message:0)
so that any correct client can call it or be called by it. With --component it is an XEP-0114
component that plays a JMP/Cheogram-style phone gateway: PCMU + telephone-event/8000 only, proceeds
at once, starts ICE while "ringing" and answers later.

Events go to stdout, one JSON object per line (see README.md); logs go to stderr.
"""

import argparse
import asyncio
import fcntl
import fractions
import json
import logging
import re
import secrets
import signal
import struct
import sys
import time
import xml.etree.ElementTree as ET

import aioice.ice
import av
import numpy
from aiortc import (
    RTCConfiguration,
    RTCIceParameters,
    RTCPeerConnection,
    RTCRtpCodecParameters,
    RTCSessionDescription,
)
from aiortc.codecs import CODECS, PCMU_CODEC
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import is_rtcp
from aiortc.sdp import candidate_from_sdp
from slixmpp import ClientXMPP, ComponentXMPP
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

log = logging.getLogger("jingle_peer")

NS_JINGLE = "urn:xmpp:jingle:1"
NS_RTP = "urn:xmpp:jingle:apps:rtp:1"
NS_RTP_INFO = "urn:xmpp:jingle:apps:rtp:info:1"
NS_ICE = "urn:xmpp:jingle:transports:ice-udp:1"
NS_DTLS = "urn:xmpp:jingle:apps:dtls:0"
NS_GROUP = "urn:xmpp:jingle:apps:grouping:0"
NS_JMI = "urn:xmpp:jingle-message:0"
NS_HINTS = "urn:xmpp:hints"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_JINGLE_ERRORS = "urn:xmpp:jingle:errors:1"
FEATURES = [
    NS_DISCO_INFO,
    NS_JINGLE,
    NS_RTP,
    "urn:xmpp:jingle:apps:rtp:audio",
    NS_ICE,
    NS_DTLS,
    NS_GROUP,
    NS_JMI,
    "urn:xmpp:jingle:apps:rtp:rtcp-fb:0",
]

SAMPLE_RATE = 48000  # what our tone track produces; aiortc's encoders resample
FRAME_SAMPLES = 960  # 20 ms
DTMF_EVENTS = "0123456789*#ABCD"


def emit(event, **fields):
    """One event line on stdout (what the Rust wrapper reads)."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def bare(jid):
    return str(jid).split("/", 1)[0]


def q(ns, name):
    return f"{{{ns}}}{name}"


# ---------------------------------------------------------------------------------------------
# Jingle <-> SDP (one Jingle content = one m-line, mid = content name)


def jingle_to_sdp(jingle, role):
    """SDP for aiortc from a session-initiate (role 'offer') or session-accept (role 'answer')."""
    contents = jingle.findall(q(NS_JINGLE, "content"))
    names = [c.get("name") for c in contents]
    lines = ["v=0", "o=- 1 2 IN IP4 0.0.0.0", "s=-", "t=0 0"]
    # webrtc stacks want the group (webrtc-rs rejects the m-line without it): always write one.
    lines.append("a=group:BUNDLE " + " ".join(names))
    for content in contents:
        desc = content.find(q(NS_RTP, "description"))
        transport = content.find(q(NS_ICE, "transport"))
        if desc is None or transport is None:
            raise ValueError(f"content {content.get('name')} lacks an RTP description or ICE transport")
        payloads = desc.findall(q(NS_RTP, "payload-type"))
        lines.append(f"m={desc.get('media', 'audio')} 9 UDP/TLS/RTP/SAVPF " + " ".join(p.get("id") for p in payloads))
        lines.append("c=IN IP4 0.0.0.0")
        lines.append("a=rtcp:9 IN IP4 0.0.0.0")
        lines.append(f"a=ice-ufrag:{transport.get('ufrag')}")
        lines.append(f"a=ice-pwd:{transport.get('pwd')}")
        fingerprint = transport.find(q(NS_DTLS, "fingerprint"))
        if fingerprint is not None:
            lines.append(f"a=fingerprint:{fingerprint.get('hash')} {fingerprint.text.strip()}")
            setup = fingerprint.get("setup") or ("actpass" if role == "offer" else "active")
            lines.append(f"a=setup:{setup}")
        lines.append(f"a=mid:{content.get('name')}")
        senders = content.get("senders", "both")
        lines.append("a=" + {"both": "sendrecv", "none": "inactive", "initiator": "sendonly" if role == "offer" else "recvonly", "responder": "recvonly" if role == "offer" else "sendonly"}.get(senders, "sendrecv"))
        lines.append("a=rtcp-mux")  # we always require it (and always send <rtcp-mux/>)
        for p in payloads:
            name, clock = p.get("name"), p.get("clockrate", "8000")
            channels = p.get("channels", "1")
            if name.lower() == "opus":
                channels = "2"  # SDP always writes opus/48000/2
            lines.append(f"a=rtpmap:{p.get('id')} {name}/{clock}" + (f"/{channels}" if channels != "1" else ""))
            params = p.findall(q(NS_RTP, "parameter"))
            if name.lower() == "telephone-event":
                # Its fmtp "0-15" has no name; clients spell it in various ways: assume 0-15.
                lines.append(f"a=fmtp:{p.get('id')} 0-15")
            elif params:
                lines.append(f"a=fmtp:{p.get('id')} " + ";".join(f"{x.get('name')}={x.get('value')}" for x in params))
            for fb in p.findall(q("urn:xmpp:jingle:apps:rtp:rtcp-fb:0", "rtcp-fb")):
                lines.append(f"a=rtcp-fb:{p.get('id')} {fb.get('type')}" + (f" {fb.get('subtype')}" if fb.get("subtype") else ""))
        for c in transport.findall(q(NS_ICE, "candidate")):
            lines.append("a=" + candidate_to_sdp(c))
    return "\r\n".join(lines) + "\r\n"


def candidate_to_sdp(c):
    line = (
        f"candidate:{c.get('foundation')} {c.get('component')} {c.get('protocol', 'udp').upper()} "
        f"{c.get('priority')} {c.get('ip')} {c.get('port')} typ {c.get('type', 'host')}"
    )
    if c.get("rel-addr") and c.get("rel-port"):
        line += f" raddr {c.get('rel-addr')} rport {c.get('rel-port')}"
    return line


def sdp_candidate_to_jingle(line):
    """An <candidate/> with every attribute (gateways hang up on a missing one)."""
    fields = line.split()
    attrs = {
        "foundation": fields[0].split(":", 1)[1],
        "component": fields[1],
        "protocol": fields[2].lower(),
        "priority": fields[3],
        "ip": fields[4],
        "port": fields[5],
        "type": fields[7],
        "generation": "0",
        "network": "0",
        "id": secrets.token_hex(5),
    }
    rest = fields[8:]
    for key, value in zip(rest[::2], rest[1::2]):
        if key == "raddr":
            attrs["rel-addr"] = value
        elif key == "rport":
            attrs["rel-port"] = value
    return ET.Element(q(NS_ICE, "candidate"), attrs)


def parse_sdp_media(sdp):
    """The media sections of an SDP: [{mid, payloads: [(pt, name, clock, channels, fmtp)], ...}]."""
    sections, session_fp, session_setup = [], None, None
    current = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            parts = line[2:].split()
            current = {"media": parts[0], "pts": parts[3:], "rtpmap": {}, "fmtp": {}, "candidates": [], "fb": {}}
            sections.append(current)
            continue
        if not line.startswith("a="):
            continue
        key, _, value = line[2:].partition(":")
        target = current if current is not None else {}
        if key == "fingerprint":
            # Several hashes may be listed (aiortc: sha-256, sha-384, sha-512): keep the first,
            # sha-256, the one every stack verifies.
            if current is None:
                session_fp = session_fp or value
            else:
                current.setdefault("fingerprint", value)
        elif key == "setup":
            if current is None:
                session_setup = value
            else:
                current["setup"] = value
        elif current is None:
            continue
        elif key in ("ice-ufrag", "ice-pwd", "mid"):
            target[key] = value
        elif key == "rtpmap":
            pt, _, codec = value.partition(" ")
            target["rtpmap"][pt] = codec.split("/")
        elif key == "fmtp":
            pt, _, params = value.partition(" ")
            target["fmtp"][pt] = params
        elif key == "rtcp-fb":
            pt, _, fb = value.partition(" ")
            target["fb"].setdefault(pt, []).append(fb.split())
        elif key == "candidate":
            target["candidates"].append(line[2:])
    for s in sections:
        s.setdefault("fingerprint", session_fp)
        s.setdefault("setup", session_setup)
    return sections


def sdp_to_contents(sdp, creator):
    """Jingle <content/>s from aiortc's local SDP (candidates included: aiortc gathers first)."""
    contents = []
    for s in parse_sdp_media(sdp):
        content = ET.Element(q(NS_JINGLE, "content"), {"creator": creator, "name": s["mid"], "senders": "both"})
        desc = ET.SubElement(content, q(NS_RTP, "description"), {"media": s["media"]})
        for pt in s["pts"]:
            name, clock, *rest = s["rtpmap"].get(pt, ["", "8000"])
            attrs = {"id": pt, "name": name, "clockrate": clock}
            if rest and rest[0] != "1":
                attrs["channels"] = rest[0]
            p = ET.SubElement(desc, q(NS_RTP, "payload-type"), attrs)
            fmtp = s["fmtp"].get(pt)
            if fmtp and name.lower() == "telephone-event":
                ET.SubElement(p, q(NS_RTP, "parameter"), {"name": "events", "value": fmtp})
            elif fmtp:
                for kv in fmtp.split(";"):
                    k, _, v = kv.strip().partition("=")
                    ET.SubElement(p, q(NS_RTP, "parameter"), {"name": k, "value": v})
            for fb in s["fb"].get(pt, []):
                fb_attrs = {"type": fb[0]}
                if len(fb) > 1:
                    fb_attrs["subtype"] = fb[1]
                ET.SubElement(p, q("urn:xmpp:jingle:apps:rtp:rtcp-fb:0", "rtcp-fb"), fb_attrs)
        ET.SubElement(desc, q(NS_RTP, "rtcp-mux"))
        transport = ET.SubElement(content, q(NS_ICE, "transport"), {"ufrag": s["ice-ufrag"], "pwd": s["ice-pwd"]})
        if s["fingerprint"]:
            hash_name, _, value = s["fingerprint"].partition(" ")
            fp = ET.SubElement(transport, q(NS_DTLS, "fingerprint"), {"hash": hash_name, "setup": s["setup"] or "actpass"})
            fp.text = value
        for c in s["candidates"]:
            if " typ " in c and c.split()[1] == "1":  # rtcp-mux: component 1 only
                transport.append(sdp_candidate_to_jingle(c))
        contents.append(content)
    return contents


def group_element(contents):
    group = ET.Element(q(NS_GROUP, "group"), {"semantics": "BUNDLE"})
    for c in contents:
        ET.SubElement(group, q(NS_GROUP, "content"), {"name": c.get("name")})
    return group


def telephone_event_of(jingle, clock_rate):
    """(payload type, clock rate) of the telephone-event at `clock_rate` (the one we negotiate:
    the audio codec's rate) that the Jingle description lists, or None."""
    for p in jingle.iter(q(NS_RTP, "payload-type")):
        if (p.get("name") or "").lower() == "telephone-event" and int(p.get("clockrate", "8000")) == clock_rate:
            return int(p.get("id")), clock_rate
    return None


# ---------------------------------------------------------------------------------------------
# Media: a sine we send, what we hear, RFC 4733 telephone-event both ways


class ToneTrack(MediaStreamTrack):
    """A continuous sine, 20 ms frames at 48 kHz, paced in real time."""

    kind = "audio"

    def __init__(self, frequency):
        super().__init__()
        self.frequency = frequency
        self.sample_index = 0
        self.start = None

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.sample_index / SAMPLE_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (self.sample_index + numpy.arange(FRAME_SAMPLES)) / SAMPLE_RATE
        samples = (numpy.sin(2 * numpy.pi * self.frequency * t) * 8000).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.sample_index
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.sample_index += FRAME_SAMPLES
        return frame


class DtmfSender:
    """Sends RFC 4733 events in place of audio packets on the audio SSRC.

    aiortc has no DTMF sender. We wrap the DTLS transport's _send_rtp: while a digit is playing,
    each outgoing audio packet keeps its sequence number (so SRTP replay protection and the
    receiver's sequence tracking stay happy) but gets the telephone-event payload type, the event's
    start timestamp and an event payload. Per digit: 5 packets (100 ms) of tone, the end packet 3
    times (each with its own sequence number), then 5 packets of audio as a gap.
    """

    TONE_PACKETS = 5
    END_PACKETS = 3
    GAP_PACKETS = 5

    def __init__(self, transport, ssrc, payload_type, clock_rate):
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.samples_per_packet = clock_rate // 50
        self.plan = []  # per outgoing audio packet: (digit, index in digit, is_end) or None
        self.event_timestamp = None
        self.idle = asyncio.Event()
        self.idle.set()
        self.original_send = transport._send_rtp
        transport._send_rtp = self.send_rtp

    def queue(self, digits):
        for d in digits:
            if d == ",":
                self.plan += [None] * 100  # 2 s pause
                continue
            self.plan += [(d, i, False) for i in range(self.TONE_PACKETS)]
            self.plan += [(d, self.TONE_PACKETS, True)] * self.END_PACKETS
            self.plan += [None] * self.GAP_PACKETS
        self.idle.clear()

    async def send_rtp(self, data):
        if self.plan and not is_rtcp(data) and len(data) >= 12 and struct.unpack("!I", data[8:12])[0] == self.ssrc:
            step = self.plan.pop(0)
            if not self.plan:
                self.idle.set()
            if step is not None:
                data = self.rewrite(data, *step)
        await self.original_send(data)

    def rewrite(self, data, digit, index, is_end):
        header_len = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:  # header extension
            (ext_words,) = struct.unpack("!H", data[header_len + 2 : header_len + 4])
            header_len += 4 + 4 * ext_words
        timestamp = struct.unpack("!I", data[4:8])[0]
        if index == 0 and not is_end:
            self.event_timestamp = timestamp
        marker = 0x80 if index == 0 and not is_end else 0
        duration = (index + 1) * self.samples_per_packet
        flags = (0x80 if is_end else 0) | 10  # volume -10 dBm0
        payload = struct.pack("!BBH", DTMF_EVENTS.index(digit), flags, duration)
        header = bytearray(data[:header_len])
        header[0] &= 0xDF  # no padding
        header[1] = marker | self.payload_type
        header[4:8] = struct.pack("!I", self.event_timestamp)
        return bytes(header) + payload


class Listener:
    """Measures what we hear: the dominant frequency of each second, and telephone-events."""

    def __init__(self):
        self.buffer = []
        self.buffered = 0
        self.first_audio = False
        self.dtmf_payload_type = None
        self.last_event_timestamp = None

    def watch_receiver(self, receiver):
        original = receiver._handle_rtp_packet

        async def handle(packet, arrival_time_ms):
            if packet.payload_type == self.dtmf_payload_type:
                self.on_telephone_event(packet)
                return  # aiortc would try to decode it as audio
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = handle

    def on_telephone_event(self, packet):
        if len(packet.payload) < 4:
            return
        event, flags = packet.payload[0], packet.payload[1]
        if flags & 0x80 and packet.timestamp != self.last_event_timestamp:
            self.last_event_timestamp = packet.timestamp  # the end is sent 3 times: report once
            if event < len(DTMF_EVENTS):
                emit("dtmf", digit=DTMF_EVENTS[event])

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not self.first_audio:
                self.first_audio = True
                emit("first-audio")
            channels = len(frame.layout.channels)
            samples = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(numpy.float64)
            self.buffer.append(samples)
            self.buffered += len(samples)
            if self.buffered >= frame.sample_rate:
                whole = numpy.concatenate(self.buffer)
                second, rest = whole[: frame.sample_rate], whole[frame.sample_rate :]
                self.buffer, self.buffered = [rest], len(rest)
                self.report(second, frame.sample_rate)

    @staticmethod
    def report(samples, rate):
        level = float(numpy.sqrt(numpy.mean(samples**2)))
        spectrum = numpy.abs(numpy.fft.rfft(samples * numpy.hanning(len(samples))))
        spectrum[0] = 0
        frequency = float(numpy.argmax(spectrum) * rate / len(samples))
        emit("audio", frequency=round(frequency, 1), level=round(level, 1))


# ---------------------------------------------------------------------------------------------
# The peer


class Session:
    def __init__(self, sid, peer, initiator, responder_jid):
        self.sid = sid
        self.peer = peer  # the other side's full JID
        self.initiator = initiator
        self.local_jid = responder_jid  # our JID in this session (a component has many)
        self.pc = None
        self.remote_ready = False
        self.pending_candidates = []
        self.jmi = False
        self.ended = False
        self.telephone_event = None  # (payload type, clock rate) once negotiated
        self.early_ice = False  # caller: ICE started from a transport-info before session-accept


class JinglePeer:
    def __init__(self, args):
        self.args = args
        self.done = asyncio.Event()
        self.session = None
        self.proceeded = {}  # JMI id -> full JID that proceeded (call mode)
        self.jmi_id = None  # the JMI id of our call (proposed or answered): others are stale
        self.proceed_event = asyncio.Event()
        self.listener = Listener()
        self.dtmf_sender = None
        if args.component:
            self.xmpp = ComponentXMPP(args.component, args.secret, args.host, args.port)
        else:
            self.xmpp = ClientXMPP(args.jid, args.password)
            # The given port speaks STARTTLS (XEP-0368 direct TLS is another port).
            self.xmpp.enable_direct_tls = False
            if args.ca:
                self.xmpp.ca_certs = args.ca
        ns = self.xmpp.default_ns
        self.xmpp.register_handler(Callback("jingle", MatchXPath(f"{{{ns}}}iq/{{{NS_JINGLE}}}jingle"), self.on_jingle_iq))
        self.xmpp.register_handler(Callback("disco", MatchXPath(f"{{{ns}}}iq/{{{NS_DISCO_INFO}}}query"), self.on_disco_info))
        self.xmpp.register_handler(Callback("disco-items", MatchXPath(f"{{{ns}}}iq/{{{NS_DISCO_ITEMS}}}query"), self.on_disco_items))
        # slixmpp's own "message" event fires only for messages with a <body/>.
        self.xmpp.register_handler(Callback("jmi", MatchXPath(f"{{{ns}}}message"), self.on_message))
        self.xmpp.add_event_handler("session_start", self.on_session_start)
        self.ready = False
        self.connect_attempts = 0
        self.xmpp.add_event_handler("disconnected", self.on_disconnected)
        # slixmpp retries by itself; a connection that never comes up is the caller's timeout.
        self.xmpp.add_event_handler("connection_failed", lambda e: log.warning("connection failed: %s", e))
        self.xmpp.add_event_handler("failed_auth", lambda _: (emit("error", message="authentication failed"), self.done.set()))

    # --- plumbing ------------------------------------------------------------------------------

    def own_jid(self):
        return str(self.xmpp.boundjid)

    def make(self, kind, to, from_=None):
        stanza = self.xmpp.make_iq_set(ito=to) if kind == "iq" else self.xmpp.make_message(mto=to)
        if from_ is not None:
            stanza["from"] = from_
        return stanza

    async def send_jingle(self, session, action, children=(), **attrs):
        iq = self.make("iq", session.peer, session.local_jid if self.args.component else None)
        jingle = ET.Element(q(NS_JINGLE, "jingle"), {"action": action, "sid": session.sid, **attrs})
        for child in children:
            jingle.append(child)
        iq.append(jingle)
        log.info("-> %s to %s", action, session.peer)
        try:
            await iq.send(timeout=15)
        except Exception as e:  # an error reply or no reply: say so, do not crash
            emit("error", message=f"{action}: {e}")

    def send_jmi(self, to, name, jmi_id, from_=None, child=None):
        msg = self.make("message", to, from_)
        msg["type"] = "chat"
        el = ET.Element(q(NS_JMI, name), {"id": jmi_id})
        if child is not None:
            el.append(child)
        msg.append(el)
        msg.append(ET.Element(q(NS_HINTS, "store")))
        msg.send()

    def reply_error(self, iq, error_type, condition, jingle_condition=None):
        reply = iq.reply(clear=True)
        reply["type"] = "error"
        err = ET.Element("{%s}error" % self.xmpp.default_ns, {"type": error_type})
        ET.SubElement(err, q(NS_STANZAS, condition))
        if jingle_condition:
            ET.SubElement(err, q(NS_JINGLE_ERRORS, jingle_condition))
        reply.append(err)
        reply.send()

    def allowed(self, jid):
        if self.args.accept_from and bare(jid) not in [bare(j) for j in self.args.accept_from]:
            return False
        return True

    def is_number(self, jid):
        local = str(jid).split("@", 1)[0] if "@" in str(jid) else ""
        return re.fullmatch(r"\+\d+", local) is not None

    # --- disco ---------------------------------------------------------------------------------

    def on_disco_info(self, iq):
        if iq["type"] != "get":
            return
        reply = iq.reply(clear=True)
        query = ET.Element(q(NS_DISCO_INFO, "query"))
        if self.args.component and "@" not in str(iq["to"]):
            ET.SubElement(query, q(NS_DISCO_INFO, "identity"), {"category": "gateway", "type": "pstn", "name": "Linnet test phone gateway"})
        else:
            ET.SubElement(query, q(NS_DISCO_INFO, "identity"), {"category": "client", "type": "pc", "name": "Linnet test peer"})
        for feature in FEATURES:
            ET.SubElement(query, q(NS_DISCO_INFO, "feature"), {"var": feature})
        reply.append(query)
        reply.send()

    def on_disco_items(self, iq):
        if iq["type"] != "get":
            return
        reply = iq.reply(clear=True)
        reply.append(ET.Element(q(NS_DISCO_ITEMS, "query")))
        reply.send()

    # --- start ---------------------------------------------------------------------------------

    def on_disconnected(self, _):
        # A component whose previous connection (another test's) the server has not yet dropped
        # is refused with a conflict: try again for a while.
        if self.args.component and not self.ready and not self.done.is_set() and self.connect_attempts < 20:
            self.connect_attempts += 1
            log.info("component not accepted (yet): retrying")
            asyncio.get_running_loop().call_later(0.5, lambda: self.xmpp.connect(self.args.host, self.args.port))
            return
        self.done.set()

    async def on_session_start(self, _):
        self.ready = True
        if not self.args.component:
            self.xmpp.send_presence()
        emit("ready", jid=self.own_jid())
        if self.args.mode == "call":
            asyncio.ensure_future(self.call())
        elif self.args.mode == "disco":
            asyncio.ensure_future(self.disco())
        elif self.args.mode == "inject":
            asyncio.ensure_future(self.inject())

    async def inject(self):
        """Inject mode: one Jingle IQ (--action, --sid) to --to, as a third party would send it
        into someone else's session; reports the answer ("iq-result" or "iq-error")."""
        iq = self.xmpp.make_iq_set(ito=self.args.to)
        jingle = ET.Element(q(NS_JINGLE, "jingle"), {"action": self.args.action, "sid": self.args.sid})
        if self.args.action == "session-terminate":
            reason = ET.SubElement(jingle, q(NS_JINGLE, "reason"))
            ET.SubElement(reason, q(NS_JINGLE, "success"))
        iq.append(jingle)
        try:
            await iq.send(timeout=10)
            emit("iq-result")
        except IqError as e:
            emit("iq-error", condition=e.iq["error"]["condition"])
        except Exception as e:
            emit("error", message=f"inject: {e}")
        self.finish()

    async def disco(self):
        """Disco mode: what the server lists (disco#items) and what each item is (disco#info)."""
        try:
            domain = self.xmpp.boundjid.domain
            items = await self.query(domain, NS_DISCO_ITEMS)
            jids = [i.get("jid") for i in items.findall(q(NS_DISCO_ITEMS, "item"))]
            emit("disco-items", jid=domain, items=jids)
            for jid in jids:
                try:
                    info = await self.query(jid, NS_DISCO_INFO)
                except Exception as e:
                    emit("disco-info", jid=jid, error=str(e))
                    continue
                identities = [{"category": i.get("category"), "type": i.get("type")} for i in info.findall(q(NS_DISCO_INFO, "identity"))]
                features = [f.get("var") for f in info.findall(q(NS_DISCO_INFO, "feature"))]
                emit("disco-info", jid=jid, identities=identities, features=features)
        except Exception as e:
            emit("error", message=f"disco: {e}")
        self.finish()

    async def query(self, to, ns):
        iq = self.xmpp.make_iq_get(ito=to)
        iq.append(ET.Element(q(ns, "query")))
        result = await iq.send(timeout=10)
        return result.xml.find(q(ns, "query"))

    # --- JMI -----------------------------------------------------------------------------------

    def on_message(self, msg):
        for el in msg.xml:
            if not el.tag.startswith("{" + NS_JMI + "}"):
                continue
            name, jmi_id, sender = el.tag.split("}", 1)[1], el.get("id"), str(msg["from"])
            if name == "propose":
                self.on_propose(msg, jmi_id, sender)
            if jmi_id != self.jmi_id and name != "propose":
                # E.g. a <finish/> of an earlier call, kept offline by the server.
                log.info("ignoring JMI %s for %s (not our call)", name, jmi_id)
                continue
            if name == "proceed":
                emit("proceed", **{"from": sender, "id": jmi_id})
                self.proceeded[jmi_id] = sender
                self.proceed_event.set()
            elif name == "ringing":
                emit("ringing", **{"from": sender, "id": jmi_id})
            elif name in ("reject", "retract"):
                emit(name, **{"from": sender, "id": jmi_id})
                if self.session is None:
                    emit("terminated", reason=name)
                    self.finish()
            elif name == "finish":
                emit("finish", **{"from": sender, "id": jmi_id})

    def on_propose(self, msg, jmi_id, sender):
        if self.args.mode != "answer":
            return
        if not self.allowed(sender):
            emit("ignored", **{"from": sender, "id": jmi_id})
            return
        if self.jmi_id is not None:
            return  # one call at a time; the caller's other devices may propose again
        self.jmi_id = jmi_id
        emit("propose", **{"from": sender, "id": jmi_id})
        to_jid = str(msg["to"])
        if self.args.component:
            if not self.is_number(to_jid):
                self.send_jmi(sender, "reject", jmi_id, from_=bare(to_jid))
                return
            # The gateway model: proceed at once from <number>@<gateway>/sip.
            self.send_jmi(sender, "proceed", jmi_id, from_=bare(to_jid) + "/sip")
        else:
            self.send_jmi(sender, "ringing", jmi_id)
            self.send_jmi(sender, "proceed", jmi_id)

    # --- Jingle IQs ----------------------------------------------------------------------------

    def on_jingle_iq(self, iq):
        if iq["type"] != "set":
            return
        jingle = iq.xml.find(q(NS_JINGLE, "jingle"))
        action, sid, sender = jingle.get("action"), jingle.get("sid"), str(iq["from"])
        log.info("<- %s from %s", action, sender)
        if action == "session-initiate":
            if self.args.mode != "answer" or self.session is not None:
                iq.reply(clear=True).send()
                asyncio.ensure_future(self.send_jingle(Session(sid, sender, sender, str(iq["to"])), "session-terminate", [self.reason("busy")]))
                return
            iq.reply(clear=True).send()
            asyncio.ensure_future(self.answer(iq, jingle))
            return
        session = self.session
        if session is None or session.sid != sid or bare(session.peer) != bare(sender):
            self.reply_error(iq, "cancel", "item-not-found", "unknown-session")
            return
        iq.reply(clear=True).send()
        if action == "session-accept":
            asyncio.ensure_future(self.on_session_accept(jingle))
        elif action == "transport-info":
            asyncio.ensure_future(self.on_transport_info(jingle))
        elif action == "session-info":
            for child in jingle:
                emit("session-info", info=child.tag.split("}", 1)[-1])
        elif action == "session-terminate":
            reason = jingle.find(q(NS_JINGLE, "reason"))
            name = reason[0].tag.split("}", 1)[1] if reason is not None and len(reason) else "unknown"
            session.ended = True
            emit("terminated", reason=name)
            asyncio.ensure_future(self.close())

    @staticmethod
    def reason(name):
        reason = ET.Element(q(NS_JINGLE, "reason"))
        ET.SubElement(reason, q(NS_JINGLE, name))
        return reason

    # --- media session -------------------------------------------------------------------------

    def new_peer_connection(self, session):
        # No STUN server: aiortc would otherwise use a public default. Host candidates only.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session.pc = pc

        @pc.on("iceconnectionstatechange")
        def on_ice():
            state = pc.iceConnectionState
            emit("ice-state", state=state)
            if state in ("connected", "completed"):
                emit("ice-connected")

        @pc.on("connectionstatechange")
        def on_connection():
            if pc.connectionState == "connected":
                emit("connected")
                self.after_connected(session)
            elif pc.connectionState == "failed":
                emit("error", message="connection failed")
                asyncio.ensure_future(self.hang_up(session, "connectivity-error"))

        @pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self.listener.consume(track))

        pc.addTrack(ToneTrack(self.args.tone))
        return pc

    def after_connected(self, session):
        transceiver = session.pc.getTransceivers()[0]
        te = session.telephone_event
        if te is not None and self.dtmf_sender is None:
            self.dtmf_sender = DtmfSender(transceiver.sender.transport, transceiver.sender._ssrc, te[0], te[1])
            if self.args.dtmf:
                asyncio.ensure_future(self.send_digits(self.args.dtmf))
        if self.args.hangup_after is not None:
            asyncio.ensure_future(self.hang_up_later(session, self.args.hangup_after))

    async def send_digits(self, digits):
        await asyncio.sleep(self.args.dtmf_delay)
        self.dtmf_sender.queue(digits)
        await self.dtmf_sender.idle.wait()
        emit("dtmf-sent", digits=digits)

    async def hang_up_later(self, session, seconds):
        await asyncio.sleep(seconds)
        await self.hang_up(session, "success")

    async def hang_up(self, session, reason):
        if session.ended:
            return
        session.ended = True
        await self.send_jingle(session, "session-terminate", [self.reason(reason)])
        if session.jmi and not self.args.component:
            finish = ET.Element(q(NS_JINGLE, "reason"))
            ET.SubElement(finish, q(NS_JINGLE, reason))
            self.send_jmi(session.peer, "finish", session.sid, child=finish)
        emit("terminated", reason=reason)
        await self.close()

    def prepare_receiving(self, session, jingle):
        clock_rate = 8000 if self.args.codecs == "pcmu" else 48000
        session.telephone_event = telephone_event_of(jingle, clock_rate)
        if session.telephone_event is not None:
            self.listener.dtmf_payload_type = session.telephone_event[0]
        self.listener.watch_receiver(session.pc.getTransceivers()[0].receiver)

    async def apply_pending_candidates(self, session):
        session.remote_ready = True
        for mid, line in session.pending_candidates:
            await self.add_candidate(session, mid, line)
        session.pending_candidates = []

    async def add_candidate(self, session, mid, line):
        candidate = candidate_from_sdp(line.split(":", 1)[1])
        candidate.sdpMid = mid
        try:
            await session.pc.addIceCandidate(candidate)
        except Exception as e:
            emit("error", message=f"candidate {line!r}: {e}")

    async def on_transport_info(self, jingle):
        session = self.session
        for content in jingle.findall(q(NS_JINGLE, "content")):
            transport = content.find(q(NS_ICE, "transport"))
            if transport is None:
                continue
            if not session.remote_ready and session.initiator == self.own_jid() and self.args.early_ice and transport.get("ufrag") and transport.get("pwd"):
                await self.start_early_ice(session, transport)
                continue
            for c in transport.findall(q(NS_ICE, "candidate")):
                emit("remote-candidate", type=c.get("type"), ip=c.get("ip"), port=c.get("port"))
                line = candidate_to_sdp(c)
                if session.remote_ready:
                    await self.add_candidate(session, content.get("name"), line)
                else:
                    # Before the remote description aiortc cannot take candidates: keep them.
                    session.pending_candidates.append((content.get("name"), line))

    async def start_early_ice(self, session, transport):
        """Caller: the callee sent its ICE credentials and candidates before session-accept (a
        gateway does so while the phone rings): run ICE now, as a client should, instead of
        waiting for the answer. aiortc's later setRemoteDescription finds ICE started and waits."""
        ice = session.pc.getTransceivers()[0].sender.transport.transport
        for c in transport.findall(q(NS_ICE, "candidate")):
            emit("remote-candidate", type=c.get("type"), ip=c.get("ip"), port=c.get("port"))
            candidate = candidate_from_sdp(candidate_to_sdp(c).split(":", 1)[1])
            await ice.addRemoteCandidate(candidate)
        if not session.early_ice:
            session.early_ice = True
            emit("early-ice")
            params = RTCIceParameters(usernameFragment=transport.get("ufrag"), password=transport.get("pwd"))
            asyncio.ensure_future(ice.start(params))

    async def answer(self, iq, jingle):
        sender, sid = str(iq["from"]), jingle.get("sid")
        session = Session(sid, sender, jingle.get("initiator") or sender, str(iq["to"]))
        session.jmi = sid == self.jmi_id  # else a direct session-initiate, without JMI
        self.session = session
        emit("session-initiate", **{"from": sender, "sid": sid})
        if not self.allowed(sender):
            await self.hang_up(session, "decline")
            return
        try:
            offer = jingle_to_sdp(jingle, "offer")
        except ValueError as e:
            emit("error", message=str(e))
            await self.hang_up(session, "failed-application")
            return
        log.debug("remote offer:\n%s", offer)
        pc = self.new_peer_connection(session)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            self.prepare_receiving(session, jingle)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as e:
            emit("error", message=f"cannot answer: {e}")
            await self.hang_up(session, "incompatible-parameters")
            return
        await self.apply_pending_candidates(session)
        log.debug("local answer:\n%s", pc.localDescription.sdp)
        contents = sdp_to_contents(pc.localDescription.sdp, "initiator")
        if self.args.codecs == "pcmu":
            # The gateway model (Asterisk behind cheogram-sip): candidates and "ringing" at once,
            # so ICE runs while the phone rings; the answer comes when the phone is picked up.
            info = []
            for content in contents:
                c = ET.Element(q(NS_JINGLE, "content"), {"creator": "initiator", "name": content.get("name")})
                t = content.find(q(NS_ICE, "transport"))
                early = ET.SubElement(c, q(NS_ICE, "transport"), {"ufrag": t.get("ufrag"), "pwd": t.get("pwd")})
                for cand in t.findall(q(NS_ICE, "candidate")):
                    early.append(cand)
                info.append(c)
            await self.send_jingle(session, "transport-info", info)
            emit("transport-info-sent")
            await self.send_jingle(session, "session-info", [ET.Element(q(NS_RTP_INFO, "ringing"))])
        if self.args.answer_delay > 0:
            await asyncio.sleep(self.args.answer_delay)
        if session.ended:
            return
        await self.send_jingle(session, "session-accept", contents + [group_element(contents)], responder=session.local_jid)
        emit("session-accept-sent")

    async def call(self):
        to = self.args.to
        sid = secrets.token_hex(8)
        if self.args.direct:
            responder = to  # a full JID: Jingle without JMI
        else:
            self.jmi_id = sid
            description = ET.Element(q(NS_RTP, "description"), {"media": "audio"})
            self.send_jmi(bare(to), "propose", sid, child=description)
            emit("propose-sent", id=sid, to=bare(to))
            try:
                await asyncio.wait_for(self.proceed_event.wait(), timeout=self.args.ring_timeout)
            except asyncio.TimeoutError:
                self.send_jmi(bare(to), "retract", sid)
                emit("terminated", reason="timeout")
                self.finish()
                return
            if self.done.is_set():
                return
            responder = self.proceeded[sid]
        session = Session(sid, responder, self.own_jid(), self.own_jid())
        session.jmi = not self.args.direct
        self.session = session
        pc = self.new_peer_connection(session)
        await pc.setLocalDescription(await pc.createOffer())
        log.debug("local offer:\n%s", pc.localDescription.sdp)
        contents = sdp_to_contents(pc.localDescription.sdp, "initiator")
        for c in contents:
            fp = c.find(f"{q(NS_ICE, 'transport')}/{q(NS_DTLS, 'fingerprint')}")
            if fp is not None:
                fp.set("setup", "actpass")
        session.local_offer = ET.Element(q(NS_JINGLE, "jingle"))
        for c in contents:
            session.local_offer.append(c)
        await self.send_jingle(session, "session-initiate", contents + [group_element(contents)], initiator=self.own_jid())
        emit("session-initiate-sent", to=responder, sid=sid)

    async def on_session_accept(self, jingle):
        session = self.session
        emit("session-accept")
        try:
            answer = jingle_to_sdp(jingle, "answer")
            log.debug("remote answer:\n%s", answer)
            await session.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        except Exception as e:
            emit("error", message=f"bad session-accept: {e}")
            await self.hang_up(session, "failed-application")
            return
        self.prepare_receiving(session, jingle)
        await self.apply_pending_candidates(session)

    # --- end -----------------------------------------------------------------------------------

    async def close(self):
        if self.session is not None and self.session.pc is not None:
            await self.session.pc.close()
        self.finish()

    def finish(self):
        self.done.set()

    async def run(self):
        self.xmpp.connect(self.args.host, self.args.port)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.on_sigterm)
        loop.add_signal_handler(signal.SIGINT, self.on_sigterm)
        await self.done.wait()
        self.xmpp.disconnect(wait=2)
        await asyncio.sleep(0.2)

    def on_sigterm(self):
        if self.session is not None and not self.session.ended:
            asyncio.ensure_future(self.hang_up(self.session, "success"))
        else:
            self.finish()


def configure_codecs(which):
    """aiortc's global codec table: exactly one telephone-event, at the audio codec's rate."""
    if which == "pcmu":
        audio = [PCMU_CODEC, RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=8000, channels=1, payloadType=101)]
    else:
        opus = next(c for c in CODECS["audio"] if c.mimeType.lower() == "audio/opus")
        audio = [opus, RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=48000, channels=1, payloadType=101)]
    CODECS["audio"][:] = audio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jid")
    parser.add_argument("--password")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", help="the test CA (PEM); the TLS server name is the JID's domain")
    parser.add_argument("--component", metavar="DOMAIN", help="connect as this XEP-0114 component")
    parser.add_argument("--secret", help="the component secret")
    parser.add_argument("--mode", choices=["answer", "call", "disco", "inject"], default="answer")
    parser.add_argument("--action", default="session-terminate", help="inject mode: the Jingle action")
    parser.add_argument("--sid", help="inject mode: the session id")
    parser.add_argument("--to", help="call mode: whom to call (a bare JID)")
    parser.add_argument("--tone", type=float, default=660.0, help="the sine we send, Hz")
    parser.add_argument("--codecs", choices=["opus", "pcmu"], default="opus")
    parser.add_argument("--answer-delay", type=float, default=0.0, help="answer mode: ring this long")
    parser.add_argument("--hangup-after", type=float, help="hang up this many seconds after connecting")
    parser.add_argument("--accept-from", action="append", default=[], help="answer only these JIDs (repeatable)")
    parser.add_argument("--number-jid", action="store_true", help="component mode: +digits localparts are phones")
    parser.add_argument("--dtmf", help="send these digits (RFC 4733) once connected; ',' pauses 2 s")
    parser.add_argument("--dtmf-delay", type=float, default=1.0, help="seconds after connecting before DTMF")
    parser.add_argument("--direct", action="store_true", help="call mode: no JMI, session-initiate straight to --to (a full JID)")
    parser.add_argument("--no-early-ice", dest="early_ice", action="store_false", help="call mode: wait for session-accept before ICE even if the callee sent its candidates earlier")
    parser.add_argument("--ring-timeout", type=float, default=30.0, help="call mode: give up without proceed")
    parser.add_argument("--lock", help="hold this file locked (flock) while running: one component per domain at a time")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.component:
        if not args.secret:
            parser.error("--component needs --secret")
        if args.mode == "call":
            parser.error("--component is answer mode only")
    elif not (args.jid and args.password):
        parser.error("--jid and --password (or --component and --secret) are required")
    if args.mode in ("call", "inject") and not args.to:
        parser.error(f"{args.mode} mode needs --to")
    if args.mode == "inject" and not args.sid:
        parser.error("inject mode needs --sid")

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("slixmpp", "aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if args.lock:
        # A server takes one connection per component domain: tests in parallel take turns.
        # The kernel drops the lock when we exit, however we exit.
        lock_file = open(args.lock, "a")  # noqa: SIM115 (held until exit)
        log.info("waiting for %s", args.lock)
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        log.info("holding %s", args.lock)
    configure_codecs(args.codecs)
    # Loopback only: aioice leaves 127.0.0.1 out of its host candidates, and tests must not send
    # traffic to any other address of the machine.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

    async def run():
        # slixmpp binds to the running loop: make it inside.
        await JinglePeer(args).run()

    try:
        asyncio.run(run())
    except Exception as e:  # report, then fail
        emit("error", message=f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
