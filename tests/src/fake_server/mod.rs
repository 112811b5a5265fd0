//! A scripted fake XMPP server behind Linnet's transport trait, for adversarial tests.
//!
//! [`FakeServer`] implements [`Connector`]: every `connect` creates an in-memory
//! `tokio::io::duplex` pair, hands one end to the client and runs the test's *script* on the
//! other end. The client then does everything it does against a real server (TLS with
//! certificate validation, SASL, bind, the session), so a script exercises the product's real
//! code paths. The server side speaks real TLS (tokio-rustls) with a certificate from a throwaway
//! CA made with rcgen for each `FakeServer`; the client trusts that CA only because the test
//! passes [`FakeServer::ca_pem`] (through [`FakeServer::account_settings`] or
//! [`FakeServer::tls_settings`]).
//!
//! # Writing a case
//!
//! ```ignore
//! let server = FakeServer::new(|mut s: ServerConn| async move {
//!     s.login().await;                 // TLS, PLAIN, bind
//!     s.serve_session_basics().await;  // roster get, carbons enable, initial presence
//!     s.send("<message from='mallory@evil.example/x' type='chat'>...</message>").await;
//!     s.barrier().await;               // the SDK has handled everything sent before
//!     s.signal("handled");
//!     s.drain_until_closed().await;    // keep the connection until the client leaves
//! });
//! let mut c = FakeClient::connected(&server).await;
//! server.wait_for("handled").await;
//! assert!(c.client.chats().unwrap().is_empty());
//! c.client.disconnect().await;
//! server.finish().await;               // joins the script, re-raises its assertion failures
//! ```
//!
//! With a bare [`SessionClient`], let the script wait for a signal from the test before it
//! attacks the running session: bytes sent right after the bind result can arrive in the same
//! read as it and then hit negotiation instead of the session.
//!
//! The script runs once per connection ([`ServerConn::index`] tells which). Its helpers panic
//! with a clear message when the client does something else than expected, and
//! [`FakeServer::finish`] re-raises that panic in the test. Every read has a deadline
//! ([`ServerConn::set_timeout`], 5 s by default), so a test never hangs.
//!
//! * Reading: [`ServerConn::next`] (next top-level element from the client),
//!   [`ServerConn::expect`] (asserts its name), [`ServerConn::drain_until_closed`],
//!   [`ServerConn::expect_hangup`] (asserts the client sends nothing more and goes).
//! * Writing: [`ServerConn::send`], [`ServerConn::send_raw`] (any bytes, even invalid UTF-8),
//!   `try_` variants for when the client may already have hung up.
//! * Preamble: [`ServerConn::secure`] (STARTTLS or direct TLS, per [`FakeConfig::mode`];
//!   [`ServerConn::accept_starttls`] and [`ServerConn::start_tls`] are the two halves),
//!   [`ServerConn::offer_mechanisms`], [`ServerConn::accept_plain_auth`],
//!   [`ServerConn::accept_scram`] (RFC 5802 server side, with channel binding checks and knobs
//!   to misbehave), [`ServerConn::accept_bind`], [`ServerConn::enable_sm`], and the
//!   shortcuts [`ServerConn::login`], [`ServerConn::login_with_sm`], [`ServerConn::login_scram`].
//! * Session: [`ServerConn::serve_session_basics`] answers the SDK's connect sequence,
//!   [`ServerConn::barrier`] waits until the SDK processed everything sent so far (a disco#info
//!   request the SDK answers in order), stream management `<r/>` is answered automatically
//!   unless [`ServerConn::set_acks`] says otherwise.
//! * Coordination with the test: [`ServerConn::signal`] / [`FakeServer::wait_for`] and
//!   [`FakeServer::signal`] / [`ServerConn::wait_for`].
//! * Certificates: [`FakeConfig::cert_names`] presents a certificate for other names,
//!   [`FakeConfig::target_host`] pretends DNS pointed elsewhere, [`FakeConfig::tls12_only`].
//!
//! On the client side, [`FakeClient`] is a `Linnet` in a temporary directory with one account
//! served by the fake, and [`FakeServer::negotiate`] / [`SessionClient`] drive
//! `linnet_xmpp::negotiate` and `linnet_xmpp::session` directly when a test needs the typed
//! protocol-layer errors.

