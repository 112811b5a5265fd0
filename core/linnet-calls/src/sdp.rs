//! Jingle (XEP-0166/0167/0176/0320/0338/0293/0294/0339) <-> SDP, written by hand (SDP is a line
//! format), with the rules that make webrtc 0.21 and phone gateways agree:
//!
//! - A remote offer keeps only the codecs we can run ([`SUPPORTED`]) plus exactly one
//!   telephone-event, the one at the clock rate of the first remaining codec (webrtc 0.21 ignores
//!   clock rates when matching, so a second one would collapse into the first).
//! - Every m-line gets a direction, `a=rtcp-mux`, `a=mid`, ICE credentials, the fingerprint and
//!   `a=setup`; the session gets `a=group:BUNDLE` with every mid (webrtc 0.21 answers an offer
//!   without a direction with no audio, and one without BUNDLE with `m=audio 0`).
//! - `a=ice-options:trickle`, never renomination (Asterisk would wait for USE-CANDIDATE).
//! - Candidates going to a gateway carry every attribute (see [`candidate_fits_gateway`]).
//!
//! Only audio contents are translated: Linnet's calls are audio-only. A video content of a remote
//! offer is left out of the SDP (and so out of our answer); the state machine may reject it.
//!
//! The SDP made from Jingle is always the *remote* party's description, so its direction is from
//! the remote party's point of view: `senders='initiator'` is `sendonly` when the remote party is
//! the initiator and `recvonly` when we are.

use std::fmt::Write as _;

use linnet_xmpp::jingle::{Content, Creator, Senders};
use linnet_xmpp::jingle_dtls::{Fingerprint, Setup};
use linnet_xmpp::jingle_grouping::Group;
use linnet_xmpp::jingle_ice_udp::{
    Candidate, CandidateType, IceUdpTransport, MAX_CANDIDATES, MAX_PRIORITY, new_candidate_id,
};
use linnet_xmpp::jingle_rtp::{
    HdrExt, MAX_ENTRIES, MAX_PARAMETERS, MAX_PAYLOAD_TYPES, Parameter, PayloadType, RtcpFb,
    RtpDescription, Source, SsrcGroup,
};

/// Whether an SDP (or the Jingle it comes from) is an offer or an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpRole {
    Offer,
    Answer,
}

/// Codecs we can run; the translator drops other payload types from a remote offer.
/// (G.722's RTP clock rate is 8000 by RFC 3551's historical mistake.)
pub const SUPPORTED: &[(&str, u32)] = &[("opus", 48000), ("G722", 8000), ("PCMU", 8000)];

/// Longest SDP accepted by [`sdp_to_jingle`], in bytes.
pub const MAX_SDP_LEN: usize = 64 * 1024;
/// At most this many m-lines.
pub const MAX_MEDIA: usize = 16;

const TELEPHONE_EVENT: &str = "telephone-event";
/// The events every RFC 4733 peer supports (DTMF 0-9, *, #, A-D, flash).
const DEFAULT_EVENTS: &str = "0-15";
/// Longest value quoted back in an error, in characters.
const MAX_QUOTED_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// No audio content (or m-line) at all.
    #[error("no audio content")]
    NoAudio,
    /// The remote offer has no codec we can run.
    #[error("no codec in common (we run opus/48000, G722/8000, PCMU/8000)")]
    NoCommonCodec,
    #[error("content {content:?} has no RTP description")]
    MissingDescription { content: String },
    #[error("content {content:?} has no ICE-UDP transport")]
    MissingTransport { content: String },
    #[error("content {content:?} lacks ICE ufrag or pwd")]
    MissingIceCredentials { content: String },
    #[error("content {content:?} lacks a DTLS fingerprint")]
    MissingFingerprint { content: String },
    /// The media stack (webrtc 0.21) verifies sha-256 certificate fingerprints only.
    #[error("the peer's DTLS fingerprint uses {hash:?}; only sha-256 is supported")]
    UnsupportedFingerprint { hash: String },
    /// A value that cannot go into an SDP line (empty, whitespace or a line break where not
    /// allowed); the value is shortened.
    #[error("invalid {what}: {value:?}")]
    InvalidValue { what: &'static str, value: String },
    /// A line of the SDP text that does not parse.
    #[error("invalid SDP line ({reason}): {line:?}")]
    InvalidLine { reason: &'static str, line: String },
    #[error("invalid ICE candidate ({reason}): {candidate:?}")]
    BadCandidate {
        reason: &'static str,
        candidate: String,
    },
    #[error("too many {what} (at most {max})")]
    TooMany { what: &'static str, max: usize },
    #[error("the SDP is longer than {MAX_SDP_LEN} bytes")]
    TooLarge,
}

fn shorten(value: &str) -> String {
    value.chars().take(MAX_QUOTED_CHARS).collect()
}

/// Not empty, no whitespace (so it cannot split or break an SDP line).
fn token<'a>(what: &'static str, value: &'a str) -> Result<&'a str, SdpError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        Err(SdpError::InvalidValue {
            what,
            value: shorten(value),
        })
    } else {
        Ok(value)
    }
}

