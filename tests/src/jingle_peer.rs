//! The independent Jingle test peer (`tests/peers/jingle_peer.py`: slixmpp + aiortc) driven from
//! Rust tests: an XMPP account or the phone-gateway component `gateway.<domain>` that calls or
//! answers, sends a tone (and DTMF), and reports what happens as JSON events.
//!
//! ```no_run
//! # async fn f() {
//! use std::time::Duration;
//! use linnet_tests::jingle_peer::{JinglePeer, PeerArgs};
//! let server = linnet_tests::server("prosody");
//! let (jid, password) = linnet_tests::create_account(&server, "peer");
//! let mut peer = JinglePeer::spawn(PeerArgs::client(&server, &jid, &password).tone(660.0));
//! peer.wait_for("ready", Duration::from_secs(20)).await;
//! // ... call `jid` from Linnet ...
//! let heard = peer.wait_for("audio", Duration::from_secs(20)).await;
//! assert!((heard["frequency"].as_f64().unwrap() - 440.0).abs() <= 10.0);
//! # }
//! ```
//!
//! Needs the venv made by `tests/peers/setup.sh` (`make deps`); `LINNET_PEERS_VENV` overrides
//! its place.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::{TestServer, repo_root, state_dir};

/// Where `tests/peers/setup.sh` puts the venv unless `LINNET_PEERS_VENV` says otherwise.
pub const DEFAULT_VENV: &str = "/var/cache/linnet-peers-venv";

/// The digits `PeerArgs::dtmf` and the self-test use: every RFC 4733 DTMF key but A-D.
pub const ALL_DIGITS: &str = "0123456789*#";

/// How the peer logs in.
#[derive(Debug, Clone)]
pub enum PeerLogin {
    /// An ordinary account, STARTTLS to the server's host and port, trusting the test CA.
    Client {
        jid: String,
        password: String,
        host: String,
        port: u16,
    },
    /// An external component (XEP-0114), e.g. the phone gateway `gateway.<domain>`.
    Component {
        domain: String,
        secret: String,
        host: String,
        port: u16,
    },
}

/// Answer calls, place one, or only list the server's disco items (and their disco#info).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMode {
    Answer,
    Call {
        to: String,
    },
    Disco,
    /// Send one Jingle IQ into a session (`--action`, `--sid`) and report the answer.
    Inject {
        to: String,
        action: String,
        sid: String,
    },
}

/// Audio codecs the peer offers or accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerCodecs {
    /// Opus/48000/2 + telephone-event/48000.
    Opus,
    /// PCMU + telephone-event/8000 only: the phone gateway model.
    Pcmu,
}

/// The peer's command line. Start from `client`, `gateway` or `component` and adjust with the
/// builder methods.
#[derive(Debug, Clone)]
pub struct PeerArgs {
    pub login: PeerLogin,
    pub mode: PeerMode,
    /// The sine the peer sends, Hz.
    pub tone_hz: f64,
    pub codecs: PeerCodecs,
    /// Answer mode: how long it rings before session-accept.
    pub answer_delay: Duration,
    /// Hang up this long after the media connected.
    pub hangup_after: Option<Duration>,
    /// Answer mode: answer only these (bare) JIDs; empty: anyone.
    pub accept_from: Vec<String>,
    /// Component mode: `+digits@<component>` JIDs are phone numbers (the JMP gateway model).
    pub number_jid: bool,
    /// DTMF digits to send once connected (after `dtmf_delay`); `,` pauses 2 s.
    pub dtmf: Option<String>,
    pub dtmf_delay: Duration,
    /// Call mode: start ICE from a transport-info that comes before session-accept (default on).
    pub early_ice: bool,
    /// Call mode: no JMI, session-initiate straight to the `call` JID (a full JID).
    pub direct: bool,
    /// The server's CA file (client mode).
    pub ca_file: PathBuf,
    /// A name for log lines (defaults to the JID or component).
    pub name: String,
    /// More arguments for the script, e.g. `-v`.
    pub extra: Vec<String>,
}