mod client;
mod conn;
mod scram;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_sdk::AccountSettings;
use linnet_xmpp::BareJid;
use linnet_xmpp::connection::XmlConnection;
use linnet_xmpp::error::ConnectError;
use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials, SessionInfo};
use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{BoxFuture, Connector, RawConnection, Target};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use client::{FakeClient, LogCapture, SessionClient, fast_config};
pub use conn::{Acks, Basics, PlainAuth, SM_FEATURE, ServerConn, show};
pub use linnet_xmpp::transport::TlsMode;
pub use scram::{ScramOptions, ScramOutcome, ScramTranscript, ServerNonce};

/// Default password of the fake account.
pub const PASSWORD: &str = "fake-password-7f3a9c";

/// What the fake server is and how it presents itself.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The XMPP domain (what the client validates the certificate against).
    pub domain: String,
    /// Localpart of the one account.
    pub user: String,
    pub password: String,
    /// STARTTLS (features first) or direct TLS from the first byte.
    pub mode: TlsMode,
    /// DNS names in the server certificate; `None`: the domain. Set to another name to present a
    /// certificate that is not valid for the domain.
    pub cert_names: Option<Vec<String>>,
    /// The host the connector claims to have connected to (as if DNS SRV said so); `None`: the
    /// domain. A certificate for this host but not for the domain must still be refused.
    pub target_host: Option<String>,
    /// Negotiate TLS 1.2 only (default: TLS 1.3 and 1.2, so 1.3).
    pub tls12_only: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            domain: "fake.test".into(),
            user: "user".into(),
            password: PASSWORD.into(),
            mode: TlsMode::StartTls,
            cert_names: None,
            target_host: None,
            tls12_only: false,
        }
    }
}

type Script = Arc<dyn Fn(ServerConn) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// State shared by the server handle and every connection's script.
pub(crate) struct Shared {
    pub(crate) config: FakeConfig,
    pub(crate) tls: Arc<rustls::ServerConfig>,
    ca_pem: String,
    signals: watch::Sender<HashSet<String>>,
}

impl Shared {
    pub(crate) fn signal(&self, name: &str) {
        self.signals.send_modify(|s| {
            s.insert(name.to_string());
        });
    }

    pub(crate) async fn wait_for(&self, name: &str, timeout: Duration) {
        let mut rx = self.signals.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|s| s.contains(name))).await;
        assert!(
            matches!(waited, Ok(Ok(_))),
            "timed out after {timeout:?} waiting for signal '{name}'"
        );
    }
}