/// May contain spaces, never a line break.
fn one_line<'a>(what: &'static str, value: &'a str) -> Result<&'a str, SdpError> {
    if value.contains(['\r', '\n']) {
        Err(SdpError::InvalidValue {
            what,
            value: shorten(value),
        })
    } else {
        Ok(value)
    }
}

// ---------------------------------------------------------------------------------------------
// Jingle -> SDP

/// Static RTP payload types (RFC 3551) a peer may send without a name.
fn static_payload(id: u8) -> Option<(&'static str, u32)> {
    match id {
        0 => Some(("PCMU", 8000)),
        8 => Some(("PCMA", 8000)),
        9 => Some(("G722", 8000)),
        _ => None,
    }
}

/// The name and clock rate a payload type means: its own, else the static table's, else (name
/// without clock rate) the rate we know for that codec name.
fn codec_of(pt: &PayloadType) -> Option<(String, u32)> {
    let name = pt
        .name
        .clone()
        .or_else(|| static_payload(pt.id).map(|(n, _)| n.to_string()))?;
    let clockrate = pt
        .clockrate
        .or_else(|| static_payload(pt.id).map(|(_, c)| c))
        .or_else(|| {
            if name.eq_ignore_ascii_case(TELEPHONE_EVENT) {
                // RFC 4733's default rate.
                Some(8000)
            } else {
                SUPPORTED
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    .map(|(_, c)| *c)
            }
        })?;
    Some((name, clockrate))
}

fn is_supported(name: &str, clockrate: u32) -> bool {
    SUPPORTED
        .iter()
        .any(|(n, c)| n.eq_ignore_ascii_case(name) && *c == clockrate)
}

/// The payload types we keep, in the sender's order: supported codecs, then one telephone-event
/// at the first codec's clock rate (if the sender offers one at that rate).
fn keep_codecs(
    payload_types: &[PayloadType],
) -> Result<Vec<(&PayloadType, String, u32)>, SdpError> {
    let mut kept: Vec<(&PayloadType, String, u32)> = Vec::new();
    for pt in payload_types {
        // A repeated payload type number would give two rtpmaps for one number: first wins.
        if kept.iter().any(|(k, _, _)| k.id == pt.id) {
            continue;
        }
        if let Some((name, rate)) = codec_of(pt).filter(|(n, r)| is_supported(n, *r)) {
            kept.push((pt, name, rate));
        }
    }
    let Some(first_rate) = kept.first().map(|(_, _, rate)| *rate) else {
        return Err(SdpError::NoCommonCodec);
    };
    let telephone_event = payload_types
        .iter()
        .filter_map(|pt| codec_of(pt).map(|(name, rate)| (pt, name, rate)))
        .filter(|(pt, _, _)| !kept.iter().any(|(k, _, _)| k.id == pt.id))
        .find(|(_, name, rate)| name.eq_ignore_ascii_case(TELEPHONE_EVENT) && *rate == first_rate);
    kept.extend(telephone_event);
    Ok(kept)
}

/// The SDP direction of the remote party's description.
fn direction(senders: Senders, we_are_initiator: bool) -> &'static str {
    let remote_sends = match senders {
        Senders::Both => return "sendrecv",
        Senders::None => return "inactive",
        Senders::Initiator => !we_are_initiator,
        Senders::Responder => we_are_initiator,
    };
    if remote_sends { "sendonly" } else { "recvonly" }
}

/// The fmtp value of a payload type: `name=value` pairs joined by `;`, a nameless parameter as
/// its bare value.
fn fmtp_value(parameters: &[Parameter]) -> Result<String, SdpError> {
    let mut parts = Vec::with_capacity(parameters.len());
    for p in parameters {
        let value = one_line("fmtp value", &p.value)?;
        match &p.name {
            Some(name) => parts.push(format!("{}={value}", token("fmtp name", name)?)),
            None => parts.push(value.to_string()),
        }
    }
    Ok(parts.join(";"))
}

