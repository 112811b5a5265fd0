//! RTP sessions in Jingle (XEP-0167, `urn:xmpp:jingle:apps:rtp:1`) with RTCP feedback (XEP-0293),
//! header extensions (XEP-0294) and sources / SSRC groups (XEP-0339): the `<description/>` of a
//! content, i.e. what an SDP m-line says about codecs.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle::{
    JingleError, Senders, check_count, check_element, invalid, optional_attr, optional_number,
    required_attr, required_number,
};
use crate::ns;

/// At most this many payload types in one description.
pub const MAX_PAYLOAD_TYPES: usize = 64;
/// At most this many parameters in one payload type or source.
pub const MAX_PARAMETERS: usize = 32;
/// At most this many rtcp-fb, header extensions, sources or SSRC groups (each) in a description
/// or payload type.
pub const MAX_ENTRIES: usize = 32;

/// `<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpDescription {
    /// `audio`, `video`, ...
    pub media: String,
    pub ssrc: Option<u32>,
    /// In the sender's order of preference.
    pub payload_types: Vec<PayloadType>,
    pub rtcp_mux: bool,
    /// Feedback for every payload type (SDP `a=rtcp-fb:*`).
    pub rtcp_fb: Vec<RtcpFb>,
    pub hdrexts: Vec<HdrExt>,
    pub extmap_allow_mixed: bool,
    pub sources: Vec<Source>,
    pub ssrc_groups: Vec<SsrcGroup>,
}

/// `<payload-type id='111' name='opus' clockrate='48000' channels='2'>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayloadType {
    /// 0 ..= 127.
    pub id: u8,
    pub name: Option<String>,
    pub clockrate: Option<u32>,
    /// `None` means 1.
    pub channels: Option<u8>,
    pub ptime: Option<u32>,
    pub maxptime: Option<u32>,
    pub parameters: Vec<Parameter>,
    pub rtcp_fb: Vec<RtcpFb>,
}

/// A format parameter (SDP fmtp). telephone-event's `0-15` has no name: peers send it nameless,
/// with an empty name, or with an invented one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// `None` when absent or empty.
    pub name: Option<String>,
    pub value: String,
}

/// `<rtcp-fb type='nack' subtype='pli'/>` (XEP-0293).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb {
    pub kind: String,
    pub subtype: Option<String>,
}

/// `<rtp-hdrext id='1' uri='…'/>` (XEP-0294).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HdrExt {
    pub id: u16,
    pub uri: String,
    pub senders: Senders,
}

/// `<source ssrc='…'><parameter name='cname' value='…'/></source>` (XEP-0339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub ssrc: u32,
    pub parameters: Vec<(String, Option<String>)>,
}

/// `<ssrc-group semantics='FID'><source ssrc='…'/>…</ssrc-group>` (XEP-0339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    pub semantics: String,
    pub ssrcs: Vec<u32>,
}

/// Not empty, no whitespace: values that go into SDP lines unquoted.
fn token<'a>(
    value: &'a str,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, JingleError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        Err(invalid(element, attribute, value))
    } else {
        Ok(value)
    }
}

/// No line breaks (a value may contain spaces, e.g. msid, but must stay on its SDP line).
fn one_line<'a>(
    value: &'a str,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, JingleError> {
    if value.contains(['\r', '\n']) {
        Err(invalid(element, attribute, value))
    } else {
        Ok(value)
    }
}

