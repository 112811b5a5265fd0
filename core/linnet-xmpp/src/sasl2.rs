//! XEP-0388 Extensible SASL Profile (SASL2), client side, used by `negotiate::connect` when the
//! server offers `<authentication xmlns='urn:xmpp:sasl:2'>` after TLS.
//!
//! One `<authenticate>` carries, besides the SASL exchange:
//! * `<user-agent id=…>`: a stable per-installation id (tokens and Bind2 resources hang on it);
//! * Bind2 (`crate::bind2`) with the tag "Linnet" and stream management enabled inline, or an
//!   inline XEP-0198 `<resume/>` when an earlier session is to be resumed (the Bind2 request goes
//!   along as the fallback: the server binds anew if the resumption fails);
//! * FAST (`crate::fast`): a token request on password logins, or the token itself as the
//!   mechanism (one round trip).
//!
//! The mechanism is chosen by the same policy as classic SASL (`sasl::select`) and SCRAM is the
//! same `ScramClient`: only the wrapping differs (`<challenge>`/`<response>`, and the server's
//! final message in `<success><additional-data>`). The server signature is mandatory, as on the
//! classic path. After `<success>` the stream is not restarted: the server sends stream features
//! at once, possibly after stanzas replayed by a resumption, which stay queued for the session.
//!
//! Written against the XEPs (0388 1.0, 0386 1.1, 0484 0.2) and checked against Prosody's
//! modules; tolerances for what servers really send: child order is free, `authorization-
//! identifier` holds the full JID (whose resource may contain '/'), a failed inline resumption
//! may wrap its condition in `<error/>`, a `<failure>` condition may lack its namespace.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use minidom::Element;

use crate::bind2;
use crate::connection::XmlConnection;
use crate::error::ConnectError;
use crate::fast::{self, FastToken};
use crate::negotiate::{self, ConnectOptions, Credentials, ResumeRequest, auth_protocol};
use crate::ns;
use crate::sasl::{self, SaslError};
use crate::tls::TlsInfo;

pub const NS: &str = "urn:xmpp:sasl:2";

/// The Bind2 tag (XEP-0386): the server derives our resource from it.
pub const BIND_TAG: &str = "Linnet";

/// What the server offers in `<authentication xmlns='urn:xmpp:sasl:2'>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    pub mechanisms: Vec<String>,
    pub bind2: Option<bind2::Offer>,
    /// XEP-0198 inline in `<authenticate>` (`<sm xmlns='urn:xmpp:sm:3'/>` in `<inline>`).
    pub inline_sm: bool,
    /// FAST mechanisms (XEP-0484), empty when FAST is not offered on this stream.
    pub fast_mechanisms: Vec<String>,
}

impl Offer {
    pub fn fast_usable(&self) -> bool {
        self.fast_mechanisms
            .iter()
            .any(|m| m == fast::HT_SHA_256_NONE)
    }
}

/// SASL2 as offered in stream features, if it is.
pub fn parse_offer(features: &Element) -> Option<Offer> {
    let auth = features.get_child("authentication", NS)?;
    let mechanisms = auth
        .children()
        .filter(|c| c.is("mechanism", NS))
        .map(|c| c.text().trim().to_string())
        .collect();
    let inline = auth.get_child("inline", NS);
    Some(Offer {
        mechanisms,
        bind2: inline.and_then(bind2::offer),
        inline_sm: inline.is_some_and(|i| i.get_child("sm", ns::SM).is_some()),
        fast_mechanisms: inline.map(fast::offered_mechanisms).unwrap_or_default(),
    })
}

/// Who we are (XEP-0388 `<user-agent/>`).
#[derive(Debug, Clone)]
pub struct UserAgent<'a> {
    pub id: &'a str,
    pub software: &'a str,
}