/// telephone-event's events: the peer's list when it looks like one (digits, `-`, `,`), else
/// `0-15`. Its parameter's name is ignored: peers leave it out, empty, or misspell it.
fn events_value(parameters: &[Parameter]) -> String {
    parameters
        .iter()
        .map(|p| p.value.trim())
        .find(|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == ',')
        })
        .unwrap_or(DEFAULT_EVENTS)
        .to_string()
}

fn rtcp_fb_line(pt: &str, fb: &RtcpFb) -> Result<String, SdpError> {
    let mut line = format!("a=rtcp-fb:{pt} {}", token("rtcp-fb type", &fb.kind)?);
    if let Some(subtype) = &fb.subtype {
        let _ = write!(line, " {}", token("rtcp-fb subtype", subtype)?);
    }
    Ok(line)
}

/// The setup a remote description says: an offer's as sent (`actpass` when missing); an
/// answer's as sent, `active` when missing, and `actpass` (not allowed in an answer) read as
/// `active`.
fn remote_setup(fingerprint: &Fingerprint, role: SdpRole) -> Setup {
    match (role, fingerprint.setup) {
        (SdpRole::Offer, Some(setup)) => setup,
        (SdpRole::Offer, None) => Setup::Actpass,
        (SdpRole::Answer, None | Some(Setup::Actpass)) => Setup::Active,
        (SdpRole::Answer, Some(setup)) => setup,
    }
}

fn media_section(
    content: &Content,
    description: &RtpDescription,
    role: SdpRole,
    we_are_initiator: bool,
) -> Result<Vec<String>, SdpError> {
    let name = || content.name.clone();
    let transport = content
        .transport
        .as_ref()
        .ok_or_else(|| SdpError::MissingTransport { content: name() })?;
    let (Some(ufrag), Some(pwd)) = (&transport.ufrag, &transport.pwd) else {
        return Err(SdpError::MissingIceCredentials { content: name() });
    };
    let fingerprint = transport
        .fingerprint
        .as_ref()
        .ok_or_else(|| SdpError::MissingFingerprint { content: name() })?;
    if !fingerprint.hash.eq_ignore_ascii_case("sha-256") {
        return Err(SdpError::UnsupportedFingerprint {
            hash: shorten(&fingerprint.hash),
        });
    }
    let codecs = keep_codecs(&description.payload_types)?;

    let pts: Vec<String> = codecs.iter().map(|(pt, _, _)| pt.id.to_string()).collect();
    let mut lines = vec![
        format!(
            "m={} 9 UDP/TLS/RTP/SAVPF {}",
            token("media", &description.media)?,
            pts.join(" ")
        ),
        "c=IN IP4 0.0.0.0".to_string(),
        "a=rtcp:9 IN IP4 0.0.0.0".to_string(),
        format!("a=ice-ufrag:{}", token("ice-ufrag", ufrag)?),
        format!("a=ice-pwd:{}", token("ice-pwd", pwd)?),
        "a=ice-options:trickle".to_string(),
        format!(
            "a=fingerprint:{} {}",
            token("fingerprint hash", &fingerprint.hash)?,
            token("fingerprint", &fingerprint.value)?
        ),
        format!("a=setup:{}", remote_setup(fingerprint, role).as_str()),
        format!("a=mid:{}", token("content name", &content.name)?),
    ];
    for ext in &description.hdrexts {
        let dir = match ext.senders {
            Senders::Both => String::new(),
            senders => format!("/{}", direction(senders, we_are_initiator)),
        };
        lines.push(format!(
            "a=extmap:{}{dir} {}",
            ext.id,
            token("rtp-hdrext uri", &ext.uri)?
        ));
    }
    if description.extmap_allow_mixed {
        lines.push("a=extmap-allow-mixed".to_string());
    }
    lines.push(format!(
        "a={}",
        direction(content.senders, we_are_initiator)
    ));
    lines.push("a=rtcp-mux".to_string());
    for (pt, codec_name, clockrate) in &codecs {
        let id = pt.id;
        let codec_name = token("codec name", codec_name)?;
        // RFC 7587: opus is always written with 2 channels, whatever the peer said.
        let channels = if codec_name.eq_ignore_ascii_case("opus") {
            Some(2)
        } else {
            pt.channels.filter(|c| *c != 1)
        };
        let mut rtpmap = format!("a=rtpmap:{id} {codec_name}/{clockrate}");
        if let Some(channels) = channels {
            let _ = write!(rtpmap, "/{channels}");
        }
        lines.push(rtpmap);
        for fb in description.rtcp_fb.iter().chain(&pt.rtcp_fb) {
            lines.push(rtcp_fb_line(&id.to_string(), fb)?);
        }
        if codec_name.eq_ignore_ascii_case(TELEPHONE_EVENT) {
            lines.push(format!("a=fmtp:{id} {}", events_value(&pt.parameters)));
        } else if !pt.parameters.is_empty() {
            lines.push(format!("a=fmtp:{id} {}", fmtp_value(&pt.parameters)?));
        }
    }
    if let Some(ptime) = codecs.iter().find_map(|(pt, _, _)| pt.ptime) {
        lines.push(format!("a=ptime:{ptime}"));
    }
    if let Some(maxptime) = codecs.iter().find_map(|(pt, _, _)| pt.maxptime) {
        lines.push(format!("a=maxptime:{maxptime}"));
    }
    for group in &description.ssrc_groups {
        let ssrcs: Vec<String> = group.ssrcs.iter().map(u32::to_string).collect();
        lines.push(format!(
            "a=ssrc-group:{} {}",
            token("ssrc-group semantics", &group.semantics)?,
            ssrcs.join(" ")
        ));
    }
    for source in &description.sources {
        for (name, value) in &source.parameters {
            let mut line = format!("a=ssrc:{} {}", source.ssrc, token("ssrc attribute", name)?);
            if let Some(value) = value {
                let _ = write!(line, ":{}", one_line("ssrc value", value)?);
            }
            lines.push(line);
        }
    }
    // With rtcp-mux only component 1 is used.
    for candidate in transport.candidates.iter().filter(|c| c.component == 1) {
        check_candidate(candidate)?;
        lines.push(format!("a={}", candidate_to_sdp(candidate)));
    }
    Ok(lines)
}