impl RtcpFb {
    pub fn parse(el: &Element) -> Result<RtcpFb, JingleError> {
        check_element(el, "rtcp-fb", ns::JINGLE_RTCP_FB)?;
        let kind = token(required_attr(el, "rtcp-fb", "type")?, "rtcp-fb", "type")?;
        let subtype = optional_attr(el, "rtcp-fb", "subtype")?
            .filter(|s| !s.is_empty())
            .map(|s| token(s, "rtcp-fb", "subtype").map(str::to_string))
            .transpose()?;
        Ok(RtcpFb {
            kind: kind.to_string(),
            subtype,
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("rtcp-fb", ns::JINGLE_RTCP_FB)
            .attr(n!("type").into(), self.kind.as_str())
            .attr(n!("subtype").into(), self.subtype.as_deref())
            .build()
    }
}

fn parse_rtcp_fbs(el: &Element) -> Result<Vec<RtcpFb>, JingleError> {
    let mut fbs = Vec::new();
    for child in el
        .children()
        .filter(|c| c.is("rtcp-fb", ns::JINGLE_RTCP_FB))
    {
        check_count(fbs.len() + 1, "rtcp-fb", MAX_ENTRIES)?;
        fbs.push(RtcpFb::parse(child)?);
    }
    Ok(fbs)
}

impl Parameter {
    pub fn new(name: Option<&str>, value: &str) -> Parameter {
        Parameter {
            name: name.map(str::to_string),
            value: value.to_string(),
        }
    }

    pub fn parse(el: &Element) -> Result<Parameter, JingleError> {
        check_element(el, "parameter", ns::JINGLE_RTP)?;
        let name = optional_attr(el, "parameter", "name")?
            .filter(|n| !n.is_empty())
            .map(|n| {
                token(n, "parameter", "name")
                    .and_then(|n| {
                        // `=` and `;` would change the meaning of the fmtp line.
                        if n.contains(['=', ';']) {
                            Err(invalid("parameter", "name", n))
                        } else {
                            Ok(n)
                        }
                    })
                    .map(str::to_string)
            })
            .transpose()?;
        let value = required_attr(el, "parameter", "value")?;
        let value = one_line(value, "parameter", "value")?;
        if value.contains(';') {
            return Err(invalid("parameter", "value", value));
        }
        Ok(Parameter {
            name,
            value: value.trim().to_string(),
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("parameter", ns::JINGLE_RTP)
            .attr(n!("name").into(), self.name.as_deref())
            .attr(n!("value").into(), self.value.as_str())
            .build()
    }
}

impl PayloadType {
    pub fn new(id: u8, name: &str, clockrate: u32, channels: Option<u8>) -> PayloadType {
        PayloadType {
            id,
            name: Some(name.to_string()),
            clockrate: Some(clockrate),
            channels,
            ..PayloadType::default()
        }
    }

    pub fn parse(el: &Element) -> Result<PayloadType, JingleError> {
        check_element(el, "payload-type", ns::JINGLE_RTP)?;
        const E: &str = "payload-type";
        let id: u8 = required_number(el, E, "id")?;
        if id > 127 {
            return Err(invalid(E, "id", &id.to_string()));
        }
        let name = optional_attr(el, E, "name")?
            .filter(|n| !n.is_empty())
            .map(|n| {
                token(n, E, "name").and_then(|n| {
                    if n.contains('/') {
                        Err(invalid(E, "name", n))
                    } else {
                        Ok(n.to_string())
                    }
                })
            })
            .transpose()?;
        let channels: Option<u8> = optional_number(el, E, "channels")?;
        if channels == Some(0) {
            return Err(invalid(E, "channels", "0"));
        }
        let clockrate: Option<u32> = optional_number(el, E, "clockrate")?;
        if clockrate == Some(0) {
            return Err(invalid(E, "clockrate", "0"));
        }
        let mut parameters = Vec::new();
        for child in el.children().filter(|c| c.is("parameter", ns::JINGLE_RTP)) {
            check_count(parameters.len() + 1, "parameters", MAX_PARAMETERS)?;
            parameters.push(Parameter::parse(child)?);
        }
        Ok(PayloadType {
            id,
            name,
            clockrate,
            channels,
            ptime: optional_number(el, E, "ptime")?,
            maxptime: optional_number(el, E, "maxptime")?,
            parameters,
            rtcp_fb: parse_rtcp_fbs(el)?,
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("payload-type", ns::JINGLE_RTP)
            .attr(n!("id").into(), self.id)
            .attr(n!("name").into(), self.name.as_deref())
            .attr(n!("clockrate").into(), self.clockrate)
            .attr(n!("channels").into(), self.channels)
            .attr(n!("ptime").into(), self.ptime)
            .attr(n!("maxptime").into(), self.maxptime)
            .append_all(self.parameters.iter().map(Parameter::to_element))
            .append_all(self.rtcp_fb.iter().map(RtcpFb::to_element))
            .build()
    }
}

impl HdrExt {
    pub fn parse(el: &Element) -> Result<HdrExt, JingleError> {
        check_element(el, "rtp-hdrext", ns::JINGLE_RTP_HDREXT)?;
        const E: &str = "rtp-hdrext";
        let id: u16 = required_number(el, E, "id")?;
        if id == 0 {
            return Err(invalid(E, "id", "0"));
        }
        let uri = token(required_attr(el, E, "uri")?, E, "uri")?;
        let senders = match optional_attr(el, E, "senders")? {
            None => Senders::Both,
            Some(s) => Senders::from_attr(s).ok_or_else(|| invalid(E, "senders", s))?,
        };
        Ok(HdrExt {
            id,
            uri: uri.to_string(),
            senders,
        })
    }

    pub fn to_element(&self) -> Element {
        let senders = (self.senders != Senders::Both).then_some(self.senders.as_str());
        Element::builder("rtp-hdrext", ns::JINGLE_RTP_HDREXT)
            .attr(n!("id").into(), self.id)
            .attr(n!("uri").into(), self.uri.as_str())
            .attr(n!("senders").into(), senders)
            .build()
    }
}

impl Source {
    pub fn parse(el: &Element) -> Result<Source, JingleError> {
        check_element(el, "source", ns::JINGLE_SSMA)?;
        let ssrc = required_number(el, "source", "ssrc")?;
        let mut parameters = Vec::new();
        for child in el.children().filter(|c| c.is("parameter", ns::JINGLE_SSMA)) {
            check_count(parameters.len() + 1, "source parameters", MAX_PARAMETERS)?;
            let name = token(
                required_attr(child, "parameter", "name")?,
                "parameter",
                "name",
            )?;
            let value = optional_attr(child, "parameter", "value")?
                .map(|v| one_line(v, "parameter", "value").map(str::to_string))
                .transpose()?
                .filter(|v| !v.is_empty());
            parameters.push((name.to_string(), value));
        }
        Ok(Source { ssrc, parameters })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("source", ns::JINGLE_SSMA)
            .attr(n!("ssrc").into(), self.ssrc)
            .append_all(self.parameters.iter().map(|(name, value)| {
                Element::builder("parameter", ns::JINGLE_SSMA)
                    .attr(n!("name").into(), name.as_str())
                    .attr(n!("value").into(), value.as_deref())
                    .build()
            }))
            .build()
    }
}

impl SsrcGroup {
    pub fn parse(el: &Element) -> Result<SsrcGroup, JingleError> {
        check_element(el, "ssrc-group", ns::JINGLE_SSMA)?;
        let semantics = token(
            required_attr(el, "ssrc-group", "semantics")?,
            "ssrc-group",
            "semantics",
        )?;
        let mut ssrcs = Vec::new();
        for child in el.children().filter(|c| c.is("source", ns::JINGLE_SSMA)) {
            check_count(ssrcs.len() + 1, "ssrc-group sources", MAX_ENTRIES)?;
            ssrcs.push(required_number(child, "source", "ssrc")?);
        }
        Ok(SsrcGroup {
            semantics: semantics.to_string(),
            ssrcs,
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("ssrc-group", ns::JINGLE_SSMA)
            .attr(n!("semantics").into(), self.semantics.as_str())
            .append_all(self.ssrcs.iter().map(|ssrc| {
                Element::builder("source", ns::JINGLE_SSMA)
                    .attr(n!("ssrc").into(), *ssrc)
                    .build()
            }))
            .build()
    }
}

impl RtpDescription {
    pub fn new(media: &str) -> RtpDescription {
        RtpDescription {
            media: media.to_string(),
            ..RtpDescription::default()
        }
    }

    pub fn parse(el: &Element) -> Result<RtpDescription, JingleError> {
        check_element(el, "description", ns::JINGLE_RTP)?;
        let media = token(
            required_attr(el, "description", "media")?,
            "description",
            "media",
        )?;
        let mut description = RtpDescription {
            media: media.to_string(),
            ssrc: optional_number(el, "description", "ssrc")?,
            rtcp_fb: parse_rtcp_fbs(el)?,
            ..RtpDescription::default()
        };
        for child in el.children() {
            match (child.name(), child.ns().as_str()) {
                ("payload-type", ns::JINGLE_RTP) => {
                    check_count(
                        description.payload_types.len() + 1,
                        "payload types",
                        MAX_PAYLOAD_TYPES,
                    )?;
                    description.payload_types.push(PayloadType::parse(child)?);
                }
                ("rtcp-mux", ns::JINGLE_RTP) => description.rtcp_mux = true,
                ("rtp-hdrext", ns::JINGLE_RTP_HDREXT) => {
                    check_count(description.hdrexts.len() + 1, "rtp-hdrext", MAX_ENTRIES)?;
                    description.hdrexts.push(HdrExt::parse(child)?);
                }
                ("extmap-allow-mixed", ns::JINGLE_RTP_HDREXT) => {
                    description.extmap_allow_mixed = true
                }
                ("source", ns::JINGLE_SSMA) => {
                    check_count(description.sources.len() + 1, "sources", MAX_ENTRIES)?;
                    description.sources.push(Source::parse(child)?);
                }
                ("ssrc-group", ns::JINGLE_SSMA) => {
                    check_count(
                        description.ssrc_groups.len() + 1,
                        "ssrc-groups",
                        MAX_ENTRIES,
                    )?;
                    description.ssrc_groups.push(SsrcGroup::parse(child)?);
                }
                _ => {}
            }
        }
        Ok(description)
    }

    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("description", ns::JINGLE_RTP)
            .attr(n!("media").into(), self.media.as_str())
            .attr(n!("ssrc").into(), self.ssrc)
            .append_all(self.payload_types.iter().map(PayloadType::to_element))
            .append_all(self.rtcp_fb.iter().map(RtcpFb::to_element))
            .append_all(self.hdrexts.iter().map(HdrExt::to_element));
        if self.extmap_allow_mixed {
            b = b.append(Element::bare("extmap-allow-mixed", ns::JINGLE_RTP_HDREXT));
        }
        b = b
            .append_all(self.sources.iter().map(Source::to_element))
            .append_all(self.ssrc_groups.iter().map(SsrcGroup::to_element));
        if self.rtcp_mux {
            b = b.append(Element::bare("rtcp-mux", ns::JINGLE_RTP));
        }
        b.build()
    }
}
