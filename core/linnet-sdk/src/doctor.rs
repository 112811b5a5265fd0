//! The doctor report: what the server offers and what Linnet chose, for people debugging a
//! connection and for beta testers' bug reports. Contains no secrets and no message content.

use linnet_xmpp::disco::{self, DiscoInfo};
use linnet_xmpp::session::SessionHandle;
use linnet_xmpp::upload;
use linnet_xmpp::{Jid, ns};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub bound_jid: String,
    pub server: String,
    pub connection: String,
    pub tls_version: String,
    pub tls_cipher: String,
    pub sasl_offered: Vec<String>,
    pub sasl_chosen: String,
    pub channel_binding: Option<String>,
    /// "SASL2 (XEP-0388)" or "SASL (RFC 6120)", with Bind2 / FAST when they were used.
    pub authentication: String,
    pub sasl2: bool,
    pub fast: bool,
    pub stream_management: String,
    /// This client's sessions so far: new logins, resumptions, refused resumptions.
    pub sessions: String,
    /// Since when (Unix ms) messages may be missing here (a session lost unresumed), if so.
    pub history_gap_since: Option<i64>,
    /// Where archive sync (XEP-0313) stands on this device: synced or not, open gaps.
    pub archive_sync: String,
    pub csi: bool,
    pub carbons: bool,
    pub mam: bool,
    pub upload: Option<UploadService>,
    pub push: bool,
    pub external_services: bool,
    pub server_features: Vec<String>,
}

impl DoctorReport {
    /// The report as indented JSON, for bug reports and `linnet doctor --json`.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UploadService {
    pub jid: String,
    pub max_file_size: Option<u64>,
}

async fn info(handle: &SessionHandle, to: Option<Jid>) -> DiscoInfo {
    match handle.iq(disco::info_request(handle.new_id(), to)).await {
        Ok(payload) => disco::parse_info(payload.as_ref()),
        Err(_) => DiscoInfo::default(),
    }
}

/// What the client knows beyond the current session.
pub(crate) struct ClientFacts {
    pub carbons_enabled: bool,
    pub stats: crate::ConnectionStats,
    pub history_gap_since: Option<i64>,
    pub archive_sync: String,
}

pub(crate) async fn report(handle: &SessionHandle, facts: ClientFacts) -> DoctorReport {
    let carbons_enabled = facts.carbons_enabled;
    let stats = facts.stats;
    let session = handle.info();
    let own_bare = Jid::from(session.bound_jid.to_bare());
    let domain = Jid::from(linnet_xmpp::BareJid::from_parts(
        None,
        session.bound_jid.domain(),
    ));
    let server = info(handle, Some(domain.clone())).await;
    let account = info(handle, Some(own_bare)).await;
    let upload = find_upload(handle, domain).await;
    let sm = match &session.stream_management {
        Some(sm) if sm.resume => "enabled, resumable".to_string(),
        Some(_) => "enabled, not resumable".to_string(),
        None if session.stream_management_offered => "offered, not enabled".to_string(),
        None => "not offered".to_string(),
    };
    DoctorReport {
        bound_jid: session.bound_jid.to_string(),
        server: session.target.to_string(),
        connection: format!("{:?}", session.target.mode),
        tls_version: session.tls.version_name().to_string(),
        tls_cipher: session.tls.cipher_suite.clone(),
        sasl_offered: session.offered_mechanisms.clone(),
        sasl_chosen: session.authenticated_with().to_string(),
        channel_binding: session.channel_binding.map(|c| format!("{c:?}")),
        authentication: authentication(&session),
        sasl2: session.sasl2,
        fast: session.fast,
        stream_management: sm,
        sessions: format!(
            "{} new, {} resumed, {} resumptions refused",
            stats.fresh_sessions, stats.resumes, stats.resumes_refused
        ),
        history_gap_since: facts.history_gap_since,
        archive_sync: facts.archive_sync,
        csi: session.csi_offered,
        carbons: carbons_enabled,
        mam: account.has(ns::MAM) || server.has(ns::MAM),
        upload,
        push: account.has(ns::PUSH) || server.has(ns::PUSH),
        external_services: server.has(ns::EXTDISCO),
        server_features: server.features,
    }
}

fn authentication(session: &linnet_xmpp::negotiate::SessionInfo) -> String {
    if !session.sasl2 {
        return "SASL (RFC 6120)".into();
    }
    let mut s = String::from("SASL2 (XEP-0388)");
    if session.bind2 {
        s.push_str(", Bind2 (XEP-0386)");
    }
    if session.fast {
        s.push_str(", FAST token (XEP-0484)");
    }
    s
}

/// The upload service (XEP-0363), as `linnet_xmpp::upload::discover` finds it; `None` also when
/// discovery failed (the report must not fail for it).
async fn find_upload(handle: &SessionHandle, domain: Jid) -> Option<UploadService> {
    let service = upload::discover(handle, domain).await.ok()??;
    Some(UploadService {
        jid: service.jid.to_string(),
        max_file_size: service.max_file_size,
    })
}