/// Jingle contents (a session-initiate or session-accept) -> SDP for webrtc.
/// `we_are_initiator` decides what senders=initiator/responder mean as SDP direction.
///
/// The SDP gets one m-line per audio content (mid = content name) and `a=group:BUNDLE` with all
/// of them in m-line order, whatever `group` says (webrtc 0.21 needs every m-line bundled); other
/// contents are left out. Candidates of the contents' transports (component 1) are written as
/// `a=candidate` lines; later ones (transport-info) go through [`candidate_to_sdp`].
pub fn jingle_to_sdp(
    contents: &[Content],
    group: Option<&Group>,
    role: SdpRole,
    we_are_initiator: bool,
) -> Result<String, SdpError> {
    // The group is not needed: BUNDLE always covers every m-line we write.
    let _ = group;
    if contents.len() > MAX_MEDIA {
        return Err(SdpError::TooMany {
            what: "contents",
            max: MAX_MEDIA,
        });
    }
    let mut sections = Vec::new();
    let mut mids = Vec::new();
    for content in contents {
        let description =
            content
                .description
                .as_ref()
                .ok_or_else(|| SdpError::MissingDescription {
                    content: content.name.clone(),
                })?;
        if !description.media.eq_ignore_ascii_case("audio") {
            continue;
        }
        if mids.contains(&content.name.as_str()) {
            return Err(SdpError::InvalidValue {
                what: "content name (repeated)",
                value: shorten(&content.name),
            });
        }
        sections.push(media_section(content, description, role, we_are_initiator)?);
        mids.push(content.name.as_str());
    }
    if sections.is_empty() {
        return Err(SdpError::NoAudio);
    }
    let mut lines = vec![
        "v=0".to_string(),
        "o=- 0 2 IN IP4 127.0.0.1".to_string(),
        "s=-".to_string(),
        "t=0 0".to_string(),
        format!("a=group:BUNDLE {}", mids.join(" ")),
    ];
    for section in sections {
        lines.extend(section);
    }
    let mut sdp = String::new();
    for line in lines {
        // Values were checked one by one; this is the last guard against a line break sneaking
        // in and adding lines of the peer's choosing.
        one_line("SDP line", &line)?;
        sdp.push_str(&line);
        sdp.push_str("\r\n");
    }
    Ok(sdp)
}

// ---------------------------------------------------------------------------------------------
// SDP -> Jingle

#[derive(Debug, Default)]
struct SdpMedia {
    kind: String,
    port: u16,
    proto: String,
    formats: Vec<String>,
    attributes: Vec<(String, Option<String>)>,
}

