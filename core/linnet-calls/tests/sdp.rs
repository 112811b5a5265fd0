//! The Jingle <-> SDP translator against realistic samples: what Conversations, Dino, Monal, a
//! browser (Movim) and Asterisk (cheogram-sip) send, and what webrtc 0.21.1 itself produces; plus
//! hostile input.
//!
//! The translated SDPs of the client samples were also fed to a webrtc 0.21.1 answerer (a scratch
//! program, not committed): each got an answer with an audio m-line, `a=sendrecv`, `a=setup:active`
//! and BUNDLE; the Asterisk accept was taken as remote answer of an offer; and a webrtc offer and
//! answer translated to Jingle XML and back connected two webrtc peers.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

use linnet_calls::sdp::*;
use linnet_xmpp::Element;
use linnet_xmpp::jingle::{Content, Creator, Jingle, Senders};
use linnet_xmpp::jingle_dtls::{Fingerprint, Setup};
use linnet_xmpp::jingle_grouping::Group;
use linnet_xmpp::jingle_ice_udp::{Candidate, CandidateType, IceUdpTransport};
use linnet_xmpp::jingle_rtp::{Parameter, PayloadType, RtpDescription};

// Realistic stanzas, hand-written after what each client sends (shapes learned from reading their
// sources and the XEP examples; ids, keys and addresses are made up).

/// Conversations (Android WebRTC): content "0", opus with transport-cc, red with a nameless
/// parameter, many codecs, two telephone-events, hdrext, ssrc with msid, BUNDLE group.
pub const CONVERSATIONS_INITIATE: &str =
    include_str!("../../linnet-xmpp/tests/samples/conversations-initiate.xml");

/// Dino (libnice + GStreamer): content "audio", description ssrc, candidates in the initiate,
/// telephone-event at 48000 only, no group.
pub const DINO_INITIATE: &str = include_str!("../../linnet-xmpp/tests/samples/dino-initiate.xml");

/// Monal (iOS WebRTC): telephone-event with a misspelled parameter name, G722 first.
pub const MONAL_INITIATE: &str = include_str!("../../linnet-xmpp/tests/samples/monal-initiate.xml");

/// A browser (Movim, Chrome's SDP translated in JavaScript): mDNS host candidate, network 1,
/// rtcp-fb at payload level, a video content too.
pub const MOVIM_INITIATE: &str = include_str!("../../linnet-xmpp/tests/samples/movim-initiate.xml");

/// Asterisk (chan_motif behind cheogram-sip) answering our offer: PCMU, G722, telephone-event/8000
/// with an empty parameter name, channels="1" written out, no setup, no rtcp-mux.
pub const ASTERISK_ACCEPT: &str =
    include_str!("../../linnet-xmpp/tests/samples/asterisk-accept.xml");

/// webrtc 0.21.1 offer (opus track, default codecs), as `local_description()` gave it after gathering.
const WEBRTC_OFFER: &str = "\
v=0\r\n\
o=- 8864694636396166894 547343829 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=fingerprint:sha-256 5B:4A:D6:BD:80:32:FE:27:D1:D3:F7:60:29:A0:E9:E7:54:36:41:CD:66:D8:A7:E9:39:99:38:71:3A:8D:92:91\r\n\
a=extmap-allow-mixed\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=ice-ufrag:MKTnFyuYLYuXCdRs\r\n\
a=ice-pwd:npfxXtiZyONqUSrYEQqMpsxpXpgqOJxt\r\n\
a=rtcp-mux\r\n\
a=rtcp-rsize\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=msid:s a\r\n\
a=ssrc:4242 cname:s\r\n\
a=ssrc:4242 msid:s a\r\n\
a=ssrc:4242 mslabel:s\r\n\
a=ssrc:4242 label:a\r\n\
a=sendrecv\r\n\
a=candidate:2693830880 1 udp 2130706431 127.0.0.1 54190 typ host\r\n\
a=candidate:2693830880 2 udp 2130706431 127.0.0.1 54190 typ host\r\n\
a=end-of-candidates\r\n\
";

/// webrtc 0.21.1 answer to the (translated) offer above.
const WEBRTC_ANSWER: &str = "\
v=0\r\n\
o=- 1353205799472721094 549766328 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=msid-semantic:WMS *\r\n\
a=fingerprint:sha-256 95:65:E6:61:BD:5C:F7:D1:73:EC:8D:11:75:3E:E3:17:0C:85:74:4B:9F:B1:33:B0:4C:58:00:D0:C3:92:AE:73\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=setup:active\r\n\
a=mid:0\r\n\
a=ice-ufrag:rqRPFPVjzDoUAAih\r\n\
a=ice-pwd:LHLhSmeUlhozLpYgjxVRpBLVlhgZdAgW\r\n\
a=rtcp-mux\r\n\
a=rtcp-rsize\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=msid:s a\r\n\
a=ssrc:4242 cname:s\r\n\
a=ssrc:4242 msid:s a\r\n\
a=ssrc:4242 mslabel:s\r\n\
a=ssrc:4242 label:a\r\n\
a=sendrecv\r\n\
a=candidate:2693830880 1 udp 2130706431 127.0.0.1 46779 typ host\r\n\
a=candidate:2693830880 2 udp 2130706431 127.0.0.1 46779 typ host\r\n\
a=end-of-candidates\r\n\
";