/// The scripted fake server. Cheap to clone; every clone is the same server.
#[derive(Clone)]
pub struct FakeServer {
    shared: Arc<Shared>,
    script: Script,
    connections: Arc<AtomicUsize>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl FakeServer {
    /// A server for `user@fake.test` over STARTTLS that runs `script` for every connection.
    pub fn new<F, Fut>(script: F) -> Self
    where
        F: Fn(ServerConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::with_config(FakeConfig::default(), script)
    }

    pub fn with_config<F, Fut>(config: FakeConfig, script: F) -> Self
    where
        F: Fn(ServerConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (ca_pem, tls) = make_pki(&config);
        let (signals, _) = watch::channel(HashSet::new());
        FakeServer {
            shared: Arc::new(Shared {
                config,
                tls,
                ca_pem,
                signals,
            }),
            script: Arc::new(move |conn| Box::pin(script(conn))),
            connections: Arc::new(AtomicUsize::new(0)),
            tasks: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// PEM of the CA that issued the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.shared.ca_pem
    }

    pub fn domain(&self) -> &str {
        &self.shared.config.domain
    }

    /// The account's bare JID, `user@fake.test`.
    pub fn jid(&self) -> String {
        format!("{}@{}", self.shared.config.user, self.shared.config.domain)
    }

    /// How many connections the client opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// This server as the connector the SDK or `negotiate::connect` uses.
    pub fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(self.clone())
    }

    /// Account settings that trust the fake CA (the connector decides where to connect).
    pub fn account_settings(&self) -> AccountSettings {
        AccountSettings {
            server: None,
            direct_tls: self.shared.config.mode == TlsMode::DirectTls,
            ca_pem: Some(self.shared.ca_pem.clone()),
        }
    }

    /// TLS settings that trust only the fake CA.
    pub fn tls_settings(&self) -> TlsSettings {
        TlsSettings {
            extra_ca_pem: Some(self.shared.ca_pem.clone()),
            only_extra_ca: true,
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            jid: BareJid::new(&self.jid()).expect("valid fake JID"),
            password: self.shared.config.password.as_str().into(),
        }
    }

    /// Options for `negotiate::connect` with short deadlines, trusting the fake CA.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            resource: "fake-res".into(),
            tls: self.tls_settings(),
            step_timeout: Duration::from_secs(5),
            ..ConnectOptions::default()
        }
    }

    /// Runs the protocol layer's negotiation against this server.
    pub async fn negotiate(&self) -> Result<(XmlConnection, SessionInfo), ConnectError> {
        self.negotiate_with(&self.connect_options()).await
    }

    pub async fn negotiate_with(
        &self,
        opts: &ConnectOptions,
    ) -> Result<(XmlConnection, SessionInfo), ConnectError> {
        negotiate::connect(self, &self.credentials(), opts).await
    }

    /// Lets a script waiting in [`ServerConn::wait_for`] go on.
    pub fn signal(&self, name: &str) {
        self.shared.signal(name);
    }

    /// Waits (up to 5 s) until a script called [`ServerConn::signal`] with `name`. A script that
    /// fails meanwhile has its assertion failure re-raised here.
    pub async fn wait_for(&self, name: &str) {
        let timeout = Duration::from_secs(5);
        let mut rx = self.shared.signals.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let poll = tokio::time::Instant::now() + Duration::from_millis(20);
            tokio::select! {
                r = rx.wait_for(|s| s.contains(name)) => {
                    assert!(r.is_ok(), "signals closed");
                    return;
                }
                _ = tokio::time::sleep_until(poll.min(deadline)) => {}
            }
            self.check_scripts().await;
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for signal '{name}' from the script"
            );
        }
    }

    /// Re-raises the failure of any script that has ended.
    pub async fn check_scripts(&self) {
        let ended: Vec<JoinHandle<()>> = {
            let mut tasks = self.tasks.lock().unwrap();
            let (ended, running) = tasks.drain(..).partition(|t| t.is_finished());
            *tasks = running;
            ended
        };
        for task in ended {
            if let Err(e) = task.await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
                panic!("fake server script failed: {e}");
            }
        }
    }

    /// Waits (up to 10 s) for every script started so far to end, and re-raises the first
    /// assertion failure of a script in the test.
    pub async fn finish(&self) {
        self.finish_within(Duration::from_secs(10)).await;
    }

    pub async fn finish_within(&self, timeout: Duration) {
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.tasks.lock().unwrap());
        let deadline = tokio::time::Instant::now() + timeout;
        for task in tasks {
            match tokio::time::timeout_at(deadline, task).await {
                Err(_) => panic!("fake server script still running after {timeout:?}"),
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Ok(Err(e)) => panic!("fake server script failed: {e}"),
            }
        }
    }
}

impl Connector for FakeServer {
    fn connect<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<RawConnection, ConnectError>> {
        Box::pin(async move {
            assert_eq!(
                domain, self.shared.config.domain,
                "the client asked the fake server for another domain"
            );
            let index = self.connections.fetch_add(1, Ordering::SeqCst);
            let (client_end, server_end) = tokio::io::duplex(64 * 1024);
            let conn = ServerConn::new(index, self.shared.clone(), Box::new(server_end));
            let task = tokio::spawn((self.script)(conn));
            self.tasks.lock().unwrap().push(task);
            let config = &self.shared.config;
            Ok(RawConnection {
                stream: Box::new(client_end),
                target: Target {
                    host: config
                        .target_host
                        .clone()
                        .unwrap_or_else(|| config.domain.clone()),
                    port: match config.mode {
                        TlsMode::StartTls => 5222,
                        TlsMode::DirectTls => 5223,
                    },
                    mode: config.mode,
                },
            })
        })
    }
}

/// A throwaway CA and a leaf certificate signed by it; the rustls server configuration.
fn make_pki(config: &FakeConfig) -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Linnet fake server CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let names = config
        .cert_names
        .clone()
        .unwrap_or_else(|| vec![config.domain.clone()]);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(names.clone()).unwrap();
    leaf_params.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if config.tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    if config.mode == TlsMode::DirectTls {
        tls.alpn_protocols = vec![b"xmpp-client".to_vec()];
    }
    (ca_cert.pem(), Arc::new(tls))
}
