//! Where to connect and how: DNS SRV (XEP-0368 direct TLS first), host:port overrides, and the
//! `Connector` trait that lets tests put a scripted fake server behind the same session code.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::ConnectError;

/// Default port for STARTTLS client connections when DNS gives nothing.
pub const DEFAULT_CLIENT_PORT: u16 = 5222;

/// Any bidirectional byte stream the session can run over (TCP, TLS, an in-memory duplex in tests).
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> ByteStream for T {}

/// How TLS is started on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP first, then `<starttls/>` before anything else.
    StartTls,
    /// TLS from the first byte (XEP-0368).
    DirectTls,
}

/// One place to try to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub mode: TlsMode,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            TlsMode::StartTls => "starttls",
            TlsMode::DirectTls => "direct-tls",
        };
        if self.host.contains(':') {
            write!(f, "[{}]:{} ({mode})", self.host, self.port)
        } else {
            write!(f, "{}:{} ({mode})", self.host, self.port)
        }
    }
}

/// A raw connection, before TLS.
pub struct RawConnection {
    pub stream: Box<dyn ByteStream>,
    pub target: Target,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens raw byte streams to a server. The session does TLS on top, so a fake server in a test
/// exercises the same TLS, SASL and stanza code as a real one.
pub trait Connector: Send + Sync {
    fn connect<'a>(&'a self, domain: &'a str)
    -> BoxFuture<'a, Result<RawConnection, ConnectError>>;
}

/// One SRV record as found in DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub host: String,
    pub port: u16,
}

/// Merge `_xmpps-client._tcp` (direct TLS) and `_xmpp-client._tcp` (STARTTLS) records into one
/// ordered list: by priority, then by weight (heaviest first), direct TLS first at equal rank
/// (XEP-0368 §3). A lone "." target means "no service here" (RFC 2782) and is skipped.
/// With no records at all, the domain itself on port 5222 with STARTTLS.
pub fn order_targets(
    domain: &str,
    direct: Vec<SrvRecord>,
    starttls: Vec<SrvRecord>,
) -> Vec<Target> {
    let mut ranked: Vec<(u16, std::cmp::Reverse<u16>, u8, Target)> = Vec::new();
    for (records, mode, rank) in [
        (direct, TlsMode::DirectTls, 0u8),
        (starttls, TlsMode::StartTls, 1u8),
    ] {
        for r in records {
            let host = r.host.trim_end_matches('.').to_string();
            if host.is_empty() || r.port == 0 {
                continue;
            }
            ranked.push((
                r.priority,
                std::cmp::Reverse(r.weight),
                rank,
                Target {
                    host,
                    port: r.port,
                    mode,
                },
            ));
        }
    }
    ranked.sort_by_key(|a| (a.0, a.1, a.2));
    let mut targets: Vec<Target> = Vec::new();
    for (_, _, _, t) in ranked {
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    if targets.is_empty() {
        targets.push(Target {
            host: domain.to_string(),
            port: DEFAULT_CLIENT_PORT,
            mode: TlsMode::StartTls,
        });
    }
    targets
}

/// Connects over TCP, either to an explicit host:port or wherever DNS SRV says.
#[derive(Debug, Clone)]
pub struct TcpConnector {
    /// Explicit host:port for self-hosted servers and tests; skips DNS SRV.
    pub override_target: Option<Target>,
    pub connect_timeout: Duration,
}

impl TcpConnector {
    pub fn new(override_target: Option<Target>) -> Self {
        Self {
            override_target,
            connect_timeout: Duration::from_secs(10),
        }
    }

    async fn resolve(&self, domain: &str) -> Vec<Target> {
        if let Some(t) = &self.override_target {
            return vec![t.clone()];
        }
        let direct = lookup_srv(&format!("_xmpps-client._tcp.{domain}.")).await;
        let starttls = lookup_srv(&format!("_xmpp-client._tcp.{domain}.")).await;
        order_targets(domain, direct, starttls)
    }
}

async fn lookup_srv(name: &str) -> Vec<SrvRecord> {
    let resolver = match hickory_resolver::TokioResolver::builder_tokio() {
        Ok(b) => b.build(),
        Err(e) => {
            // No usable system resolver configuration (e.g. no /etc/resolv.conf): fall back to the
            // domain itself, which still works for servers without SRV records.
            tracing::debug!(error = %e, "no system DNS configuration");
            return Vec::new();
        }
    };
    match resolver.srv_lookup(name).await {
        Ok(lookup) => lookup
            .iter()
            .map(|srv| SrvRecord {
                priority: srv.priority(),
                weight: srv.weight(),
                host: srv.target().to_utf8(),
                port: srv.port(),
            })
            .collect(),
        Err(e) => {
            tracing::debug!(%name, error = %e, "SRV lookup gave nothing");
            Vec::new()
        }
    }
}

impl Connector for TcpConnector {
    fn connect<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<RawConnection, ConnectError>> {
        Box::pin(async move {
            let targets = self.resolve(domain).await;
            let mut attempts = Vec::new();
            for target in targets {
                let addr = (target.host.as_str(), target.port);
                match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => {
                        let _ = stream.set_nodelay(true);
                        tracing::debug!(%target, "TCP connected");
                        return Ok(RawConnection {
                            stream: Box::new(QuickAckTcp(stream)),
                            target,
                        });
                    }
                    Ok(Err(e)) => attempts.push(format!("{target}: {e}")),
                    Err(_) => attempts.push(format!("{target}: timed out")),
                }
            }
            Err(ConnectError::NetworkUnreachable { attempts })
        })
    }
}