/// webrtc 0.21.1 offer of an audio transceiver without a track (recvonly): every registered
/// codec is listed, unlike an offer with an opus track, which lists only opus.
const WEBRTC_OFFER_ALL_CODECS: &str = "\
v=0\r\n\
o=- 9176599398503128778 173384194 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=fingerprint:sha-256 DB:0B:FC:47:28:3F:F2:48:9D:98:18:88:8C:E3:36:07:39:33:2A:6E:CD:49:66:FD:62:2B:9A:8B:81:CF:63:FF\r\n\
a=extmap-allow-mixed\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8 101\r\n\
c=IN IP4 0.0.0.0\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=ice-ufrag:HrTKtDlZwTOQQjZv\r\n\
a=ice-pwd:EDfZNpwkHzGeifGEasMYfUkYoScemPTn\r\n\
a=rtcp-mux\r\n\
a=rtcp-rsize\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/48000\r\n\
a=fmtp:101 0-15\r\n\
a=recvonly\r\n\
";

fn jingle(xml: &str) -> Jingle {
    Jingle::parse(&xml.parse::<Element>().unwrap()).unwrap()
}

fn remote_offer(xml: &str) -> String {
    let j = jingle(xml);
    jingle_to_sdp(&j.contents, j.group.as_ref(), SdpRole::Offer, false).unwrap()
}

fn lines(sdp: &str) -> Vec<&str> {
    sdp.lines().collect()
}

fn assert_has(sdp: &str, line: &str) {
    assert!(lines(sdp).contains(&line), "missing {line:?} in\n{sdp}");
}

fn assert_lacks(sdp: &str, prefix: &str) {
    assert!(
        !lines(sdp).iter().any(|l| l.starts_with(prefix)),
        "unexpected {prefix:?} in\n{sdp}"
    );
}

