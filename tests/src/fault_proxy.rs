//! A loopback TCP proxy under the test's control, placed between a Linnet client and a real
//! server (issue 4, the fault-injection suite): it forwards every connection it accepts to the
//! upstream address, and can cut, stall, delay and fragment the traffic, or refuse new
//! connections as a server that is down.
//!
//! Controls act on every current connection and, except `cut`, on future ones too:
//! - `cut()` closes both sides of every current connection now (a FIN to each; whatever the
//!   proxy still held back is dropped). Later connections are unaffected.
//! - `stall()` stops forwarding in both directions without closing anything; bytes already read
//!   are held back, and the rest wait in the kernel's buffers. `resume()` releases them, in
//!   order, to whichever side is still there. New connections made while stalled are accepted
//!   and connected upstream, but stalled too.
//! - `set_delay(d)` adds `d` of latency to every chunk (delivered `d` after it was read; it
//!   does not cap throughput).
//! - `set_fragment(Some(n))` writes forwarded data in chunks of at most `n` bytes, flushing
//!   (with `TCP_NODELAY`) and yielding between them; `None` forwards as read.
//! - `refuse_new(true)` accepts new connections and closes them at once.
//!
//! Faults counted by `faults()`: each `cut()` and `stall()` call, and each refused connection.
//! I/O errors never panic: they end that connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Chunks read but not yet written, per direction of a connection.
const QUEUE: usize = 64;

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    /// Bumped by `cut`: every connection alive at that moment closes.
    cut: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
    delay: Mutex<Duration>,
    fragment: Mutex<Option<usize>>,
    refuse: AtomicBool,
    accepted: AtomicU64,
    active: AtomicUsize,
    faults: AtomicU64,
    /// Client to server.
    bytes_up: AtomicU64,
    /// Server to client.
    bytes_down: AtomicU64,
}