#[derive(Debug, Default)]
struct SdpSession {
    attributes: Vec<(String, Option<String>)>,
    media: Vec<SdpMedia>,
}

fn bad_line(reason: &'static str, line: &str) -> SdpError {
    SdpError::InvalidLine {
        reason,
        line: shorten(line),
    }
}

fn parse_sdp(sdp: &str) -> Result<SdpSession, SdpError> {
    if sdp.len() > MAX_SDP_LEN {
        return Err(SdpError::TooLarge);
    }
    let mut session = SdpSession::default();
    for line in sdp.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        let Some((kind, value)) = line.split_once('=') else {
            return Err(bad_line("not <type>=<value>", line));
        };
        match kind {
            "m" => {
                if session.media.len() >= MAX_MEDIA {
                    return Err(SdpError::TooMany {
                        what: "m-lines",
                        max: MAX_MEDIA,
                    });
                }
                let mut parts = value.split_whitespace();
                let (Some(media), Some(port), Some(proto)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad_line("m-line too short", line));
                };
                // "9" or "9/2": the port count does not matter here.
                let port = port
                    .split('/')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| bad_line("m-line port", line))?;
                let formats: Vec<String> = parts.map(str::to_string).collect();
                if formats.len() > MAX_PAYLOAD_TYPES {
                    return Err(SdpError::TooMany {
                        what: "payload types",
                        max: MAX_PAYLOAD_TYPES,
                    });
                }
                session.media.push(SdpMedia {
                    kind: media.to_string(),
                    port,
                    proto: proto.to_string(),
                    formats,
                    attributes: Vec::new(),
                });
            }
            "a" => {
                let attribute = match value.split_once(':') {
                    Some((name, v)) => (name.to_string(), Some(v.to_string())),
                    None => (value.to_string(), None),
                };
                let attributes = match session.media.last_mut() {
                    Some(media) => &mut media.attributes,
                    None => &mut session.attributes,
                };
                // Generous: an audio m-line has a few dozen attributes.
                if attributes.len() >= 4 * MAX_CANDIDATES + 4 * MAX_PAYLOAD_TYPES {
                    return Err(SdpError::TooMany {
                        what: "attributes",
                        max: 4 * MAX_CANDIDATES + 4 * MAX_PAYLOAD_TYPES,
                    });
                }
                attributes.push(attribute);
            }
            // v, o, s, t, c, b, ...: nothing Jingle carries.
            _ => {}
        }
    }
    Ok(session)
}

fn find<'a>(attributes: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.as_deref())
}

fn has(attributes: &[(String, Option<String>)], name: &str) -> bool {
    attributes.iter().any(|(n, _)| n == name)
}

fn values<'a>(
    attributes: &'a [(String, Option<String>)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    attributes
        .iter()
        .filter(move |(n, _)| n == name)
        .filter_map(|(_, v)| v.as_deref())
}

/// The senders of our own description's direction.
fn senders_of(direction: &str, role: SdpRole) -> Senders {
    // In our offer we are the initiator; in our answer the responder.
    let (we, peer) = match role {
        SdpRole::Offer => (Senders::Initiator, Senders::Responder),
        SdpRole::Answer => (Senders::Responder, Senders::Initiator),
    };
    match direction {
        "sendonly" => we,
        "recvonly" => peer,
        "inactive" => Senders::None,
        _ => Senders::Both,
    }
}

fn parse_u<T: std::str::FromStr>(
    value: &str,
    what: &'static str,
    line: &str,
) -> Result<T, SdpError> {
    value.trim().parse().map_err(|_| bad_line(what, line))
}

/// `<pt> <rest>` of rtpmap, fmtp and rtcp-fb values.
fn split_pt(value: &str) -> Option<(&str, &str)> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((pt, rest)) => Some((pt, rest.trim())),
        None => Some((value, "")),
    }
}

fn parse_fmtp(value: &str) -> Result<Vec<Parameter>, SdpError> {
    let mut parameters = Vec::new();
    for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if parameters.len() >= MAX_PARAMETERS {
            return Err(SdpError::TooMany {
                what: "fmtp parameters",
                max: MAX_PARAMETERS,
            });
        }
        parameters.push(match part.split_once('=') {
            Some((name, value)) => Parameter::new(Some(name.trim()), value.trim()),
            None => Parameter::new(None, part),
        });
    }
    Ok(parameters)
}