/// What every m-line needs for webrtc 0.21.
fn assert_webrtc_shape(sdp: &str) {
    assert!(sdp.starts_with("v=0\r\n"));
    assert!(sdp.ends_with("\r\n"));
    for line in ["c=IN IP4 0.0.0.0", "a=rtcp-mux", "a=ice-options:trickle"] {
        assert_has(sdp, line);
    }
    assert!(!sdp.contains("renomination"));
    assert!(lines(sdp).iter().any(|l| l.starts_with("a=group:BUNDLE ")));
    assert!(lines(sdp).iter().any(|l| l.starts_with("a=ice-ufrag:")));
    assert!(lines(sdp).iter().any(|l| l.starts_with("a=ice-pwd:")));
    assert!(
        lines(sdp)
            .iter()
            .any(|l| l.starts_with("a=fingerprint:sha-256 "))
    );
    assert!(lines(sdp).iter().any(|l| l.starts_with("a=setup:")));
    assert!(
        lines(sdp)
            .iter()
            .any(|l| ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"].contains(l))
    );
}

#[test]
fn conversations_offer_keeps_our_codecs_and_one_telephone_event() {
    let sdp = remote_offer(CONVERSATIONS_INITIATE);
    assert_webrtc_shape(&sdp);
    // opus, G722, PCMU in the offerer's order; telephone-event at opus's 48000, not 8000.
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 110");
    assert_has(&sdp, "a=rtpmap:111 opus/48000/2");
    assert_has(&sdp, "a=fmtp:111 minptime=10;useinbandfec=1");
    assert_has(&sdp, "a=rtcp-fb:111 transport-cc");
    assert_has(&sdp, "a=rtpmap:9 G722/8000");
    assert_has(&sdp, "a=rtpmap:0 PCMU/8000");
    assert_has(&sdp, "a=rtpmap:110 telephone-event/48000");
    assert_has(&sdp, "a=fmtp:110 0-15");
    for dropped in [
        "a=rtpmap:126",
        "a=rtpmap:63",
        "a=rtpmap:8 ",
        "a=rtpmap:13",
        "a=rtpmap:102",
    ] {
        assert_lacks(&sdp, dropped);
    }
    assert_has(&sdp, "a=group:BUNDLE 0");
    assert_has(&sdp, "a=mid:0");
    assert_has(&sdp, "a=sendrecv");
    assert_has(&sdp, "a=setup:actpass");
    assert_has(&sdp, "a=ice-ufrag:Yf3v");
    assert_has(&sdp, "a=ice-pwd:q1Jm5a8mLqVn0cQp3sK7dZxw");
    assert_has(
        &sdp,
        "a=fingerprint:sha-256 5B:1A:3C:0E:7F:92:44:D1:8B:6A:2E:90:C3:5D:71:0F:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
    );
    assert_has(
        &sdp,
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    );
    assert_has(&sdp, "a=extmap-allow-mixed");
    assert_has(&sdp, "a=ssrc:2385123401 cname:Xh3vLkR9q2Zb");
    assert_has(
        &sdp,
        "a=ssrc:2385123401 msid:my-media-stream my-audio-track",
    );
}

#[test]
fn monal_offer_with_g722_first_gets_the_8000_telephone_event() {
    let sdp = remote_offer(MONAL_INITIATE);
    assert_webrtc_shape(&sdp);
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 9 111 126");
    // channels='1' is not written; the misspelled parameter name does not matter.
    assert_has(&sdp, "a=rtpmap:9 G722/8000");
    assert_has(&sdp, "a=rtpmap:126 telephone-event/8000");
    assert_has(&sdp, "a=fmtp:126 0-15");
    assert_lacks(&sdp, "a=rtpmap:110");
}

#[test]
fn dino_offer_without_group_gets_bundle_and_component_1_candidates() {
    let sdp = remote_offer(DINO_INITIATE);
    assert_webrtc_shape(&sdp);
    assert_has(&sdp, "a=group:BUNDLE audio");
    assert_has(&sdp, "a=mid:audio");
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 99 0 101");
    // Description-level rtcp-fb applies to every payload type.
    assert_has(&sdp, "a=rtcp-fb:99 nack");
    assert_has(&sdp, "a=rtcp-fb:0 nack");
    assert_has(
        &sdp,
        "a=candidate:1 1 udp 2013266431 192.168.1.20 48123 typ host generation 0",
    );
    assert_has(
        &sdp,
        "a=candidate:2 1 udp 1677721855 203.0.113.7 48123 typ srflx raddr 192.168.1.20 rport 48123 generation 0",
    );
    assert_has(
        &sdp,
        "a=candidate:3 1 udp 2013266175 2001:db8::20 48125 typ host generation 0",
    );
    assert!(!sdp.contains(" 48124 "), "component 2 left out:\n{sdp}");
}

#[test]
fn browser_offer_loses_its_video_content() {
    let sdp = remote_offer(MOVIM_INITIATE);
    assert_webrtc_shape(&sdp);
    assert_eq!(sdp.matches("m=").count(), 1);
    assert_has(&sdp, "a=group:BUNDLE 0");
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 110");
    assert_has(
        &sdp,
        "a=candidate:2871653990 1 udp 2122260223 7d1c9f2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f.local 54400 typ host generation 0 network-id 1",
    );
}

#[test]
fn asterisk_accept_becomes_an_answer_webrtc_takes() {
    let j = jingle(ASTERISK_ACCEPT);
    let sdp = jingle_to_sdp(&j.contents, j.group.as_ref(), SdpRole::Answer, true).unwrap();
    assert_webrtc_shape(&sdp);
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 0 9 101");
    assert_has(&sdp, "a=rtpmap:0 PCMU/8000");
    assert_has(&sdp, "a=rtpmap:9 G722/8000");
    assert_has(&sdp, "a=rtpmap:101 telephone-event/8000");
    // The nameless parameter's events are kept.
    assert_has(&sdp, "a=fmtp:101 0-16");
    // No setup in the accept: the responder is active.
    assert_has(&sdp, "a=setup:active");
    assert_has(&sdp, "a=group:BUNDLE 0");
    assert_has(&sdp, "a=sendrecv");
    assert_eq!(sdp.matches("a=candidate:").count(), 1);
}

fn audio_content(payload_types: Vec<PayloadType>) -> Content {
    let mut description = RtpDescription::new("audio");
    description.payload_types = payload_types;
    description.rtcp_mux = true;
    let mut content = Content::new(Creator::Initiator, "0");
    content.description = Some(description);
    content.transport = Some(IceUdpTransport {
        ufrag: Some("ufrag".into()),
        pwd: Some("pwdpwdpwdpwdpwdpwdpwdpwd".into()),
        fingerprint: Some(Fingerprint {
            hash: "sha-256".into(),
            setup: Some(Setup::Actpass),
            value: "AA:BB:CC".into(),
        }),
        candidates: Vec::new(),
    });
    content
}

fn pt(id: u8, name: &str, rate: u32) -> PayloadType {
    PayloadType::new(id, name, rate, None)
}

#[test]
fn telephone_event_only_at_the_first_codecs_rate() {
    // opus first, only an 8000 telephone-event: none.
    let sdp = jingle_to_sdp(
        &[audio_content(vec![
            pt(111, "opus", 48000),
            pt(0, "PCMU", 8000),
            pt(126, "telephone-event", 8000),
        ])],
        None,
        SdpRole::Offer,
        false,
    )
    .unwrap();
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0");
    assert_lacks(&sdp, "a=rtpmap:126");
    // Case-insensitive names; a telephone-event without clock rate is 8000 (RFC 4733); a
    // static payload type without a name is known.
    let sdp = jingle_to_sdp(
        &[audio_content(vec![
            PayloadType {
                id: 0,
                ..PayloadType::default()
            },
            pt(97, "OPUS", 48000),
            PayloadType {
                id: 101,
                name: Some("Telephone-Event".into()),
                ..PayloadType::default()
            },
        ])],
        None,
        SdpRole::Offer,
        false,
    )
    .unwrap();
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 0 97 101");
    assert_has(&sdp, "a=rtpmap:0 PCMU/8000");
    assert_has(&sdp, "a=rtpmap:97 OPUS/48000/2");
    assert_has(&sdp, "a=fmtp:101 0-15");
    // Right name, wrong clock rate: not ours.
    assert_eq!(
        jingle_to_sdp(
            &[audio_content(vec![
                pt(96, "opus", 16000),
                pt(101, "telephone-event", 8000)
            ])],
            None,
            SdpRole::Offer,
            false
        ),
        Err(SdpError::NoCommonCodec)
    );
}

#[test]
fn unknown_codecs_only_is_no_common_codec() {
    let content = audio_content(vec![
        pt(96, "speex", 16000),
        pt(8, "PCMA", 8000),
        pt(101, "telephone-event", 8000),
    ]);
    assert_eq!(
        jingle_to_sdp(&[content], None, SdpRole::Offer, false),
        Err(SdpError::NoCommonCodec)
    );
}

#[test]
fn senders_become_the_remote_partys_direction() {
    for (senders, we_are_initiator, direction) in [
        (Senders::Both, false, "a=sendrecv"),
        (Senders::Both, true, "a=sendrecv"),
        (Senders::None, false, "a=inactive"),
        // The remote initiator sends only.
        (Senders::Initiator, false, "a=sendonly"),
        // We are the initiator and the only sender: the remote party receives only.
        (Senders::Initiator, true, "a=recvonly"),
        (Senders::Responder, false, "a=recvonly"),
        (Senders::Responder, true, "a=sendonly"),
    ] {
        let mut content = audio_content(vec![pt(111, "opus", 48000)]);
        content.senders = senders;
        let sdp = jingle_to_sdp(&[content], None, SdpRole::Offer, we_are_initiator).unwrap();
        assert_has(&sdp, direction);
        // And back: the SDP's author is the initiator in an offer.
        let (contents, _) = sdp_to_jingle(
            &sdp,
            if we_are_initiator {
                SdpRole::Answer
            } else {
                SdpRole::Offer
            },
        )
        .unwrap();
        assert_eq!(contents[0].senders, senders, "{direction}");
    }
}

#[test]
fn setup_rules() {
    let with_setup = |setup: Option<Setup>, role: SdpRole| {
        let mut content = audio_content(vec![pt(111, "opus", 48000)]);
        let transport = content.transport.as_mut().unwrap();
        transport.fingerprint.as_mut().unwrap().setup = setup;
        jingle_to_sdp(&[content], None, role, role == SdpRole::Answer).unwrap()
    };
    assert_has(&with_setup(None, SdpRole::Offer), "a=setup:actpass");
    assert_has(
        &with_setup(Some(Setup::Actpass), SdpRole::Offer),
        "a=setup:actpass",
    );
    assert_has(&with_setup(None, SdpRole::Answer), "a=setup:active");
    assert_has(
        &with_setup(Some(Setup::Actpass), SdpRole::Answer),
        "a=setup:active",
    );
    assert_has(
        &with_setup(Some(Setup::Passive), SdpRole::Answer),
        "a=setup:passive",
    );
    assert_has(
        &with_setup(Some(Setup::Active), SdpRole::Answer),
        "a=setup:active",
    );
}

#[test]
fn incomplete_or_hostile_jingle_is_refused() {
    let good = audio_content(vec![pt(111, "opus", 48000)]);
    let check = |content: Content| jingle_to_sdp(&[content], None, SdpRole::Offer, false);
    assert!(check(good.clone()).is_ok());

    let mut c = good.clone();
    c.transport.as_mut().unwrap().ufrag = None;
    assert_eq!(
        check(c),
        Err(SdpError::MissingIceCredentials {
            content: "0".into()
        })
    );
    let mut c = good.clone();
    c.transport.as_mut().unwrap().pwd = None;
    assert!(matches!(
        check(c),
        Err(SdpError::MissingIceCredentials { .. })
    ));
    let mut c = good.clone();
    c.transport.as_mut().unwrap().fingerprint = None;
    assert!(matches!(check(c), Err(SdpError::MissingFingerprint { .. })));
    let mut c = good.clone();
    c.transport = None;
    assert!(matches!(check(c), Err(SdpError::MissingTransport { .. })));
    let mut c = good.clone();
    c.description = None;
    assert!(matches!(check(c), Err(SdpError::MissingDescription { .. })));
    let mut c = good.clone();
    c.description.as_mut().unwrap().media = "video".into();
    assert_eq!(check(c), Err(SdpError::NoAudio));
    assert_eq!(
        jingle_to_sdp(&[], None, SdpRole::Offer, false),
        Err(SdpError::NoAudio)
    );

    // Values that would break or add SDP lines (possible when a Content is built in code; the
    // Jingle parser already refuses them).
    for poison in [
        |c: &mut Content| c.name = "0 1".into(),
        |c: &mut Content| c.name = "0\r\na=setup:passive".into(),
        |c: &mut Content| c.transport.as_mut().unwrap().ufrag = Some("u\nx".into()),
        |c: &mut Content| {
            c.description.as_mut().unwrap().payload_types[0]
                .parameters
                .push(Parameter::new(Some("a"), "1\r\na=x"))
        },
        |c: &mut Content| {
            c.transport
                .as_mut()
                .unwrap()
                .fingerprint
                .as_mut()
                .unwrap()
                .value = "AA BB".into()
        },
    ] {
        let mut c = good.clone();
        poison(&mut c);
        assert!(
            matches!(check(c), Err(SdpError::InvalidValue { .. })),
            "poisoned content accepted"
        );
    }

    // A candidate built in code with port 0 or a priority out of range.
    let candidate =
        candidate_from_sdp("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host").unwrap();
    for bad in [
        Candidate {
            port: 0,
            ..candidate.clone()
        },
        Candidate {
            priority: u32::MAX,
            ..candidate.clone()
        },
        Candidate {
            ip: "10.0.0.1 a".into(),
            ..candidate.clone()
        },
    ] {
        let mut c = good.clone();
        c.transport.as_mut().unwrap().candidates.push(bad);
        assert!(check(c).is_err());
    }

    // Two contents with one name; a payload type number used twice (first wins).
    assert!(matches!(
        jingle_to_sdp(&[good.clone(), good.clone()], None, SdpRole::Offer, false),
        Err(SdpError::InvalidValue { .. })
    ));
    let sdp = jingle_to_sdp(
        &[audio_content(vec![
            pt(111, "opus", 48000),
            pt(111, "PCMU", 8000),
            pt(101, "telephone-event", 48000),
            pt(101, "telephone-event", 48000),
        ])],
        None,
        SdpRole::Offer,
        false,
    )
    .unwrap();
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 101");
    assert_eq!(sdp.matches("a=rtpmap:111").count(), 1);

    // Too many contents.
    let many = vec![good; MAX_MEDIA + 1];
    assert!(matches!(
        jingle_to_sdp(&many, None, SdpRole::Offer, false),
        Err(SdpError::TooMany { .. })
    ));
}

#[test]
fn webrtc_offer_to_jingle() {
    let (contents, group) = sdp_to_jingle(WEBRTC_OFFER, SdpRole::Offer).unwrap();
    assert_eq!(group, Some(Group::bundle(vec!["0".into()])));
    assert_eq!(contents.len(), 1);
    let c = &contents[0];
    assert_eq!(
        (c.creator, c.name.as_str(), c.senders),
        (Creator::Initiator, "0", Senders::Both)
    );
    let d = c.description.as_ref().unwrap();
    assert_eq!(d.media, "audio");
    assert!(d.rtcp_mux);
    // Session-level in webrtc's SDP.
    assert!(d.extmap_allow_mixed);
    assert_eq!(d.payload_types.len(), 1);
    let opus = &d.payload_types[0];
    assert_eq!(
        (opus.id, opus.name.as_deref(), opus.clockrate, opus.channels),
        (111, Some("opus"), Some(48000), Some(2))
    );
    assert_eq!(
        opus.parameters,
        vec![
            Parameter::new(Some("minptime"), "10"),
            Parameter::new(Some("useinbandfec"), "1")
        ]
    );
    assert_eq!(d.sources.len(), 1);
    assert_eq!(d.sources[0].ssrc, 4242);
    assert_eq!(
        d.sources[0].parameters[0],
        ("cname".into(), Some("s".into()))
    );
    assert_eq!(
        d.sources[0].parameters[1],
        ("msid".into(), Some("s a".into()))
    );
    let t = c.transport.as_ref().unwrap();
    assert!(t.ufrag.as_deref().is_some_and(|u| u.len() == 16));
    assert!(t.pwd.as_deref().is_some_and(|p| p.len() == 32));
    // The fingerprint is session-level in webrtc's SDP; setup is media-level.
    let fp = t.fingerprint.as_ref().unwrap();
    assert_eq!(
        (fp.hash.as_str(), fp.setup),
        ("sha-256", Some(Setup::Actpass))
    );
    assert_eq!(fp.value.len(), 95);
    // Component 2 (webrtc lists every candidate twice) is dropped; the rest is completed.
    assert_eq!(t.candidates.len(), 1);
    let cand = &t.candidates[0];
    assert_eq!(cand.component, 1);
    assert_eq!((cand.generation, cand.network), (0, 0));
    assert!(!cand.id.is_empty());
    assert_eq!(cand.ip, "127.0.0.1");
    assert_eq!(cand.kind, CandidateType::Host);
    assert!(candidate_fits_gateway(cand));
}

#[test]
fn webrtc_offer_with_every_codec() {
    let (contents, _) = sdp_to_jingle(WEBRTC_OFFER_ALL_CODECS, SdpRole::Offer).unwrap();
    let d = contents[0].description.as_ref().unwrap();
    let codecs: Vec<(u8, &str, u32)> = d
        .payload_types
        .iter()
        .map(|pt| (pt.id, pt.name.as_deref().unwrap(), pt.clockrate.unwrap()))
        .collect();
    assert_eq!(
        codecs,
        vec![
            (111, "opus", 48000),
            (9, "G722", 8000),
            (0, "PCMU", 8000),
            (8, "PCMA", 8000),
            (101, "telephone-event", 48000)
        ]
    );
    // Our own offer is not filtered; the nameless events survive.
    assert_eq!(
        d.payload_types[4].parameters,
        vec![Parameter::new(None, "0-15")]
    );
    // recvonly in our offer: the responder sends.
    assert_eq!(contents[0].senders, Senders::Responder);
    // The peer's view of it, as a remote offer: PCMA dropped.
    let sdp = jingle_to_sdp(&contents, None, SdpRole::Offer, false).unwrap();
    assert_has(&sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 101");
    assert_has(&sdp, "a=recvonly");
}

#[test]
fn webrtc_answer_to_jingle() {
    let (contents, _) = sdp_to_jingle(WEBRTC_ANSWER, SdpRole::Answer).unwrap();
    let fp = contents[0]
        .transport
        .as_ref()
        .unwrap()
        .fingerprint
        .clone()
        .unwrap();
    assert_eq!(fp.setup, Some(Setup::Active));
    assert_eq!(contents[0].creator, Creator::Initiator);
}

/// Candidate ids are fresh on every SDP -> Jingle pass.
fn without_candidate_ids(mut contents: Vec<Content>) -> Vec<Content> {
    for c in &mut contents {
        if let Some(t) = c.transport.as_mut() {
            for cand in &mut t.candidates {
                cand.id.clear();
            }
        }
    }
    contents
}

#[test]
fn webrtc_sdp_to_jingle_to_sdp_is_equivalent() {
    for (sdp, role, we_are_initiator) in [
        (WEBRTC_OFFER, SdpRole::Offer, false),
        // (WEBRTC_OFFER_ALL_CODECS would lose PCMA: see webrtc_offer_with_every_codec.)
        (WEBRTC_ANSWER, SdpRole::Answer, true),
    ] {
        let (contents, group) = sdp_to_jingle(sdp, role).unwrap();
        // Through XML, as it goes over the wire.
        let mut j = Jingle::new(linnet_xmpp::jingle::Action::SessionInitiate, "s");
        j.contents = contents.clone();
        j.group = group.clone();
        let wire = Jingle::parse(&j.to_element()).unwrap();
        assert_eq!(wire, j);
        let again =
            jingle_to_sdp(&wire.contents, wire.group.as_ref(), role, we_are_initiator).unwrap();
        assert_webrtc_shape(&again);
        let (contents2, group2) = sdp_to_jingle(&again, role).unwrap();
        assert_eq!(group2, group);
        assert_eq!(
            without_candidate_ids(contents2),
            without_candidate_ids(contents)
        );
    }
}

/// The part of a remote Jingle content the translator keeps, as it comes back from SDP.
fn supported_subset(mut content: Content, kept_ids: &[u8], role: SdpRole) -> Content {
    content.creator = Creator::Initiator;
    let d = content.description.as_mut().unwrap();
    d.ssrc = None;
    d.rtcp_mux = true;
    let common_fb = std::mem::take(&mut d.rtcp_fb);
    d.payload_types.retain(|pt| kept_ids.contains(&pt.id));
    for pt in &mut d.payload_types {
        let mut fb = common_fb.clone();
        fb.append(&mut pt.rtcp_fb);
        pt.rtcp_fb = fb;
        let name = pt.name.clone().unwrap_or_default();
        if name.eq_ignore_ascii_case("opus") {
            pt.channels = Some(2);
        }
        if pt.channels == Some(1) {
            pt.channels = None;
        }
        if name.eq_ignore_ascii_case("telephone-event") {
            let events = pt
                .parameters
                .first()
                .map(|p| p.value.clone())
                .unwrap_or_else(|| "0-15".into());
            pt.parameters = vec![Parameter::new(None, &events)];
        }
    }
    let t = content.transport.as_mut().unwrap();
    t.candidates.retain(|c| c.component == 1);
    for c in &mut t.candidates {
        c.id.clear();
    }
    let fp = t.fingerprint.as_mut().unwrap();
    fp.setup = Some(match (role, fp.setup) {
        (SdpRole::Offer, s) => s.unwrap_or(Setup::Actpass),
        (SdpRole::Answer, None | Some(Setup::Actpass)) => Setup::Active,
        (SdpRole::Answer, Some(s)) => s,
    });
    content
}

#[test]
fn client_jingle_to_sdp_to_jingle_keeps_the_supported_subset() {
    for (xml, role) in [
        (CONVERSATIONS_INITIATE, SdpRole::Offer),
        (DINO_INITIATE, SdpRole::Offer),
        (MONAL_INITIATE, SdpRole::Offer),
        (MOVIM_INITIATE, SdpRole::Offer),
        (ASTERISK_ACCEPT, SdpRole::Answer),
    ] {
        let j = jingle(xml);
        // The SDP author is the initiator of an offer and the responder of an answer.
        let we_are_initiator = role == SdpRole::Answer;
        let sdp = jingle_to_sdp(&j.contents, j.group.as_ref(), role, we_are_initiator).unwrap();
        let (back, group) = sdp_to_jingle(&sdp, role).unwrap();
        let audio: Vec<Content> = j
            .contents
            .iter()
            .filter(|c| c.description.as_ref().unwrap().media == "audio")
            .cloned()
            .collect();
        assert_eq!(
            group,
            Some(Group::bundle(
                audio.iter().map(|c| c.name.clone()).collect()
            ))
        );
        assert_eq!(back.len(), audio.len());
        for (original, back) in audio.into_iter().zip(without_candidate_ids(back)) {
            let kept: Vec<u8> = back
                .description
                .as_ref()
                .unwrap()
                .payload_types
                .iter()
                .map(|pt| pt.id)
                .collect();
            assert_eq!(back, supported_subset(original, &kept, role), "{sdp}");
        }
    }
}

#[test]
fn sdp_details() {
    // CRLF or LF, nameless fmtp, rtcp-fb for all, extmap direction, ssrc-group, ptime, a rejected
    // m-line and a data channel left out, renomination dropped, session-level ICE credentials.
    let sdp = "v=0\n\
o=- 1 1 IN IP4 0.0.0.0\n\
s=-\n\
t=0 0\n\
a=group:BUNDLE a\n\
a=ice-options:trickle renomination\n\
a=ice-ufrag:sessufrag\n\
a=ice-pwd:sesspwdsesspwdsesspwd\n\
a=fingerprint:sha-256 AA:BB\n\
m=audio 9 UDP/TLS/RTP/SAVPF 0 101\n\
a=mid:a\n\
a=setup:passive\n\
a=sendonly\n\
a=rtcp-mux\n\
a=rtpmap:101 telephone-event/8000\n\
a=fmtp:101 0-15\n\
a=rtcp-fb:* nack\n\
a=extmap:2/recvonly urn:example:ext\n\
a=ptime:20\n\
a=ssrc-group:FID 1 2\n\
a=ssrc:1 cname:x\n\
a=ssrc:2 cname:x\n\
a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\n\
m=audio 0 UDP/TLS/RTP/SAVPF 0\n\
a=mid:b\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n\
a=mid:c\n";
    let (contents, group) = sdp_to_jingle(sdp, SdpRole::Answer).unwrap();
    assert_eq!(group, Some(Group::bundle(vec!["a".into()])));
    assert_eq!(contents.len(), 1);
    let c = &contents[0];
    // Our answer, sendonly: we (the responder) send.
    assert_eq!(c.senders, Senders::Responder);
    let d = c.description.as_ref().unwrap();
    // PCMU has no rtpmap: the static table names it.
    assert_eq!(d.payload_types[0].name.as_deref(), Some("PCMU"));
    assert_eq!(d.payload_types[0].ptime, Some(20));
    assert_eq!(
        d.payload_types[1].parameters,
        vec![Parameter::new(None, "0-15")]
    );
    assert_eq!(d.rtcp_fb.len(), 1);
    assert_eq!(d.hdrexts[0].id, 2);
    // recvonly by us, the responder: the initiator sends.
    assert_eq!(d.hdrexts[0].senders, Senders::Initiator);
    assert_eq!(d.ssrc_groups[0].ssrcs, vec![1, 2]);
    assert_eq!(d.sources.len(), 2);
    let t = c.transport.as_ref().unwrap();
    assert_eq!(t.ufrag.as_deref(), Some("sessufrag"));
    assert_eq!(t.fingerprint.as_ref().unwrap().setup, Some(Setup::Passive));
    assert_eq!(t.candidates[0].protocol, "udp");

    let back = jingle_to_sdp(&contents, group.as_ref(), SdpRole::Answer, true).unwrap();
    assert!(!back.contains("renomination"));
    assert_has(&back, "a=ptime:20");
    assert_has(&back, "a=rtcp-fb:0 nack");
    assert_has(&back, "a=rtcp-fb:101 nack");
    assert_has(&back, "a=ssrc-group:FID 1 2");
    assert_has(&back, "a=setup:passive");
    // Read as a remote answer (its author the responder, we the initiator): it sends only.
    assert_has(&back, "a=sendonly");
    assert_has(&back, "a=extmap:2/recvonly urn:example:ext");
    // LF and CRLF read the same.
    assert_eq!(
        sdp_to_jingle(&sdp.replace('\n', "\r\n"), SdpRole::Answer)
            .map(|(c, g)| (without_candidate_ids(c), g)),
        Ok((without_candidate_ids(contents), group))
    );
}

#[test]
fn broken_or_hostile_sdp_is_refused() {
    let head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    for bad in [
        "m=audio 9 UDP/TLS/RTP/SAVPF 200\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF x\r\n",
        "m=audio 99999 UDP/TLS/RTP/SAVPF 0\r\n",
        "m=audio\r\n",
        "garbage\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 opus/fast\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/300\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ssrc:99999999999 cname:x\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:1 1 udp 0 1.2.3.4 5 typ host\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 AA\r\na=setup:sideways\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ptime:99999999999\r\n",
    ] {
        assert!(
            sdp_to_jingle(&format!("{head}{bad}"), SdpRole::Offer).is_err(),
            "{bad}"
        );
    }
    assert_eq!(sdp_to_jingle(head, SdpRole::Offer), Err(SdpError::NoAudio));
    let huge = format!("{head}{}", "a=x\r\n".repeat(MAX_SDP_LEN / 5 + 1));
    assert_eq!(
        sdp_to_jingle(&huge, SdpRole::Offer),
        Err(SdpError::TooLarge)
    );
    let many = format!("{head}{}", "m=audio 9 RTP/AVP 0\r\n".repeat(MAX_MEDIA + 1));
    assert!(matches!(
        sdp_to_jingle(&many, SdpRole::Offer),
        Err(SdpError::TooMany { .. })
    ));
    let pts: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    assert!(matches!(
        sdp_to_jingle(
            &format!("{head}m=audio 9 RTP/AVP {}\r\n", pts.join(" ")),
            SdpRole::Offer
        ),
        Err(SdpError::TooMany { .. })
    ));
}

#[test]
fn candidates_from_and_to_sdp() {
    // webrtc 0.21 (no generation, no id).
    let c = candidate_from_sdp("candidate:2693830880 1 udp 2130706431 127.0.0.1 58385 typ host")
        .unwrap();
    assert_eq!(
        (
            c.foundation.as_str(),
            c.component,
            c.protocol.as_str(),
            c.priority
        ),
        ("2693830880", 1, "udp", 2130706431)
    );
    assert_eq!(
        (c.ip.as_str(), c.port, c.kind),
        ("127.0.0.1", 58385, CandidateType::Host)
    );
    assert_eq!((c.generation, c.network), (0, 0));
    assert_eq!(c.id.len(), 10);
    let other =
        candidate_from_sdp("candidate:2693830880 1 udp 2130706431 127.0.0.1 58385 typ host")
            .unwrap();
    assert_ne!(c.id, other.id, "ids are fresh");
    assert_eq!(
        candidate_to_sdp(&c),
        "candidate:2693830880 1 udp 2130706431 127.0.0.1 58385 typ host generation 0"
    );

    // Chrome, with "a=", extensions in any order.
    let c = candidate_from_sdp(
        "a=candidate:842163049 1 udp 1677729535 203.0.113.9 61001 typ srflx raddr 192.168.1.5 rport 61001 generation 2 ufrag EsAw network-id 3 network-cost 10",
    )
    .unwrap();
    assert_eq!(c.kind, CandidateType::Srflx);
    assert_eq!(
        (c.rel_addr.as_deref(), c.rel_port),
        (Some("192.168.1.5"), Some(61001))
    );
    assert_eq!((c.generation, c.network), (2, 3));
    assert_eq!(
        candidate_to_sdp(&c),
        "candidate:842163049 1 udp 1677729535 203.0.113.9 61001 typ srflx raddr 192.168.1.5 rport 61001 generation 2 network-id 3"
    );
    let mut back = candidate_from_sdp(&candidate_to_sdp(&c)).unwrap();
    back.id = c.id.clone();
    assert_eq!(back, c);

    let relay = candidate_from_sdp(
        "candidate:3 1 udp 41885439 198.51.100.1 50000 typ relay raddr 203.0.113.9 rport 61001",
    )
    .unwrap();
    let tcp = candidate_from_sdp("candidate:4 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active")
        .unwrap();
    assert_eq!(tcp.protocol, "tcp");

    for bad in [
        "1 1 udp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ",
        "candidate:1 1 udp 1 1.2.3.4 5 type host",
        "candidate:1 0 udp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 0 1.2.3.4 5 typ host",
        "candidate:1 1 udp 2147483648 1.2.3.4 5 typ host",
        "candidate:1 1 udp 99999999999999999999 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 0 typ host",
        "candidate:1 1 udp 1 1.2.3.4 65536 typ host",
        "candidate:1 300 udp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ nat",
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr",
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport x",
        "",
    ] {
        assert!(candidate_from_sdp(bad).is_err(), "{bad}");
    }

    // What a gateway accepts.
    let host = candidate_from_sdp("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host").unwrap();
    assert!(candidate_fits_gateway(&host));
    assert!(candidate_fits_gateway(&c));
    assert!(candidate_fits_gateway(&relay));
    assert!(!candidate_fits_gateway(&tcp));
    for (ip, kind) in [
        ("2001:db8::1", CandidateType::Host),
        ("abc.local", CandidateType::Host),
        ("10.0.0.1", CandidateType::Prflx),
    ] {
        let mut other = host.clone();
        other.ip = ip.into();
        other.kind = kind;
        assert!(!candidate_fits_gateway(&other), "{ip} {kind:?}");
    }
    let mut no_id = host.clone();
    no_id.id.clear();
    assert!(!candidate_fits_gateway(&no_id));
    let mut srflx_without_base = c.clone();
    srflx_without_base.rel_addr = None;
    assert!(!candidate_fits_gateway(&srflx_without_base));
}

#[test]
fn only_sha_256_fingerprints_reach_webrtc() {
    let mut content = audio_content(vec![pt(111, "opus", 48000)]);
    if let Some(t) = content.transport.as_mut()
        && let Some(f) = t.fingerprint.as_mut()
    {
        f.hash = "sha-512".into();
    }
    let error = jingle_to_sdp(&[content], None, SdpRole::Offer, false).unwrap_err();
    assert!(
        matches!(error, linnet_calls::sdp::SdpError::UnsupportedFingerprint { ref hash } if hash == "sha-512"),
        "{error:?}"
    );
}

#[test]
fn of_several_fingerprints_the_sha_256_one_is_used() {
    let xml = CONVERSATIONS_INITIATE.replacen(
        "<fingerprint ",
        "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-512' setup='actpass'>AB:CD</fingerprint><fingerprint ",
        1,
    );
    let j = jingle(&xml);
    let transport = j.contents[0].transport.as_ref().unwrap();
    assert_eq!(transport.fingerprint.as_ref().unwrap().hash, "sha-256");
}
