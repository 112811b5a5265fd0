//! Stream negotiation: TLS (STARTTLS or direct), SASL with Linnet's policy, resource binding and
//! stream management enablement. Produces a ready `XmlConnection` plus what was negotiated.
//!
//! When the server offers SASL2 (XEP-0388) it is preferred (`crate::sasl2`: Bind2, inline stream
//! management and FAST in one exchange); otherwise, or when `ConnectOptions::sasl2` is off, the
//! classic RFC 6120 path runs: SASL, restart, bind, enable.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jid::{BareJid, FullJid};
use minidom::Element;

use crate::connection::XmlConnection;
use crate::error::{AuthError, ConnectError, TlsFailure};
use crate::fast::FastToken;
use crate::ns;
use crate::sasl::{self, ChannelBindingType, Mechanism, ScramClient, SelectionInput};
use crate::sasl2;
use crate::secret::Secret;
use crate::tls::{self, TlsInfo, TlsSettings};
use crate::transport::{Connector, Target, TlsMode};
use crate::xml::Limits;

/// Who logs in.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub jid: BareJid,
    pub password: Secret,
}

/// How to log in.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The per-installation resource (`linnet.<random>`).
    pub resource: String,
    pub tls: TlsSettings,
    /// SCRAM has worked for this account before: PLAIN is then refused (downgrade protection).
    pub scram_seen: bool,
    pub limits: Limits,
    /// Maximum wait for each answer from the server during negotiation.
    pub step_timeout: Duration,
    pub enable_stream_management: bool,
    /// Try to resume this earlier session (XEP-0198) instead of binding a new one.
    pub resume: Option<ResumeRequest>,
    /// Use SASL2 (XEP-0388) when the server offers it; otherwise always classic SASL.
    pub sasl2: bool,
    /// The SASL2 user agent id: stable per installation. `None`: derived from `resource`.
    pub user_agent_id: Option<String>,
    /// A FAST token (XEP-0484) from an earlier login: tried first when the server offers FAST.
    pub fast_token: Option<Secret>,
    /// Ask for a FAST token on password logins (when the server offers FAST).
    pub request_fast_token: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            resource: format!("linnet.{}", random_suffix()),
            tls: TlsSettings::default(),
            scram_seen: false,
            limits: Limits::default(),
            step_timeout: Duration::from_secs(20),
            enable_stream_management: true,
            resume: None,
            sasl2: true,
            user_agent_id: None,
            fast_token: None,
            request_fast_token: true,
        }
    }
}

/// A random resource suffix: 8 characters from a CSPRNG.
pub fn random_suffix() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| {
            let i = rng.random_range(0..ALPHABET.len());
            ALPHABET.get(i).copied().map(char::from).unwrap_or('x')
        })
        .collect()
}

/// Stream management as enabled by the server (XEP-0198).
#[derive(Debug, Clone)]
pub struct StreamManagementInfo {
    pub id: Option<String>,
    pub resume: bool,
    pub max: Option<u32>,
    pub location: Option<String>,
}

/// A session to resume: its stream-management id and how many stanzas we received of it.
#[derive(Debug, Clone)]
pub struct ResumeRequest {
    pub previd: String,
    pub h: u32,
    pub bound_jid: FullJid,
    pub stream_management: StreamManagementInfo,
}

/// What came of a resumption request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumption {
    /// None was asked for.
    NotAttempted,
    /// The server resumed the session; it had received `h` of our stanzas.
    Resumed { h: u32 },
    /// The server refused (`<failed/>`, or no stream management offered); a new session was
    /// bound on the same connection. `h`, when the server sent it, says how many of our
    /// stanzas it had received.
    Refused { h: Option<u32>, condition: String },
}

/// What was negotiated: for the session, the store and the doctor report.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub bound_jid: FullJid,
    pub target: Target,
    pub tls: TlsInfo,
    pub offered_mechanisms: Vec<String>,
    pub mechanism: Mechanism,
    pub channel_binding: Option<ChannelBindingType>,
    /// XEP-0440 channel-binding types the server advertised, if it did.
    pub server_channel_bindings: Option<Vec<String>>,
    pub stream_management: Option<StreamManagementInfo>,
    pub stream_management_offered: bool,
    pub csi_offered: bool,
    /// Namespaces or names of the stream features after authentication.
    pub features: Vec<String>,
    pub resumption: Resumption,
    /// Authenticated with SASL2 (XEP-0388) rather than classic SASL.
    pub sasl2: bool,
    /// The resource was bound with Bind2 (XEP-0386) inside the SASL2 exchange.
    pub bind2: bool,
    /// Authenticated with a FAST token (XEP-0484, HT-SHA-256-NONE) instead of the password;
    /// `mechanism` is then the one the password would have used.
    pub fast: bool,
    /// A FAST token was offered and refused: forget it.
    pub fast_token_rejected: bool,
    /// A new FAST token from the server, to store (secret: take it out before sharing the info).
    pub fast_token: Option<FastToken>,
}