fn parse_rtcp_fb(rest: &str) -> Option<RtcpFb> {
    let mut parts = rest.split_whitespace();
    let kind = parts.next()?.to_string();
    let subtype = parts.next().map(str::to_string);
    Some(RtcpFb { kind, subtype })
}

fn description_of(
    media: &SdpMedia,
    session: &SdpSession,
    role: SdpRole,
) -> Result<RtpDescription, SdpError> {
    let attrs = &media.attributes;
    let mut description = RtpDescription::new(&media.kind);
    for format in &media.formats {
        let id: u8 = parse_u(format, "payload type", format)?;
        if id > 127 {
            return Err(bad_line("payload type", format));
        }
        let mut pt = static_payload(id)
            .map(|(name, rate)| PayloadType::new(id, name, rate, None))
            .unwrap_or(PayloadType {
                id,
                ..PayloadType::default()
            });
        for value in values(attrs, "rtpmap") {
            let Some((pt_id, codec)) = split_pt(value) else {
                continue;
            };
            if pt_id != format {
                continue;
            }
            let mut parts = codec.split('/');
            pt.name = parts.next().filter(|n| !n.is_empty()).map(str::to_string);
            pt.clockrate = parts
                .next()
                .map(|c| parse_u(c, "rtpmap clock rate", value))
                .transpose()?;
            pt.channels = parts
                .next()
                .map(|c| parse_u::<u8>(c, "rtpmap channels", value))
                .transpose()?
                .filter(|c| *c != 1);
        }
        for value in values(attrs, "fmtp") {
            if let Some((pt_id, rest)) = split_pt(value)
                && pt_id == format
            {
                pt.parameters = parse_fmtp(rest)?;
            }
        }
        for value in values(attrs, "rtcp-fb") {
            if let Some((pt_id, rest)) = split_pt(value)
                && pt_id == format
                && let Some(fb) = parse_rtcp_fb(rest)
            {
                if pt.rtcp_fb.len() >= MAX_ENTRIES {
                    return Err(SdpError::TooMany {
                        what: "rtcp-fb",
                        max: MAX_ENTRIES,
                    });
                }
                pt.rtcp_fb.push(fb);
            }
        }
        pt.ptime = find(attrs, "ptime")
            .map(|v| parse_u(v, "ptime", v))
            .transpose()?;
        pt.maxptime = find(attrs, "maxptime")
            .map(|v| parse_u(v, "maxptime", v))
            .transpose()?;
        description.payload_types.push(pt);
    }
    for value in values(attrs, "rtcp-fb") {
        if let Some(("*", rest)) = split_pt(value)
            && let Some(fb) = parse_rtcp_fb(rest)
        {
            description.rtcp_fb.push(fb);
        }
    }
    description.rtcp_mux = has(attrs, "rtcp-mux");
    // webrtc writes it at session level, browsers at media level.
    description.extmap_allow_mixed =
        has(attrs, "extmap-allow-mixed") || has(&session.attributes, "extmap-allow-mixed");
    for value in values(attrs, "extmap") {
        let Some((id, uri)) = split_pt(value) else {
            continue;
        };
        let mut uri_parts = uri.split_whitespace();
        let (id, senders) = match id.split_once('/') {
            Some((id, dir)) => (id, senders_of(dir, role)),
            None => (id, Senders::Both),
        };
        let id: u16 = parse_u(id, "extmap id", value)?;
        let Some(uri) = uri_parts.next() else {
            return Err(bad_line("extmap without URI", value));
        };
        if description.hdrexts.len() >= MAX_ENTRIES {
            return Err(SdpError::TooMany {
                what: "extmap",
                max: MAX_ENTRIES,
            });
        }
        description.hdrexts.push(HdrExt {
            id,
            uri: uri.to_string(),
            senders,
        });
    }
    for value in values(attrs, "ssrc") {
        let Some((ssrc, attribute)) = split_pt(value) else {
            continue;
        };
        let ssrc: u32 = parse_u(ssrc, "ssrc", value)?;
        let parameter = match attribute.split_once(':') {
            Some((name, v)) => (name.to_string(), Some(v.to_string())),
            None if attribute.is_empty() => continue,
            None => (attribute.to_string(), None),
        };
        match description.sources.iter_mut().find(|s| s.ssrc == ssrc) {
            Some(source) if source.parameters.len() < MAX_PARAMETERS => {
                source.parameters.push(parameter)
            }
            Some(_) => {}
            None => {
                if description.sources.len() >= MAX_ENTRIES {
                    return Err(SdpError::TooMany {
                        what: "sources",
                        max: MAX_ENTRIES,
                    });
                }
                description.sources.push(Source {
                    ssrc,
                    parameters: vec![parameter],
                });
            }
        }
    }
    for value in values(attrs, "ssrc-group") {
        let mut parts = value.split_whitespace();
        let Some(semantics) = parts.next() else {
            continue;
        };
        let ssrcs = parts
            .take(MAX_ENTRIES)
            .map(|s| parse_u(s, "ssrc-group", value))
            .collect::<Result<Vec<u32>, _>>()?;
        if description.ssrc_groups.len() < MAX_ENTRIES {
            description.ssrc_groups.push(SsrcGroup {
                semantics: semantics.to_string(),
                ssrcs,
            });
        }
    }
    Ok(description)
}