/// Everything one `<authenticate>` carries.
#[derive(Debug, Clone)]
pub struct Authenticate<'a> {
    pub mechanism: &'a str,
    pub initial_response: &'a [u8],
    pub user_agent: UserAgent<'a>,
    /// Bind2 with this tag, enabling stream management inline or not.
    pub bind: Option<(&'a str, bool)>,
    /// XEP-0198 resumption of (previd, h).
    pub resume: Option<(&'a str, u32)>,
    /// FAST: ask for a token of this mechanism.
    pub request_token: Option<&'a str>,
    /// FAST: this authentication uses a token.
    pub fast: bool,
}

fn b64(data: &[u8]) -> String {
    if data.is_empty() {
        "=".to_string()
    } else {
        B64.encode(data)
    }
}

pub fn authenticate_element(a: &Authenticate<'_>) -> Element {
    let mut b = Element::builder("authenticate", NS)
        .attr(rxml::xml_ncname!("mechanism").into(), a.mechanism)
        .append(
            Element::builder("initial-response", NS)
                .append(b64(a.initial_response))
                .build(),
        )
        .append(
            Element::builder("user-agent", NS)
                .attr(rxml::xml_ncname!("id").into(), a.user_agent.id)
                .append(
                    Element::builder("software", NS)
                        .append(a.user_agent.software)
                        .build(),
                )
                .build(),
        );
    if let Some((previd, h)) = a.resume {
        b = b.append(
            Element::builder("resume", ns::SM)
                .attr(rxml::xml_ncname!("previd").into(), previd)
                .attr(rxml::xml_ncname!("h").into(), h.to_string())
                .build(),
        );
    }
    if let Some((tag, enable_sm)) = a.bind {
        b = b.append(bind2::request(tag, enable_sm));
    }
    if let Some(m) = a.request_token {
        b = b.append(fast::request_token_element(m));
    }
    if a.fast {
        b = b.append(fast::fast_element());
    }
    b.build()
}

pub fn response_element(data: &[u8]) -> Element {
    Element::builder("response", NS).append(b64(data)).build()
}

/// A SASL2 `<challenge>` payload, or `<additional-data>`.
pub fn payload(e: &Element) -> Result<Vec<u8>, SaslError> {
    let text = e.text();
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    B64.decode(text).map_err(|_| SaslError::Malformed("base64"))
}

/// How the server answered an inline resumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InlineResumption {
    Resumed { previd: Option<String>, h: u32 },
    Failed { h: Option<u32>, condition: String },
}

/// The parts of `<success xmlns='urn:xmpp:sasl:2'>` we use.
#[derive(Debug, Clone, Default)]
pub struct Success {
    pub additional_data: Option<Vec<u8>>,
    pub authorization_identifier: Option<String>,
    pub bound: Option<bind2::Bound>,
    pub resumption: Option<InlineResumption>,
    pub token: Option<FastToken>,
}

pub fn parse_success(e: &Element) -> Result<Success, SaslError> {
    let additional_data = match e.get_child("additional-data", NS) {
        Some(d) => Some(payload(d)?),
        None => None,
    };
    let resumption = if let Some(r) = e.get_child("resumed", ns::SM) {
        let h = r
            .attr("h")
            .and_then(|h| h.parse::<u32>().ok())
            .ok_or(SaslError::Malformed("<resumed/> without a valid h"))?;
        Some(InlineResumption::Resumed {
            previd: r.attr("previd").map(str::to_string),
            h,
        })
    } else {
        e.get_child("failed", ns::SM)
            .map(|f| InlineResumption::Failed {
                h: f.attr("h").and_then(|h| h.parse::<u32>().ok()),
                condition: failed_condition(f),
            })
    };
    Ok(Success {
        additional_data,
        authorization_identifier: e
            .get_child("authorization-identifier", NS)
            .map(|a| a.text().trim().to_string()),
        bound: e.get_child("bound", bind2::NS).map(bind2::parse_bound),
        resumption,
        token: fast::parse_token(e),
    })
}