#[derive(Clone, Copy)]
enum Dir {
    Up,
    Down,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 (an ephemeral port) and forwards to `upstream`. Needs a tokio runtime.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy on 127.0.0.1");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            cut: watch::Sender::new(0),
            stalled: watch::Sender::new(false),
            delay: Mutex::new(Duration::ZERO),
            fragment: Mutex::new(None),
            refuse: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            faults: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        FaultProxy {
            addr,
            shared,
            accept,
        }
    }

    /// Where clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes both sides of every current connection now; held-back bytes are dropped.
    pub fn cut(&self) {
        self.shared.faults.fetch_add(1, Ordering::SeqCst);
        self.shared.cut.send_modify(|g| *g += 1);
    }

    /// `cut`, then waits (up to 5 s) until the connections are gone, so that what a stalled
    /// link held is dropped, not released by a `resume` racing the cut.
    pub async fn cut_held(&self) {
        self.cut();
        let start = tokio::time::Instant::now();
        while self.active() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the cut did not happen"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops forwarding in both directions (current and new connections) without closing.
    pub fn stall(&self) {
        self.shared.faults.fetch_add(1, Ordering::SeqCst);
        self.shared.stalled.send_replace(true);
    }

    /// Forwards again, releasing the bytes held back while stalled.
    pub fn resume(&self) {
        self.shared.stalled.send_replace(false);
    }

    /// Latency added to every chunk from now on (zero: none).
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Splits forwarded data into chunks of at most `n` bytes (`None`: as read).
    pub fn set_fragment(&self, n: Option<usize>) {
        *self.shared.fragment.lock().unwrap() = n.map(|n| n.max(1));
    }

    /// While true, new connections are accepted and closed at once.
    pub fn refuse_new(&self, refuse: bool) {
        self.shared.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Connections accepted so far (refused ones included).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections currently forwarded.
    pub fn active(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Faults injected: `cut` and `stall` calls and refused connections.
    pub fn faults(&self) -> u64 {
        self.shared.faults.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from clients to the server.
    pub fn bytes_up(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from the server to clients.
    pub fn bytes_down(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    /// Stops listening and closes every connection.
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.cut.send_modify(|g| *g += 1);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors or similar: try again shortly rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.refuse.load(Ordering::SeqCst) {
            shared.faults.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        tokio::spawn(serve(client, shared.clone()));
    }
}

/// Forwards one connection until both directions end or a cut.
async fn serve(client: TcpStream, shared: Arc<Shared>) {
    // Subscribed before anything else: a cut from now on ends this connection.
    let mut cut = shared.cut.subscribe();
    let Ok(upstream) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    shared.active.fetch_add(1, Ordering::SeqCst);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let both = async {
        tokio::join!(
            forward(client_read, upstream_write, &shared, Dir::Up),
            forward(upstream_read, client_write, &shared, Dir::Down),
        )
    };
    tokio::select! {
        _ = both => {}
        _ = cut.changed() => {}
    }
    shared.active.fetch_sub(1, Ordering::SeqCst);
}

/// One direction: a reader queues chunks with the time they were read, a writer delivers them
/// after the delay, fragmented, unless stalled. The end of the input shuts the output down.
async fn forward(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, shared: &Shared, dir: Dir) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    // Acknowledge at once, as an endpoint that re-arms quick ACKs would (Linnet
                    // does): a delayed ACK here would hold back a server's Nagle-buffered
                    // answers by 40 ms and the proxy would measure itself.
                    #[cfg(target_os = "linux")]
                    let _ = socket2::SockRef::from(from.as_ref()).set_tcp_quickack(true);
                    if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        let mut stalled = shared.stalled.subscribe();
        let counter = match dir {
            Dir::Up => &shared.bytes_up,
            Dir::Down => &shared.bytes_down,
        };
        while let Some((read_at, data)) = rx.recv().await {
            let delay = *shared.delay.lock().unwrap();
            // Not even a zero sleep: the timer's 1 ms tick would add up over a handshake.
            if !delay.is_zero() {
                tokio::time::sleep_until(read_at + delay).await;
            }
            let fragment = *shared.fragment.lock().unwrap();
            for chunk in data.chunks(fragment.unwrap_or(data.len()).max(1)) {
                if stalled.wait_for(|s| !*s).await.is_err() {
                    return;
                }
                if to.write_all(chunk).await.is_err() || to.flush().await.is_err() {
                    return;
                }
                // Sending puts the socket back into delayed-ACK mode: out of it again.
                #[cfg(target_os = "linux")]
                let _ = socket2::SockRef::from(to.as_ref()).set_tcp_quickack(true);
                counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                if fragment.is_some() {
                    tokio::task::yield_now().await;
                }
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on 127.0.0.1; returns its address.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    /// Reads exactly `n` bytes, failing after 5 s.
    async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf))
            .await
            .expect("read in time")
            .expect("read");
        buf
    }

    /// Whether the peer closed the connection (EOF or reset) within 5 s.
    async fn closed(s: &mut TcpStream) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    async fn proxy_and_client() -> (FaultProxy, TcpStream) {
        let proxy = FaultProxy::start(echo_server().await).await;
        let s = TcpStream::connect(proxy.addr()).await.unwrap();
        (proxy, s)
    }

    #[tokio::test]
    async fn forwards_both_ways_and_counts() {
        let (proxy, mut s) = proxy_and_client().await;
        s.write_all(b"hello").await.unwrap();
        assert_eq!(read_n(&mut s, 5).await, b"hello");
        // The counters move once the write returned, which may be just after the echo arrived.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(proxy.accepted(), 1);
        assert_eq!(proxy.active(), 1);
        assert_eq!(proxy.bytes_up(), 5);
        assert_eq!(proxy.bytes_down(), 5);
        assert_eq!(proxy.faults(), 0);
    }

    #[tokio::test]
    async fn cut_closes_current_connections_only() {
        let (proxy, mut s) = proxy_and_client().await;
        s.write_all(b"x").await.unwrap();
        read_n(&mut s, 1).await;
        proxy.cut();
        assert!(closed(&mut s).await);
        assert_eq!(proxy.faults(), 1);
        let mut t = TcpStream::connect(proxy.addr()).await.unwrap();
        t.write_all(b"again").await.unwrap();
        assert_eq!(read_n(&mut t, 5).await, b"again");
        assert_eq!(proxy.accepted(), 2);
    }

    #[tokio::test]
    async fn stall_holds_bytes_back_and_resume_releases_them() {
        let (proxy, mut s) = proxy_and_client().await;
        s.write_all(b"a").await.unwrap();
        read_n(&mut s, 1).await;
        proxy.stall();
        s.write_all(b"held").await.unwrap();
        let mut buf = [0u8; 8];
        assert!(
            tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf))
                .await
                .is_err(),
            "nothing comes through while stalled, and nothing closes"
        );
        proxy.resume();
        assert_eq!(read_n(&mut s, 4).await, b"held");
        assert_eq!(proxy.faults(), 1);
    }

    #[tokio::test]
    async fn fragmented_data_arrives_whole_and_in_order() {
        let proxy = FaultProxy::start(echo_server().await).await;
        proxy.set_fragment(Some(3));
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        s.write_all(&data).await.unwrap();
        assert_eq!(read_n(&mut s, data.len()).await, data);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(proxy.bytes_up(), 10_000);
    }

    #[tokio::test]
    async fn fragment_splits_writes() {
        // Upstream records the size of every read: none may exceed the fragment size.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = listener.local_addr().unwrap();
        let reads = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut sizes = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return sizes,
                    Ok(n) => sizes.push(n),
                }
                // Give the proxy time to write the next fragment separately.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let proxy = FaultProxy::start(upstream).await;
        proxy.set_fragment(Some(1));
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"fragmented").await.unwrap();
        s.shutdown().await.unwrap();
        let sizes = reads.await.unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.len() > 1, "{sizes:?}");
    }

    #[tokio::test]
    async fn delay_adds_latency_each_way() {
        let (proxy, mut s) = proxy_and_client().await;
        proxy.set_delay(Duration::from_millis(100));
        let t = Instant::now();
        s.write_all(b"slow").await.unwrap();
        assert_eq!(read_n(&mut s, 4).await, b"slow");
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[tokio::test]
    async fn refused_connections_are_closed_at_once() {
        let proxy = FaultProxy::start(echo_server().await).await;
        proxy.refuse_new(true);
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(closed(&mut s).await);
        assert_eq!(proxy.accepted(), 1);
        assert_eq!(proxy.faults(), 1);
        proxy.refuse_new(false);
        let mut t = TcpStream::connect(proxy.addr()).await.unwrap();
        t.write_all(b"up").await.unwrap();
        assert_eq!(read_n(&mut t, 2).await, b"up");
    }

    #[tokio::test]
    async fn upstream_down_just_ends_the_connection() {
        // A port nobody listens on: bind, note it, close.
        let upstream = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let proxy = FaultProxy::start(upstream).await;
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(closed(&mut s).await);
        assert_eq!(proxy.active(), 0);
    }
}