fn transport_of(media: &SdpMedia, session: &SdpSession) -> Result<IceUdpTransport, SdpError> {
    let attr =
        |name: &str| find(&media.attributes, name).or_else(|| find(&session.attributes, name));
    let fingerprint = match attr("fingerprint") {
        None => None,
        Some(value) => {
            let Some((hash, fp)) = value.trim().split_once(' ') else {
                return Err(bad_line("fingerprint", value));
            };
            let setup = attr("setup")
                .map(|s| Setup::from_attr(s.trim()).ok_or_else(|| bad_line("setup", s)))
                .transpose()?;
            Some(Fingerprint {
                hash: hash.to_string(),
                setup,
                value: fp.trim().to_string(),
            })
        }
    };
    let mut candidates = Vec::new();
    for value in values(&media.attributes, "candidate") {
        let candidate = candidate_from_sdp(&format!("candidate:{value}"))?;
        if candidate.component != 1 {
            continue;
        }
        if candidates.len() >= MAX_CANDIDATES {
            return Err(SdpError::TooMany {
                what: "candidates",
                max: MAX_CANDIDATES,
            });
        }
        candidates.push(candidate);
    }
    Ok(IceUdpTransport {
        ufrag: attr("ice-ufrag").map(|v| v.trim().to_string()),
        pwd: attr("ice-pwd").map(|v| v.trim().to_string()),
        fingerprint,
        candidates,
    })
}

/// Our webrtc SDP (offer or answer) -> Jingle contents + group. Candidates in the SDP (if any) are
/// included; `creator` for every content is Initiator (XEP-0166: content creator stays the initiator
/// in both offer and answer).
///
/// m-lines that are rejected (port 0) or not RTP (a data channel) are left out. Nothing is
/// written about ICE options: trickle is implied in Jingle, and renomination is dropped.
pub fn sdp_to_jingle(sdp: &str, role: SdpRole) -> Result<(Vec<Content>, Option<Group>), SdpError> {
    let session = parse_sdp(sdp)?;
    let mut contents = Vec::new();
    for (index, media) in session.media.iter().enumerate() {
        if media.port == 0 || !media.proto.contains("RTP") {
            continue;
        }
        let name = find(&media.attributes, "mid")
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| index.to_string());
        let direction = ["sendrecv", "sendonly", "recvonly", "inactive"]
            .into_iter()
            .find(|d| has(&media.attributes, d))
            .unwrap_or("sendrecv");
        contents.push(Content {
            creator: Creator::Initiator,
            name,
            senders: senders_of(direction, role),
            description: Some(description_of(media, &session, role)?),
            transport: Some(transport_of(media, &session)?),
        });
    }
    if contents.is_empty() {
        return Err(SdpError::NoAudio);
    }
    let group = values(&session.attributes, "group").find_map(|value| {
        let mut parts = value.split_whitespace();
        let semantics = parts.next()?;
        (semantics == "BUNDLE").then(|| Group::bundle(parts.map(str::to_string).collect()))
    });
    Ok((contents, group))
}

// ---------------------------------------------------------------------------------------------
// Candidates

fn bad_candidate(reason: &'static str, line: &str) -> SdpError {
    SdpError::BadCandidate {
        reason,
        candidate: shorten(line),
    }
}

/// The checks [`Candidate::parse`] makes, for candidates built in code or from SDP.
fn check_candidate(c: &Candidate) -> Result<(), SdpError> {
    let line = || format!("{} {}:{}", c.foundation, c.ip, c.port);
    if c.component == 0 {
        return Err(bad_candidate("component 0", &line()));
    }
    if c.port == 0 {
        return Err(bad_candidate("port 0", &line()));
    }
    if c.priority == 0 || c.priority > MAX_PRIORITY {
        return Err(bad_candidate("priority out of range", &line()));
    }
    for (what, value) in [
        ("foundation", c.foundation.as_str()),
        ("ip", c.ip.as_str()),
        ("protocol", c.protocol.as_str()),
    ] {
        token(what, value)?;
    }
    if let Some(rel_addr) = &c.rel_addr {
        token("rel-addr", rel_addr)?;
    }
    Ok(())
}