/// The condition of an SM `<failed/>`: a bare child (XEP-0198) or inside `<error/>` (Prosody).
fn failed_condition(f: &Element) -> String {
    let direct = f.children().find(|c| c.ns() == ns::STANZAS);
    let wrapped = || {
        f.children().find(|c| c.name() == "error").and_then(|e| {
            e.children()
                .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
        })
    };
    direct
        .or_else(wrapped)
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| "undefined-condition".into())
}

/// The condition and text of `<failure xmlns='urn:xmpp:sasl:2'>`. The condition is the first
/// child other than `<text/>`, in whatever namespace (normally the RFC 6120 SASL one).
pub fn failure_condition(e: &Element) -> (Option<String>, Option<String>) {
    let condition = e
        .children()
        .find(|c| c.name() != "text")
        .map(|c| c.name().to_string());
    let text = e.children().find(|c| c.name() == "text").map(|c| c.text());
    (condition, text)
}

/// What [`authenticate`] ended with.
#[derive(Debug)]
pub(crate) enum Attempt {
    Done(Box<Outcome>),
    /// The server refused the FAST token. The caller forgets it and starts over on a new
    /// connection with the password: Prosody's module (hg 556bf57d6417) keeps the token-only SASL
    /// handler on the stream after the failure and refuses every other mechanism there
    /// (`invalid-mechanism`), so retrying on the same stream, as XEP-0388 would allow, fails.
    FastRejected,
}

/// The result of a successful [`authenticate`].
#[derive(Debug)]
pub(crate) struct Outcome {
    pub success: Success,
    /// Authenticated with the FAST token.
    pub fast_used: bool,
    /// Bind2 was requested.
    pub bind_sent: bool,
    /// Stream management was requested inside Bind2.
    pub sm_enable_sent: bool,
    /// An inline resumption was requested.
    pub resume_sent: bool,
    /// The stream features the server sent after `<success>` (no restart).
    pub features: Element,
}