/// The gateway component of a test server, as `servers.sh` configured it (servers.json).
#[derive(Debug, Clone)]
pub struct GatewayComponent {
    /// `gateway.<domain>`
    pub jid: String,
    pub host: String,
    pub port: u16,
    pub secret: String,
}

/// The phone-gateway component `servers.sh` configured on `server` (from servers.json).
pub fn gateway_component(server: &TestServer) -> GatewayComponent {
    let path = state_dir().join("servers.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}. Start the servers", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    let g = &json[server.name]["gateway"];
    assert!(
        g.is_object(),
        "{} has no gateway component in {}: restart the servers with this servers.sh",
        server.name,
        path.display()
    );
    GatewayComponent {
        jid: g["jid"].as_str().unwrap().to_string(),
        host: g["host"].as_str().unwrap().to_string(),
        port: g["port"].as_u64().unwrap() as u16,
        secret: g["secret"].as_str().unwrap().to_string(),
    }
}

/// A phone number's JID at the gateway of `server`, e.g. `+15551234567@gateway.prosody.test`.
pub fn phone_jid(server: &TestServer, number: &str) -> String {
    format!("{number}@{}", gateway_component(server).jid)
}

fn test_ca_file() -> PathBuf {
    let path = state_dir().join("servers.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}. Start the servers", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    PathBuf::from(json["ca_file"].as_str().unwrap())
}

impl PeerArgs {
    /// An account on `server` that answers calls (Opus, 660 Hz) until told otherwise.
    pub fn client(server: &TestServer, jid: &str, password: &str) -> PeerArgs {
        PeerArgs::with_login(
            PeerLogin::Client {
                jid: jid.to_string(),
                password: password.to_string(),
                host: server.host.clone(),
                port: server.starttls_port,
            },
            jid,
        )
    }

    /// The phone gateway of `server` (`gateway.<domain>`): PCMU + telephone-event/8000 only,
    /// `+digits` JIDs are phones, proceeds at once and starts ICE while ringing (2 s).
    pub fn gateway(server: &TestServer) -> PeerArgs {
        let g = gateway_component(server);
        PeerArgs::component(&g)
            .codecs(PeerCodecs::Pcmu)
            .number_jid()
            .answer_delay(Duration::from_secs(2))
    }

    /// Any component (answer mode, Opus): see `gateway` for the phone gateway.
    pub fn component(g: &GatewayComponent) -> PeerArgs {
        PeerArgs::with_login(
            PeerLogin::Component {
                domain: g.jid.clone(),
                secret: g.secret.clone(),
                host: g.host.clone(),
                port: g.port,
            },
            &g.jid,
        )
    }

    fn with_login(login: PeerLogin, name: &str) -> PeerArgs {
        PeerArgs {
            login,
            mode: PeerMode::Answer,
            tone_hz: 660.0,
            codecs: PeerCodecs::Opus,
            answer_delay: Duration::ZERO,
            hangup_after: None,
            accept_from: Vec::new(),
            number_jid: false,
            dtmf: None,
            dtmf_delay: Duration::from_secs(1),
            early_ice: true,
            direct: false,
            ca_file: test_ca_file(),
            name: name.to_string(),
            extra: Vec::new(),
        }
    }

    /// Call mode: JMI propose to `to` (a bare JID), then Jingle to whoever proceeds.
    pub fn call(mut self, to: &str) -> PeerArgs {
        self.mode = PeerMode::Call { to: to.to_string() };
        self
    }

    /// Inject mode: one Jingle IQ with `action` for session `sid` to `to` (a third party
    /// meddling with someone else's call); reports `iq-result` or `iq-error`, then exits.
    pub fn inject(mut self, to: &str, action: &str, sid: &str) -> PeerArgs {
        self.mode = PeerMode::Inject {
            to: to.to_string(),
            action: action.to_string(),
            sid: sid.to_string(),
        };
        self
    }

    /// Disco mode: report the server's disco#items and each item's disco#info, then exit.
    pub fn disco(mut self) -> PeerArgs {
        self.mode = PeerMode::Disco;
        self
    }

    pub fn tone(mut self, hz: f64) -> PeerArgs {
        self.tone_hz = hz;
        self
    }

    pub fn codecs(mut self, codecs: PeerCodecs) -> PeerArgs {
        self.codecs = codecs;
        self
    }

    pub fn answer_delay(mut self, delay: Duration) -> PeerArgs {
        self.answer_delay = delay;
        self
    }

    pub fn hangup_after(mut self, after: Duration) -> PeerArgs {
        self.hangup_after = Some(after);
        self
    }

    pub fn accept_from(mut self, jid: &str) -> PeerArgs {
        self.accept_from.push(jid.to_string());
        self
    }

    pub fn number_jid(mut self) -> PeerArgs {
        self.number_jid = true;
        self
    }

    pub fn dtmf(mut self, digits: &str) -> PeerArgs {
        self.dtmf = Some(digits.to_string());
        self
    }

    pub fn dtmf_delay(mut self, delay: Duration) -> PeerArgs {
        self.dtmf_delay = delay;
        self
    }

    /// Call mode without JMI: `call(to)` with a full JID gets the session-initiate directly.
    pub fn direct(mut self) -> PeerArgs {
        self.direct = true;
        self
    }

    pub fn no_early_ice(mut self) -> PeerArgs {
        self.early_ice = false;
        self
    }

    pub fn name(mut self, name: &str) -> PeerArgs {
        self.name = name.to_string();
        self
    }

    pub fn arg(mut self, arg: &str) -> PeerArgs {
        self.extra.push(arg.to_string());
        self
    }

    /// The script's arguments.
    pub fn to_args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |k: &str, v: String| {
            a.push(k.to_string());
            a.push(v);
        };
        match &self.login {
            PeerLogin::Client {
                jid,
                password,
                host,
                port,
            } => {
                push("--jid", jid.clone());
                push("--password", password.clone());
                push("--host", host.clone());
                push("--port", port.to_string());
                push("--ca", self.ca_file.display().to_string());
            }
            PeerLogin::Component {
                domain,
                secret,
                host,
                port,
            } => {
                push("--component", domain.clone());
                push("--secret", secret.clone());
                push("--host", host.clone());
                push("--port", port.to_string());
                // One connection per component domain: parallel tests take turns.
                push(
                    "--lock",
                    std::env::temp_dir()
                        .join(format!("linnet-peer-{domain}.lock"))
                        .display()
                        .to_string(),
                );
            }
        }
        match &self.mode {
            PeerMode::Answer => push("--mode", "answer".into()),
            PeerMode::Call { to } => {
                push("--mode", "call".into());
                push("--to", to.clone());
            }
            PeerMode::Disco => push("--mode", "disco".into()),
            PeerMode::Inject { to, action, sid } => {
                push("--mode", "inject".into());
                push("--to", to.clone());
                push("--action", action.clone());
                push("--sid", sid.clone());
            }
        }
        push("--tone", self.tone_hz.to_string());
        push(
            "--codecs",
            match self.codecs {
                PeerCodecs::Opus => "opus".into(),
                PeerCodecs::Pcmu => "pcmu".into(),
            },
        );
        push(
            "--answer-delay",
            self.answer_delay.as_secs_f64().to_string(),
        );
        if let Some(h) = self.hangup_after {
            push("--hangup-after", h.as_secs_f64().to_string());
        }
        for j in &self.accept_from {
            push("--accept-from", j.clone());
        }
        if let Some(d) = &self.dtmf {
            push("--dtmf", d.clone());
            push("--dtmf-delay", self.dtmf_delay.as_secs_f64().to_string());
        }
        if self.number_jid {
            a.push("--number-jid".into());
        }
        if self.direct {
            a.push("--direct".into());
        }
        if !self.early_ice {
            a.push("--no-early-ice".into());
        }
        a.extend(self.extra.iter().cloned());
        a
    }
}

/// A running peer. Killed when dropped.
pub struct JinglePeer {
    name: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    events: Vec<Value>,
    digits: String,
}

/// The venv's python (`LINNET_PEERS_VENV` or the default), or a panic that says how to make it.
pub fn peers_python() -> PathBuf {
    let venv = std::env::var_os("LINNET_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VENV));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} not found: run `bash tests/peers/setup.sh` (part of `make deps`)",
        python.display()
    );
    python
}

impl JinglePeer {
    /// Starts `tests/peers/jingle_peer.py` with `args`. Its stderr (logs) goes to the test's.
    pub fn spawn(args: PeerArgs) -> JinglePeer {
        let script = repo_root().join("tests/peers/jingle_peer.py");
        let mut child = Command::new(peers_python())
            .arg("-u")
            .arg(&script)
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().unwrap();
        JinglePeer {
            name: args.name,
            child,
            lines: BufReader::new(stdout).lines(),
            events: Vec::new(),
            digits: String::new(),
        }
    }

    /// The next event; panics if none comes `within`, or the peer exited.
    pub async fn next_event(&mut self, within: Duration) -> Value {
        let line = match tokio::time::timeout(within, self.lines.next_line()).await {
            Err(_) => panic!(
                "peer {}: no event within {within:?}; events so far: {}",
                self.name,
                self.summary()
            ),
            Ok(Err(e)) => panic!("peer {}: reading its events: {e}", self.name),
            Ok(Ok(None)) => panic!(
                "peer {}: exited ({:?}); events: {}",
                self.name,
                self.child.try_wait(),
                self.summary()
            ),
            Ok(Ok(Some(line))) => line,
        };
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("peer {}: not a JSON event ({e}): {line}", self.name));
        eprintln!("peer {}: {line}", self.name);
        if event["event"] == "dtmf"
            && let Some(d) = event["digit"].as_str()
        {
            self.digits.push_str(d);
        }
        self.events.push(event.clone());
        event
    }

    /// The next event named `event` (skipping others); panics if none comes `within`. An
    /// "error" event on the way fails the test at once.
    pub async fn wait_for(&mut self, event: &str, within: Duration) -> Value {
        self.wait_until(event, within, |_| true).await
    }

    /// The next event named `event` for which `pred` holds (others are skipped).
    pub async fn wait_until(
        &mut self,
        event: &str,
        within: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                panic!(
                    "peer {}: no {event:?} within {within:?}; events so far: {}",
                    self.name,
                    self.summary()
                );
            }
            let e = self.next_event(left).await;
            if e["event"] == "error" && event != "error" {
                panic!(
                    "peer {}: error event while waiting for {event:?}: {e}",
                    self.name
                );
            }
            if e["event"] == event && pred(&e) {
                return e;
            }
        }
    }

    /// Reads events until at least `count` DTMF digits have been received (counting those
    /// already seen); returns them all. Panics if they do not come `within`.
    pub async fn wait_for_digits(&mut self, count: usize, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        while self.digits.chars().count() < count {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                panic!(
                    "peer {}: {count} digits not received within {within:?}; got {:?}",
                    self.name, self.digits
                );
            }
            self.next_event(left).await;
        }
        self.digits.clone()
    }

    /// All DTMF digits received so far, in order.
    pub fn digits(&self) -> String {
        self.digits.clone()
    }

    /// Every event read so far, in order.
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The position of the first event named `event` read so far.
    pub fn position(&self, event: &str) -> Option<usize> {
        self.events.iter().position(|e| e["event"] == event)
    }

    /// Asks the peer to hang up and exit (SIGTERM: it sends session-terminate first).
    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// Reads events until the peer exits (within `within`); returns its exit code.
    pub async fn wait_exit(&mut self, within: Duration) -> i32 {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.lines.next_line()).await {
                Err(_) => panic!("peer {}: did not exit within {within:?}", self.name),
                Ok(Ok(Some(line))) => {
                    eprintln!("peer {}: {line}", self.name);
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["event"] == "dtmf"
                            && let Some(d) = v["digit"].as_str()
                        {
                            self.digits.push_str(d);
                        }
                        self.events.push(v);
                    }
                }
                Ok(_) => break,
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, self.child.wait()).await {
            Ok(Ok(status)) => status.code().unwrap_or(-1),
            Ok(Err(e)) => panic!("peer {}: {e}", self.name),
            Err(_) => panic!("peer {}: did not exit within {within:?}", self.name),
        }
    }

    fn summary(&self) -> String {
        self.events
            .iter()
            .map(|e| e["event"].as_str().unwrap_or("?").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