/// "candidate:..." (with or without "a=") -> Jingle candidate; adds generation 0, a fresh id,
/// network 0 when missing.
pub fn candidate_from_sdp(line: &str) -> Result<Candidate, SdpError> {
    let value = line.trim();
    let value = value.strip_prefix("a=").unwrap_or(value);
    let Some(value) = value.strip_prefix("candidate:") else {
        return Err(bad_candidate("no candidate: prefix", line));
    };
    if value.len() > 1024 {
        return Err(bad_candidate("too long", line));
    }
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [
        foundation,
        component,
        protocol,
        priority,
        ip,
        port,
        typ,
        kind,
        extensions @ ..,
    ] = parts.as_slice()
    else {
        return Err(bad_candidate("too few fields", line));
    };
    if *typ != "typ" {
        return Err(bad_candidate("no typ", line));
    }
    let component: u8 = component
        .parse()
        .ok()
        .filter(|c| *c != 0)
        .ok_or_else(|| bad_candidate("component", line))?;
    let priority: u32 = priority
        .parse()
        .ok()
        .filter(|p| *p != 0 && *p <= MAX_PRIORITY)
        .ok_or_else(|| bad_candidate("priority", line))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad_candidate("port", line))?;
    let kind = CandidateType::from_attr(kind).ok_or_else(|| bad_candidate("type", line))?;
    let mut candidate = Candidate {
        component,
        foundation: foundation.to_string(),
        generation: 0,
        id: new_candidate_id(),
        ip: ip.to_string(),
        port,
        priority,
        protocol: protocol.to_ascii_lowercase(),
        kind,
        network: 0,
        rel_addr: None,
        rel_port: None,
    };
    for pair in extensions.chunks(2) {
        let [key, value] = pair else {
            // An odd trailing word: extensions are key-value pairs.
            return Err(bad_candidate("extension without value", line));
        };
        match *key {
            "raddr" => candidate.rel_addr = Some(value.to_string()),
            "rport" => {
                candidate.rel_port = Some(value.parse().map_err(|_| bad_candidate("rport", line))?)
            }
            "generation" => {
                candidate.generation = value
                    .parse()
                    .map_err(|_| bad_candidate("generation", line))?
            }
            "network-id" => {
                candidate.network = value
                    .parse()
                    .map_err(|_| bad_candidate("network-id", line))?
            }
            _ => {}
        }
    }
    Ok(candidate)
}

/// Jingle candidate -> "candidate:..." attribute value (no "a=").
///
/// `raddr`/`rport` come right after the type (webrtc 0.21 reads them only there), then
/// `generation` and, when not 0, `network-id`.
pub fn candidate_to_sdp(candidate: &Candidate) -> String {
    let c = candidate;
    let mut line = format!(
        "candidate:{} {} {} {} {} {} typ {}",
        c.foundation,
        c.component,
        c.protocol.to_ascii_lowercase(),
        c.priority,
        c.ip,
        c.port,
        c.kind.as_str()
    );
    if let Some(rel_addr) = &c.rel_addr {
        let _ = write!(line, " raddr {rel_addr} rport {}", c.rel_port.unwrap_or(0));
    }
    let _ = write!(line, " generation {}", c.generation);
    if c.network != 0 {
        let _ = write!(line, " network-id {}", c.network);
    }
    line
}

/// What an Asterisk-based gateway accepts: IPv4, host/srflx/relay, udp, all attributes present.
pub fn candidate_fits_gateway(candidate: &Candidate) -> bool {
    let c = candidate;
    c.ip.parse::<std::net::Ipv4Addr>().is_ok()
        && matches!(
            c.kind,
            CandidateType::Host | CandidateType::Srflx | CandidateType::Relay
        )
        && c.protocol.eq_ignore_ascii_case("udp")
        && c.component != 0
        && c.port != 0
        && c.priority != 0
        && c.priority <= MAX_PRIORITY
        && !c.foundation.is_empty()
        && !c.id.is_empty()
        && (c.kind == CandidateType::Host || (c.rel_addr.is_some() && c.rel_port.is_some()))
}