/// The per-installation user agent id (XEP-0388): given, or derived from the resource (itself
/// random per installation and kept), shaped as a UUID.
pub fn user_agent_id(opts: &ConnectOptions) -> String {
    if let Some(id) = &opts.user_agent_id {
        return id.clone();
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("linnet user-agent {}", opts.resource).as_bytes());
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest.iter()) {
        *b = *d;
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Authenticates over SASL2: with the FAST token when there is one and the server offers FAST
/// (a refusal ends the attempt: [`Attempt::FastRejected`]), otherwise with the password and
/// `selection`'s mechanism. Returns after the post-authentication features.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn authenticate(
    conn: &mut XmlConnection,
    creds: &Credentials,
    opts: &ConnectOptions,
    offer: &Offer,
    selection: &sasl::Selection,
    tls: &TlsInfo,
    t: Duration,
) -> Result<Attempt, ConnectError> {
    let username = creds
        .jid
        .node()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let ua_id = user_agent_id(opts);
    let user_agent = UserAgent {
        id: &ua_id,
        software: "Linnet",
    };
    // Resuming needs SM inline; without it, resumption happens the classic way after
    // authentication, so no Bind2 then (binding first would rule out resuming).
    let resume: Option<&ResumeRequest> = opts.resume.as_ref().filter(|_| offer.inline_sm);
    let bind = offer
        .bind2
        .as_ref()
        .filter(|_| opts.resume.is_none() || offer.inline_sm);
    let enable_sm = opts.enable_stream_management && bind.is_some_and(|b| b.inline(ns::SM));
    let bind_req = bind.map(|_| (BIND_TAG, enable_sm));
    let resume_req = resume.map(|r| (r.previd.as_str(), r.h));

    if let Some(token) = opts.fast_token.as_ref().filter(|_| offer.fast_usable()) {
        let initial = fast::initial_response(&username, token).map_err(auth_protocol)?;
        conn.send_element(&authenticate_element(&Authenticate {
            mechanism: fast::HT_SHA_256_NONE,
            initial_response: initial.expose(),
            user_agent: user_agent.clone(),
            bind: bind_req,
            resume: resume_req,
            request_token: None,
            fast: true,
        }))
        .await?;
        let answer = next_sasl2(conn, t).await?;
        match answer.name() {
            "success" => {
                let success = parse_success(&answer).map_err(auth_protocol)?;
                // Mutual authentication: the server proves it knows the token.
                let data = success
                    .additional_data
                    .as_deref()
                    .ok_or(auth_protocol(SaslError::BadServerSignature))?;
                fast::verify_responder(token, data).map_err(auth_protocol)?;
                let features = features_after_success(conn, t).await?;
                return Ok(Attempt::Done(Box::new(Outcome {
                    success,
                    fast_used: true,
                    bind_sent: bind_req.is_some(),
                    sm_enable_sent: enable_sm,
                    resume_sent: resume_req.is_some(),
                    features,
                })));
            }
            "failure" => {
                let (condition, _) = failure_condition(&answer);
                tracing::info!(
                    condition = condition.as_deref().unwrap_or("none"),
                    "the server refused the FAST token; logging in with the password"
                );
                return Ok(Attempt::FastRejected);
            }
            other => {
                return Err(ConnectError::Protocol(format!(
                    "unexpected <{other}/> answering a FAST authentication"
                )));
            }
        }
    }

    let request_token =
        (opts.request_fast_token && offer.fast_usable()).then_some(fast::HT_SHA_256_NONE);
    let mechanism = selection.mechanism;
    let used_cb = selection.channel_binding.is_some();
    let envelope = |initial: &[u8]| {
        authenticate_element(&Authenticate {
            mechanism: mechanism.name(),
            initial_response: initial,
            user_agent: user_agent.clone(),
            bind: bind_req,
            resume: resume_req,
            request_token,
            fast: false,
        })
    };
    let success = match mechanism.scram_hash() {
        None => {
            // PLAIN: one round.
            let initial = sasl::plain_initial(None, &username, creds.password.expose())
                .map_err(auth_protocol)?;
            conn.send_element(&envelope(initial.expose())).await?;
            let answer = next_sasl2(conn, t).await?;
            match answer.name() {
                "success" => parse_success(&answer).map_err(auth_protocol)?,
                "failure" => return Err(failure_error(&answer, false)),
                other => {
                    return Err(ConnectError::Protocol(format!(
                        "unexpected <{other}/> during SASL2"
                    )));
                }
            }
        }
        Some(hash) => {
            let mut scram =
                negotiate::scram_client(hash, &username, creds, selection, tls, &offer.mechanisms)?;
            conn.send_element(&envelope(&scram.client_first())).await?;
            let mut verified = false;
            let mut sent_client_final = false;
            loop {
                let answer = next_sasl2(conn, t).await?;
                match answer.name() {
                    "challenge" if !sent_client_final => {
                        let reply = scram
                            .handle_server_first(&payload(&answer).map_err(auth_protocol)?)
                            .map_err(auth_protocol)?;
                        conn.send_element(&response_element(&reply)).await?;
                        sent_client_final = true;
                    }
                    "challenge" if !verified => {
                        // Server-final in a challenge, then a success without it.
                        scram
                            .verify_server_final(&payload(&answer).map_err(auth_protocol)?)
                            .map_err(auth_protocol)?;
                        verified = true;
                        conn.send_element(&response_element(&[])).await?;
                    }
                    "success" if sent_client_final => {
                        let success = parse_success(&answer).map_err(auth_protocol)?;
                        if !verified {
                            // The server signature is mandatory: no success without it.
                            let data = success
                                .additional_data
                                .as_deref()
                                .ok_or(auth_protocol(SaslError::BadServerSignature))?;
                            scram.verify_server_final(data).map_err(auth_protocol)?;
                        }
                        break success;
                    }
                    "failure" => return Err(failure_error(&answer, used_cb)),
                    other => {
                        return Err(ConnectError::Protocol(format!(
                            "unexpected <{other}/> during SASL2"
                        )));
                    }
                }
            }
        }
    };
    let features = features_after_success(conn, t).await?;
    Ok(Attempt::Done(Box::new(Outcome {
        success,
        fast_used: false,
        bind_sent: bind_req.is_some(),
        sm_enable_sent: enable_sm,
        resume_sent: resume_req.is_some(),
        features,
    })))
}