impl SessionInfo {
    pub fn used_scram(&self) -> bool {
        !matches!(self.mechanism, Mechanism::Plain)
    }

    /// The SASL mechanism that actually authenticated this session.
    pub fn authenticated_with(&self) -> &'static str {
        if self.fast {
            crate::fast::HT_SHA_256_NONE
        } else {
            self.mechanism.name()
        }
    }
}

/// Connects, secures, authenticates and binds. On success the stream is ready for stanzas.
///
/// A FAST token the server refuses costs one more connection: the password login then starts
/// over without it, and `SessionInfo::fast_token_rejected` says to forget it.
pub async fn connect(
    connector: &dyn Connector,
    creds: &Credentials,
    opts: &ConnectOptions,
) -> Result<(XmlConnection, SessionInfo), ConnectError> {
    if let Some(done) = connect_once(connector, creds, opts).await? {
        return Ok(done);
    }
    let without_token = ConnectOptions {
        fast_token: None,
        ..opts.clone()
    };
    match connect_once(connector, creds, &without_token).await? {
        Some((conn, mut info)) => {
            info.fast_token_rejected = true;
            Ok((conn, info))
        }
        None => Err(ConnectError::Protocol(
            "FAST refused without a token".into(),
        )),
    }
}

/// One connection attempt; `None` when the server refused the FAST token.
async fn connect_once(
    connector: &dyn Connector,
    creds: &Credentials,
    opts: &ConnectOptions,
) -> Result<Option<(XmlConnection, SessionInfo)>, ConnectError> {
    let domain = creds.jid.domain().as_str().to_string();
    let raw = connector.connect(&domain).await?;
    let target = raw.target.clone();
    let t = opts.step_timeout;

    // 1. TLS, mandatory: not one SASL byte before it.
    let (mut conn, tls_info) = match target.mode {
        TlsMode::DirectTls => {
            let (tls, info) = tls::handshake(raw.stream, &domain, &opts.tls, true).await?;
            (XmlConnection::new(Box::new(tls), opts.limits), info)
        }
        TlsMode::StartTls => {
            let mut plain = XmlConnection::new(raw.stream, opts.limits);
            plain.open_stream(&domain, t).await?;
            let features = plain.next_element(t, "stream features").await?;
            if features.get_child("starttls", ns::TLS).is_none() {
                return Err(ConnectError::Tls(TlsFailure::NotOffered));
            }
            plain
                .send_str("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                .await?;
            let answer = plain.next_element(t, "STARTTLS").await?;
            if !answer.is("proceed", ns::TLS) {
                return Err(ConnectError::Tls(TlsFailure::Handshake(format!(
                    "server answered <{}/> to STARTTLS",
                    answer.name()
                ))));
            }
            if plain.has_buffered_events() {
                return Err(ConnectError::Protocol(
                    "data injected after <proceed/>".into(),
                ));
            }
            let (tls, info) =
                tls::handshake(plain.into_stream(), &domain, &opts.tls, false).await?;
            (XmlConnection::new(Box::new(tls), opts.limits), info)
        }
    };
    tracing::debug!(tls = tls_info.version_name(), suite = %tls_info.cipher_suite, "TLS established");

    // 2. SASL (SASL2 when offered). The stream is TLS-protected now: say who we are.
    conn.open_stream_from(&domain, Some(creds.jid.as_str()), t)
        .await?;
    let features = conn.next_element(t, "stream features").await?;
    let server_cb = channel_binding_types(&features);
    let available = tls_info.available_channel_bindings();
    let select = |offered: &[String]| {
        sasl::select(&SelectionInput {
            offered,
            tls_version: tls_info.version,
            server_cb_types: server_cb.as_deref(),
            available_cb: &available,
            scram_seen: opts.scram_seen,
            allow_plain: true, // TLS is established at this point, always.
        })
    };
    let mut sasl2_offer = if opts.sasl2 {
        sasl2::parse_offer(&features)
    } else {
        None
    };
    // SASL2 with nothing we accept, while classic SASL offers something: classic it is.
    let classic = mechanisms(&features);
    if sasl2_offer
        .as_ref()
        .is_some_and(|o| select(&o.mechanisms).is_err() && select(&classic).is_ok())
    {
        tracing::debug!("no acceptable SASL2 mechanism; using classic SASL");
        sasl2_offer = None;
    }
    let offered = match &sasl2_offer {
        Some(o) => o.mechanisms.clone(),
        None => classic,
    };
    let selection = select(&offered).map_err(|e| match e {
        sasl::SaslError::NoAcceptableMechanism { offered } => {
            ConnectError::Auth(AuthError::NoAcceptableMechanism { offered })
        }
        other => ConnectError::Auth(AuthError::Protocol(other)),
    })?;
    tracing::debug!(
        mechanism = selection.mechanism.name(),
        "SASL mechanism chosen"
    );
    if let Some(offer) = sasl2_offer {
        let outcome =
            match sasl2::authenticate(&mut conn, creds, opts, &offer, &selection, &tls_info, t)
                .await?
            {
                sasl2::Attempt::Done(outcome) => *outcome,
                sasl2::Attempt::FastRejected => {
                    let _ = conn.send_str("</stream:stream>").await;
                    return Ok(None);
                }
            };
        let common = Common {
            target,
            tls: tls_info,
            offered_mechanisms: offered,
            mechanism: selection.mechanism,
            channel_binding: selection.channel_binding,
            server_channel_bindings: server_cb,
            // From the features that came with the success.
            sm_offered: false,
            csi_offered: false,
            features: Vec::new(),
        };
        return after_sasl2(conn, creds, opts, &offer, outcome, common)
            .await
            .map(Some);
    }
    authenticate(&mut conn, creds, &selection, &offered, &tls_info, t).await?;

    // 3. Restart, then resume or bind (and enable stream management).
    conn.open_stream_from(&domain, Some(creds.jid.as_str()), t)
        .await?;
    let features = conn.next_element(t, "stream features").await?;
    let feature_names = feature_names(&features);
    let sm_offered = features.get_child("sm", ns::SM).is_some();
    let csi_offered = features.get_child("csi", ns::CSI).is_some();
    let common = Common {
        target,
        tls: tls_info,
        offered_mechanisms: offered,
        mechanism: selection.mechanism,
        channel_binding: selection.channel_binding,
        server_channel_bindings: server_cb,
        sm_offered,
        csi_offered,
        features: feature_names,
    };
    let mut resumption = Resumption::NotAttempted;
    if let Some(request) = &opts.resume {
        resumption = resume_if_offered(&mut conn, request, sm_offered, t).await?;
        if let Resumption::Resumed { .. } = resumption {
            let sm = Some(request.stream_management.clone());
            return Ok(Some((
                conn,
                common.into_info(request.bound_jid.clone(), sm, resumption),
            )));
        }
    }
    let (bound_jid, stream_management) = bind_and_enable(&mut conn, &features, opts, t).await?;
    Ok(Some((
        conn,
        common.into_info(bound_jid, stream_management, resumption),
    )))
}

/// What every path records in `SessionInfo` about transport and SASL.
struct Common {
    target: Target,
    tls: TlsInfo,
    offered_mechanisms: Vec<String>,
    mechanism: Mechanism,
    channel_binding: Option<ChannelBindingType>,
    server_channel_bindings: Option<Vec<String>>,
    sm_offered: bool,
    csi_offered: bool,
    /// Namespaces or names of the stream features after authentication.
    features: Vec<String>,
}

impl Common {
    /// The session as negotiated the classic way (the SASL2 path sets its own flags on top).
    fn into_info(
        self,
        bound_jid: FullJid,
        stream_management: Option<StreamManagementInfo>,
        resumption: Resumption,
    ) -> SessionInfo {
        SessionInfo {
            bound_jid,
            target: self.target,
            tls: self.tls,
            offered_mechanisms: self.offered_mechanisms,
            mechanism: self.mechanism,
            channel_binding: self.channel_binding,
            server_channel_bindings: self.server_channel_bindings,
            stream_management,
            stream_management_offered: self.sm_offered,
            csi_offered: self.csi_offered,
            features: self.features,
            resumption,
            sasl2: false,
            bind2: false,
            fast: false,
            fast_token_rejected: false,
            fast_token: None,
        }
    }
}

/// After a SASL2 success: the session as Bind2 / inline SM left it, or, for what the server did
/// not do inline, the classic steps on the same stream (no restart: its features came with the
/// success).
async fn after_sasl2(
    mut conn: XmlConnection,
    creds: &Credentials,
    opts: &ConnectOptions,
    offer: &sasl2::Offer,
    outcome: sasl2::Outcome,
    mut common: Common,
) -> Result<(XmlConnection, SessionInfo), ConnectError> {
    let t = opts.step_timeout;
    let sasl2::Outcome {
        mut success,
        fast_used,
        bind_sent,
        sm_enable_sent,
        resume_sent,
        features,
    } = outcome;
    let authorized = match success.authorization_identifier.as_deref() {
        Some(text) => Some(jid::Jid::new(text).map_err(|e| {
            ConnectError::Protocol(format!("invalid authorization identifier: {e}"))
        })?),
        None => None,
    };
    if let Some(j) = &authorized
        && j.to_bare() != creds.jid
    {
        return Err(ConnectError::Protocol(
            "the server authorized another account".into(),
        ));
    }
    common.sm_offered = offer.inline_sm || features.get_child("sm", ns::SM).is_some();
    common.csi_offered = features.get_child("csi", ns::CSI).is_some()
        || offer.bind2.as_ref().is_some_and(|b| b.inline(ns::CSI));
    common.features = feature_names(&features);
    let fast_token = success.token.take();
    let base = move |bound_jid: FullJid, stream_management, resumption, bind2: bool| SessionInfo {
        sasl2: true,
        bind2,
        fast: fast_used,
        fast_token,
        ..common.into_info(bound_jid, stream_management, resumption)
    };

    // Resumption: inline, or (SM not inline) the classic way now.
    let mut resumption = Resumption::NotAttempted;
    if let Some(request) = &opts.resume {
        resumption = if resume_sent {
            match success.resumption.take() {
                Some(sasl2::InlineResumption::Resumed { previd, h }) => {
                    if previd.as_deref().is_some_and(|p| p != request.previd) {
                        return Err(ConnectError::Protocol(
                            "<resumed/> names another session".into(),
                        ));
                    }
                    Resumption::Resumed { h }
                }
                Some(sasl2::InlineResumption::Failed { h, condition }) => {
                    tracing::info!(%condition, ?h, "the server refused to resume the session");
                    Resumption::Refused { h, condition }
                }
                None => Resumption::Refused {
                    h: None,
                    condition: "no answer to the inline resumption".into(),
                },
            }
        } else {
            let offered = features.get_child("sm", ns::SM).is_some() && !bind_sent;
            resume_if_offered(&mut conn, request, offered, t).await?
        };
        if let Resumption::Resumed { .. } = resumption {
            let sm = Some(request.stream_management.clone());
            let info = base(request.bound_jid.clone(), sm, resumption, false);
            return Ok((conn, info));
        }
    }

    // Bound inline (Bind2), or bind now.
    if bind_sent && let Some(bound) = success.bound.take() {
        let Some(Ok(full)) = authorized.map(|j| j.try_into_full()) else {
            return Err(ConnectError::Bind(
                "Bind2 succeeded without a full JID in the authorization identifier".into(),
            ));
        };
        let stream_management = match bound.stream_management {
            Some(sm) => Some(sm),
            None if !sm_enable_sent
                && opts.enable_stream_management
                && features.get_child("sm", ns::SM).is_some() =>
            {
                enable_stream_management(&mut conn, t).await?
            }
            None => None,
        };
        let info = base(full, stream_management, resumption, true);
        return Ok((conn, info));
    }
    let (bound_jid, stream_management) = bind_and_enable(&mut conn, &features, opts, t).await?;
    let info = base(bound_jid, stream_management, resumption, false);
    Ok((conn, info))
}

/// Classic resource binding (RFC 6120 §7), the legacy session if the server requires it, and
/// stream management if offered and wanted.
async fn bind_and_enable(
    conn: &mut XmlConnection,
    features: &Element,
    opts: &ConnectOptions,
    t: Duration,
) -> Result<(FullJid, Option<StreamManagementInfo>), ConnectError> {
    let bound_jid = bind(conn, &opts.resource, t).await?;
    if let Some(session) = features.get_child("session", "urn:ietf:params:xml:ns:xmpp-session")
        && session
            .get_child("optional", "urn:ietf:params:xml:ns:xmpp-session")
            .is_none()
    {
        legacy_session(conn, t).await?;
    }
    let stream_management =
        if features.get_child("sm", ns::SM).is_some() && opts.enable_stream_management {
            enable_stream_management(conn, t).await?
        } else {
            None
        };
    Ok((bound_jid, stream_management))
}

fn mechanisms(features: &Element) -> Vec<String> {
    features
        .get_child("mechanisms", ns::SASL)
        .map(|m| {
            m.children()
                .filter(|c| c.is("mechanism", ns::SASL))
                .map(|c| c.text().trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn channel_binding_types(features: &Element) -> Option<Vec<String>> {
    features
        .get_child("sasl-channel-binding", "urn:xmpp:sasl-cb:0")
        .map(|cb| {
            cb.children()
                .filter(|c| c.name() == "channel-binding")
                .filter_map(|c| c.attr("type").map(str::to_string))
                .collect()
        })
}

fn feature_names(features: &Element) -> Vec<String> {
    features
        .children()
        .map(|c| format!("{}#{}", c.ns(), c.name()))
        .collect()
}

fn sasl_element(name: &str, mechanism: Option<&str>, data: &[u8]) -> Element {
    let mut b = Element::builder(name, ns::SASL);
    if let Some(m) = mechanism {
        b = b.attr(rxml::xml_ncname!("mechanism").into(), m);
    }
    // An empty response is sent as "=" per RFC 6120 §6.4.2.
    let text = if data.is_empty() {
        "=".to_string()
    } else {
        B64.encode(data)
    };
    b.append(text).build()
}

fn sasl_payload(e: &Element) -> Result<Vec<u8>, ConnectError> {
    let text = e.text();
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    B64.decode(text)
        .map_err(|_| ConnectError::Auth(AuthError::Protocol(sasl::SaslError::Malformed("base64"))))
}

fn sasl_failure(e: &Element, used_channel_binding: bool) -> ConnectError {
    let condition = e
        .children()
        .find(|c| c.ns() == ns::SASL && c.name() != "text")
        .map(|c| c.name().to_string());
    let text = e.children().find(|c| c.name() == "text").map(|c| c.text());
    ConnectError::Auth(auth_error(condition.as_deref(), text, used_channel_binding))
}

/// A SASL failure condition (RFC 6120 §6.5) as the typed error the UI shows; shared by classic
/// SASL and SASL2.
pub(crate) fn auth_error(
    condition: Option<&str>,
    text: Option<String>,
    used_channel_binding: bool,
) -> AuthError {
    match condition {
        Some("not-authorized") if used_channel_binding => AuthError::ChannelBindingRejected,
        Some("not-authorized") | Some("credentials-expired") => AuthError::WrongCredentials,
        Some("account-disabled") | Some("temporary-auth-failure") => {
            AuthError::Temporary(text.unwrap_or_else(|| condition.unwrap_or_default().to_string()))
        }
        Some("invalid-mechanism") | Some("mechanism-too-weak") | Some("encryption-required") => {
            AuthError::NoAcceptableMechanism {
                offered: Vec::new(),
            }
        }
        other => AuthError::Temporary(format!(
            "{}{}",
            other.unwrap_or("failure"),
            text.map(|t| format!(": {t}")).unwrap_or_default()
        )),
    }
}

async fn authenticate(
    conn: &mut XmlConnection,
    creds: &Credentials,
    selection: &sasl::Selection,
    offered: &[String],
    tls: &TlsInfo,
    t: Duration,
) -> Result<(), ConnectError> {
    let username = creds
        .jid
        .node()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let mechanism = selection.mechanism;
    let used_cb = selection.channel_binding.is_some();
    let Some(hash) = mechanism.scram_hash() else {
        // PLAIN: one round.
        let initial =
            sasl::plain_initial(None, &username, creds.password.expose()).map_err(auth_protocol)?;
        conn.send_element(&sasl_element(
            "auth",
            Some(mechanism.name()),
            initial.expose(),
        ))
        .await?;
        let answer = conn.next_element(t, "SASL").await?;
        return match answer.name() {
            "success" if answer.ns() == ns::SASL => Ok(()),
            "failure" if answer.ns() == ns::SASL => Err(sasl_failure(&answer, false)),
            other => Err(ConnectError::Protocol(format!(
                "unexpected <{other}/> during SASL"
            ))),
        };
    };
    let mut scram = scram_client(hash, &username, creds, selection, tls, offered)?;
    conn.send_element(&sasl_element(
        "auth",
        Some(mechanism.name()),
        &scram.client_first(),
    ))
    .await?;
    let mut verified = false;
    let mut sent_client_final = false;
    loop {
        let answer = conn.next_element(t, "SASL").await?;
        if answer.ns() != ns::SASL {
            return Err(ConnectError::Protocol(format!(
                "unexpected <{}/> during SASL",
                answer.name()
            )));
        }
        match answer.name() {
            "challenge" if !sent_client_final => {
                let reply = scram
                    .handle_server_first(&sasl_payload(&answer)?)
                    .map_err(auth_protocol)?;
                conn.send_element(&sasl_element("response", None, &reply))
                    .await?;
                sent_client_final = true;
            }
            "challenge" if !verified => {
                // Some servers send server-final in a challenge, then an empty success.
                scram
                    .verify_server_final(&sasl_payload(&answer)?)
                    .map_err(auth_protocol)?;
                verified = true;
                conn.send_element(&sasl_element("response", None, &[]))
                    .await?;
            }
            "success" => {
                let data = sasl_payload(&answer)?;
                if !verified {
                    // The server signature is mandatory: a success without it is not trusted.
                    scram.verify_server_final(&data).map_err(auth_protocol)?;
                }
                return Ok(());
            }
            "failure" => return Err(sasl_failure(&answer, used_cb)),
            other => {
                return Err(ConnectError::Protocol(format!(
                    "unexpected <{other}/> during SASL"
                )));
            }
        }
    }
}

pub(crate) fn auth_protocol(e: sasl::SaslError) -> ConnectError {
    ConnectError::Auth(AuthError::Protocol(e))
}

/// A SCRAM exchange for the selected mechanism, with channel binding when one was chosen (the
/// same for classic SASL and SASL2: only the wrapping elements differ).
pub(crate) fn scram_client(
    hash: sasl::ScramHash,
    username: &str,
    creds: &Credentials,
    selection: &sasl::Selection,
    tls: &TlsInfo,
    offered: &[String],
) -> Result<ScramClient, ConnectError> {
    let cb = match selection.channel_binding {
        Some(kind) => Some((
            kind,
            tls.channel_binding_data(kind)
                .ok_or(auth_protocol(sasl::SaslError::Malformed(
                    "channel binding data unavailable",
                )))?,
        )),
        None => None,
    };
    let server_offered_plus = offered.iter().any(|m| m.ends_with("-PLUS"));
    ScramClient::new(
        hash,
        username,
        creds.password.expose(),
        cb,
        server_offered_plus,
    )
    .map_err(auth_protocol)
}

async fn bind(
    conn: &mut XmlConnection,
    resource: &str,
    t: Duration,
) -> Result<FullJid, ConnectError> {
    let iq = Element::builder("iq", ns::CLIENT)
        .attr(rxml::xml_ncname!("type").into(), "set")
        .attr(rxml::xml_ncname!("id").into(), "bind-1")
        .append(
            Element::builder("bind", ns::BIND)
                .append(
                    Element::builder("resource", ns::BIND)
                        .append(resource)
                        .build(),
                )
                .build(),
        )
        .build();
    conn.send_element(&iq).await?;
    let answer = conn.next_element(t, "resource binding").await?;
    if !answer.is("iq", ns::CLIENT) || answer.attr("id") != Some("bind-1") {
        return Err(ConnectError::Protocol(format!(
            "unexpected <{}/> while binding",
            answer.name()
        )));
    }
    if answer.attr("type") != Some("result") {
        let condition = answer
            .get_child("error", ns::CLIENT)
            .and_then(|e| {
                e.children()
                    .find(|c| c.ns() == ns::STANZAS)
                    .map(|c| c.name().to_string())
            })
            .unwrap_or_else(|| "unknown error".into());
        return Err(ConnectError::Bind(condition));
    }
    let jid_text = answer
        .get_child("bind", ns::BIND)
        .and_then(|b| b.get_child("jid", ns::BIND))
        .map(|j| j.text())
        .ok_or_else(|| ConnectError::Bind("no JID in the bind result".into()))?;
    FullJid::new(jid_text.trim()).map_err(|e| ConnectError::Bind(format!("invalid bound JID: {e}")))
}

async fn legacy_session(conn: &mut XmlConnection, t: Duration) -> Result<(), ConnectError> {
    let iq = Element::builder("iq", ns::CLIENT)
        .attr(rxml::xml_ncname!("type").into(), "set")
        .attr(rxml::xml_ncname!("id").into(), "session-1")
        .append(Element::builder("session", "urn:ietf:params:xml:ns:xmpp-session").build())
        .build();
    conn.send_element(&iq).await?;
    let answer = conn.next_element(t, "session establishment").await?;
    if answer.attr("type") != Some("result") {
        return Err(ConnectError::Protocol(
            "session establishment refused".into(),
        ));
    }
    Ok(())
}

/// Resumes when the server offers stream management; a refusal without asking otherwise.
async fn resume_if_offered(
    conn: &mut XmlConnection,
    request: &ResumeRequest,
    offered: bool,
    t: Duration,
) -> Result<Resumption, ConnectError> {
    if offered {
        resume(conn, request, t).await
    } else {
        Ok(Resumption::Refused {
            h: None,
            condition: "stream management not offered".into(),
        })
    }
}

/// Asks the server to resume an earlier session (XEP-0198 section 5).
async fn resume(
    conn: &mut XmlConnection,
    request: &ResumeRequest,
    t: Duration,
) -> Result<Resumption, ConnectError> {
    let element = Element::builder("resume", ns::SM)
        .attr(rxml::xml_ncname!("h").into(), request.h.to_string())
        .attr(rxml::xml_ncname!("previd").into(), request.previd.as_str())
        .build();
    conn.send_element(&element).await?;
    let answer = conn.next_element(t, "stream resumption").await?;
    let h = answer.attr("h").and_then(|h| h.parse::<u32>().ok());
    if answer.is("resumed", ns::SM) {
        let Some(h) = h else {
            return Err(ConnectError::Protocol(
                "<resumed/> without a valid h".into(),
            ));
        };
        if answer.attr("previd") != Some(request.previd.as_str()) {
            return Err(ConnectError::Protocol(
                "<resumed/> names another session".into(),
            ));
        }
        Ok(Resumption::Resumed { h })
    } else if answer.is("failed", ns::SM) {
        let condition = answer
            .children()
            .next()
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| "undefined-condition".into());
        tracing::info!(%condition, ?h, "the server refused to resume the session");
        Ok(Resumption::Refused { h, condition })
    } else {
        Err(ConnectError::Protocol(format!(
            "unexpected <{}/> while resuming",
            answer.name()
        )))
    }
}

async fn enable_stream_management(
    conn: &mut XmlConnection,
    t: Duration,
) -> Result<Option<StreamManagementInfo>, ConnectError> {
    conn.send_str("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        .await?;
    // ejabberd hands a new session the unacknowledged stanzas of the previous one with the same
    // resource right after bind, before <enabled/>: they belong to the session, uncounted.
    let is_stanza =
        |e: &Element| e.ns() == ns::CLIENT && matches!(e.name(), "message" | "presence" | "iq");
    let (answer, early) = conn
        .answer_after_early(t, "stream management", |e| !is_stanza(e))
        .await?;
    conn.uncounted += early;
    if answer.is("enabled", ns::SM) {
        Ok(Some(parse_enabled(&answer)))
    } else if answer.is("failed", ns::SM) {
        tracing::debug!("server refused to enable stream management");
        Ok(None)
    } else {
        Err(ConnectError::Protocol(format!(
            "unexpected <{}/> while enabling stream management",
            answer.name()
        )))
    }
}

/// An SM `<enabled/>` (XEP-0198), standalone or inside Bind2's `<bound/>`.
pub(crate) fn parse_enabled(answer: &Element) -> StreamManagementInfo {
    StreamManagementInfo {
        id: answer.attr("id").map(str::to_string),
        resume: matches!(answer.attr("resume"), Some("true") | Some("1")),
        max: answer.attr("max").and_then(|m| m.parse().ok()),
        location: answer.attr("location").map(str::to_string),
    }
}