/// TCP that acknowledges received data at once instead of delaying the ACK (Linux, Android).
///
/// A server that leaves Nagle's algorithm on (Prosody 0.12 does by default) holds a small write
/// back until the previous one is acknowledged, and a delayed ACK takes ~40 ms: measured here as
/// 43 ms of every connect and of most round trips. Quick-ack mode is not sticky, so it is
/// re-armed after every read.
struct QuickAckTcp(TcpStream);

impl QuickAckTcp {
    fn rearm(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let _ = socket2::SockRef::from(&self.0).set_tcp_quickack(true);
        }
    }
}

impl AsyncRead for QuickAckTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.0).poll_read(cx, buf);
        if matches!(result, std::task::Poll::Ready(Ok(()))) {
            this.rearm();
        }
        result
    }
}

impl AsyncWrite for QuickAckTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn srv(priority: u16, weight: u16, host: &str, port: u16) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            host: host.into(),
            port,
        }
    }

    #[test]
    fn no_records_falls_back_to_domain_5222() {
        let t = order_targets("example.org", vec![], vec![]);
        assert_eq!(
            t,
            vec![Target {
                host: "example.org".into(),
                port: 5222,
                mode: TlsMode::StartTls
            }]
        );
    }

    #[test]
    fn direct_tls_first_at_equal_priority_then_by_priority_and_weight() {
        let t = order_targets(
            "example.org",
            vec![
                srv(10, 0, "tls.example.org.", 443),
                srv(20, 0, "tls2.example.org.", 5223),
            ],
            vec![
                srv(10, 0, "xmpp.example.org.", 5222),
                srv(5, 1, "first.example.org.", 5222),
                srv(5, 9, "heavy.example.org.", 5222),
            ],
        );
        let hosts: Vec<_> = t.iter().map(|t| (t.host.as_str(), t.mode)).collect();
        assert_eq!(
            hosts,
            vec![
                ("heavy.example.org", TlsMode::StartTls),
                ("first.example.org", TlsMode::StartTls),
                ("tls.example.org", TlsMode::DirectTls),
                ("xmpp.example.org", TlsMode::StartTls),
                ("tls2.example.org", TlsMode::DirectTls),
            ]
        );
    }

    #[test]
    fn dot_target_means_no_service() {
        let t = order_targets("example.org", vec![srv(0, 0, ".", 0)], vec![]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].port, 5222);
    }

    #[tokio::test]
    async fn unreachable_override_is_a_network_error() {
        // Port 9 on loopback: nothing listens there on this machine.
        let c = TcpConnector::new(Some(Target {
            host: "127.0.0.1".into(),
            port: 9,
            mode: TlsMode::StartTls,
        }));
        match c.connect("example.org").await {
            Err(ConnectError::NetworkUnreachable { attempts }) => assert_eq!(attempts.len(), 1),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("connected to port 9"),
        }
    }
}