/// The next SASL2 element (`<challenge>`, `<success>`, `<failure>`, `<continue>`…); anything
/// outside the SASL2 namespace is a protocol error.
async fn next_sasl2(conn: &mut XmlConnection, t: Duration) -> Result<Element, ConnectError> {
    let answer = conn.next_element(t, "SASL2").await?;
    if answer.ns() != NS {
        return Err(ConnectError::Protocol(format!(
            "unexpected <{}/> during SASL2",
            answer.name()
        )));
    }
    Ok(answer)
}

/// Waits for the stream features that follow `<success>`. Stanzas arriving before them
/// (replayed by a resumption, `<r/>`) stay queued, in order, for the session.
async fn features_after_success(
    conn: &mut XmlConnection,
    t: Duration,
) -> Result<Element, ConnectError> {
    let (features, _) = conn
        .answer_after_early(t, "stream features", |e| e.is("features", ns::STREAM))
        .await?;
    Ok(features)
}

fn failure_error(e: &Element, used_channel_binding: bool) -> ConnectError {
    let (condition, text) = failure_condition(e);
    ConnectError::Auth(crate::negotiate::auth_error(
        condition.as_deref(),
        text,
        used_channel_binding,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::error::AuthError;

    const FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
        <authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-1</mechanism>\
        <mechanism>PLAIN</mechanism><inline><bind xmlns='urn:xmpp:bind:0'><inline>\
        <feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:csi:0'/>\
        <feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:sm:3'/></inline></bind>\
        <fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-EXPR</mechanism>\
        <mechanism>HT-SHA-256-NONE</mechanism></fast><sm xmlns='urn:xmpp:sm:3'/></inline>\
        </authentication><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>\
        </stream:features>";

    #[test]
    fn the_offer_is_parsed() {
        let f: Element = FEATURES.parse().unwrap();
        let o = parse_offer(&f).unwrap();
        assert_eq!(o.mechanisms, vec!["SCRAM-SHA-1", "PLAIN"]);
        assert!(o.inline_sm);
        assert!(o.fast_usable());
        assert!(o.bind2.unwrap().inline(ns::SM));
        let classic: Element = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
            <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
            </mechanisms></stream:features>"
            .parse()
            .unwrap();
        assert!(parse_offer(&classic).is_none());
        let bare: Element = "<f xmlns='x'><authentication xmlns='urn:xmpp:sasl:2'/></f>"
            .parse()
            .unwrap();
        let o = parse_offer(&bare).unwrap();
        assert!(o.mechanisms.is_empty() && o.bind2.is_none() && !o.inline_sm && !o.fast_usable());
    }

    #[test]
    fn authenticate_is_built_as_the_xep_says() {
        let e = authenticate_element(&Authenticate {
            mechanism: "SCRAM-SHA-1",
            initial_response: b"n,,n=alice,r=abc",
            user_agent: UserAgent {
                id: "3a1c6a52-9c7e-4f3e-8d8e-0b6a5b2f7c11",
                software: "Linnet",
            },
            bind: Some(("Linnet", true)),
            resume: Some(("DaeWAwSzRJBf", 7)),
            request_token: Some(fast::HT_SHA_256_NONE),
            fast: false,
        });
        assert!(e.is("authenticate", NS));
        assert_eq!(e.attr("mechanism"), Some("SCRAM-SHA-1"));
        let ir = e.get_child("initial-response", NS).unwrap();
        assert_eq!(payload(ir).unwrap(), b"n,,n=alice,r=abc");
        let ua = e.get_child("user-agent", NS).unwrap();
        assert_eq!(ua.attr("id"), Some("3a1c6a52-9c7e-4f3e-8d8e-0b6a5b2f7c11"));
        assert_eq!(ua.get_child("software", NS).unwrap().text(), "Linnet");
        let r = e.get_child("resume", ns::SM).unwrap();
        assert_eq!(
            (r.attr("previd"), r.attr("h")),
            (Some("DaeWAwSzRJBf"), Some("7"))
        );
        let b = e.get_child("bind", bind2::NS).unwrap();
        assert_eq!(b.get_child("tag", bind2::NS).unwrap().text(), "Linnet");
        assert!(b.get_child("enable", ns::SM).is_some());
        assert_eq!(
            e.get_child("request-token", fast::NS)
                .unwrap()
                .attr("mechanism"),
            Some("HT-SHA-256-NONE")
        );
        assert!(e.get_child("fast", fast::NS).is_none());
        // Serialisable, and the namespaces come out right.
        let text = crate::xml::element_to_string(&e).unwrap();
        assert!(
            text.starts_with("<authenticate xmlns=\"urn:xmpp:sasl:2\"")
                || text.starts_with("<authenticate xmlns='urn:xmpp:sasl:2'"),
            "{text}"
        );

        let fast_auth = authenticate_element(&Authenticate {
            mechanism: fast::HT_SHA_256_NONE,
            initial_response: b"x",
            user_agent: UserAgent {
                id: "u",
                software: "Linnet",
            },
            bind: None,
            resume: None,
            request_token: None,
            fast: true,
        });
        assert!(fast_auth.get_child("fast", fast::NS).is_some());
        assert!(fast_auth.get_child("bind", bind2::NS).is_none());
        assert!(fast_auth.get_child("resume", ns::SM).is_none());
    }

    #[test]
    fn prosody_success_with_bind2_sm_and_token_is_parsed() {
        // Verbatim from the probe against Prosody 0.12 + prosody-modules (report section 5.2).
        let e: Element = "<success xmlns='urn:xmpp:sasl:2'><additional-data>dj00VHhHNDlOanUzTzN4V1QrMFgrUWtQUTZ5amM9</additional-data><bound xmlns='urn:xmpp:bind:0'><enabled max='600' resume='1' id='DaeWAwSzRJBf' xmlns='urn:xmpp:sm:3'/><enabled xmlns='urn:xmpp:carbons:2'/></bound><token token='secret-token:fast-JhZQ4sYK9NmbNIMhtxMtxoQrnPIOaJnXwgEl' expiry='2026-12-17T00:59:21Z' xmlns='urn:xmpp:fast:0'/><authorization-identifier>alice@prosody.test/Linnet~BlLU21t5d/D4</authorization-identifier></success>"
            .parse()
            .unwrap();
        let s = parse_success(&e).unwrap();
        assert_eq!(
            s.additional_data.as_deref(),
            Some(&b"v=4TxG49Nju3O3xWT+0X+QkPQ6yjc="[..])
        );
        assert_eq!(
            s.authorization_identifier.as_deref(),
            Some("alice@prosody.test/Linnet~BlLU21t5d/D4")
        );
        let jid = jid::FullJid::new(s.authorization_identifier.as_deref().unwrap()).unwrap();
        assert_eq!(jid.resource().as_str(), "Linnet~BlLU21t5d/D4");
        let sm = s.bound.unwrap().stream_management.unwrap();
        assert_eq!(sm.id.as_deref(), Some("DaeWAwSzRJBf"));
        assert!(sm.resume);
        assert!(s.token.is_some());
        assert!(s.resumption.is_none());
    }

    #[test]
    fn inline_resumption_answers_are_parsed() {
        let resumed: Element = "<success xmlns='urn:xmpp:sasl:2'><additional-data>eA==</additional-data><resumed previd='DaeWAwSzRJBf' h='1' xmlns='urn:xmpp:sm:3'/><authorization-identifier>alice@prosody.test/Linnet~BlLU21t5d/D4</authorization-identifier></success>"
            .parse()
            .unwrap();
        assert_eq!(
            parse_success(&resumed).unwrap().resumption,
            Some(InlineResumption::Resumed {
                previd: Some("DaeWAwSzRJBf".into()),
                h: 1
            })
        );
        // Prosody wraps the condition in <error/>; XEP-0198 puts it directly inside.
        let wrapped: Element = "<success xmlns='urn:xmpp:sasl:2'><failed xmlns='urn:xmpp:sm:3'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></failed><bound xmlns='urn:xmpp:bind:0'><enabled max='600' resume='1' id='ORtlBYu0bXUi' xmlns='urn:xmpp:sm:3'/></bound></success>"
            .parse()
            .unwrap();
        let s = parse_success(&wrapped).unwrap();
        assert_eq!(
            s.resumption,
            Some(InlineResumption::Failed {
                h: None,
                condition: "item-not-found".into()
            })
        );
        assert!(s.bound.unwrap().stream_management.is_some());
        let direct: Element = "<success xmlns='urn:xmpp:sasl:2'><failed xmlns='urn:xmpp:sm:3' h='4'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed></success>"
            .parse()
            .unwrap();
        assert_eq!(
            parse_success(&direct).unwrap().resumption,
            Some(InlineResumption::Failed {
                h: Some(4),
                condition: "item-not-found".into()
            })
        );
        let bad_h: Element = "<success xmlns='urn:xmpp:sasl:2'><resumed previd='x' h='-1' xmlns='urn:xmpp:sm:3'/></success>"
            .parse()
            .unwrap();
        assert!(parse_success(&bad_h).is_err());
        let bad_b64: Element =
            "<success xmlns='urn:xmpp:sasl:2'><additional-data>!!!</additional-data></success>"
                .parse()
                .unwrap();
        assert!(parse_success(&bad_b64).is_err());
    }

    #[test]
    fn failures_map_to_the_classic_auth_errors() {
        let not_auth: Element = "<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>nope</text></failure>"
            .parse()
            .unwrap();
        assert!(matches!(
            failure_error(&not_auth, false),
            ConnectError::Auth(AuthError::WrongCredentials)
        ));
        // No namespace on the condition (seen on Prosody): still a condition.
        let malformed: Element = "<failure xmlns='urn:xmpp:sasl:2'><malformed-request/><text>FAST is not available on this stream</text></failure>"
            .parse()
            .unwrap();
        assert_eq!(
            failure_condition(&malformed),
            (
                Some("malformed-request".into()),
                Some("FAST is not available on this stream".into())
            )
        );
        let empty: Element = "<failure xmlns='urn:xmpp:sasl:2'/>".parse().unwrap();
        assert!(matches!(
            failure_error(&empty, false),
            ConnectError::Auth(AuthError::Temporary(_))
        ));
    }

    #[test]
    fn the_user_agent_id_is_stable_and_uuid_shaped() {
        let opts = ConnectOptions {
            resource: "linnet.abcdefgh".into(),
            ..ConnectOptions::default()
        };
        let a = user_agent_id(&opts);
        assert_eq!(a, user_agent_id(&opts));
        assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
        let other = ConnectOptions {
            resource: "linnet.other".into(),
            ..ConnectOptions::default()
        };
        assert_ne!(a, user_agent_id(&other));
        let given = ConnectOptions {
            user_agent_id: Some("given".into()),
            ..ConnectOptions::default()
        };
        assert_eq!(user_agent_id(&given), "given");
    }
}
