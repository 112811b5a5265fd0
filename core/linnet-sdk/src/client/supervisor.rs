//! The reconnect supervisor: one task per client that keeps the account connected after
//! `start`, reconnecting with exponential backoff and jitter after a drop or a failed attempt.
//! Errors that reconnecting cannot fix (wrong credentials, a session replaced by another) park
//! it until `reconnect_now`. It holds only a weak reference to the client, so dropping every
//! `Client` ends it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::{Client, ConnectionState, Inner, lock};
use crate::backoff::Backoff;
use crate::error::LinnetError;

/// A connection that lasted this long resets the backoff: the next drop starts again at ~1 s.
const STABLE_AFTER: Duration = Duration::from_secs(60);

impl Client {
    /// Connects now (returning this first attempt's outcome) and from then on keeps the account
    /// connected: after a drop or a failed attempt, tries again after an exponential backoff
    /// with jitter (1 s doubling to 60 s). Wrong credentials or a session replaced by another
    /// stop the retries until `reconnect_now`. Later attempts report through
    /// `ClientEvent::Connection`. Needs a tokio runtime.
    pub async fn start(&self) -> Result<(), LinnetError> {
        self.inner.keep_online.send_replace(true);
        self.ensure_supervisor();
        self.connect().await
    }

    /// Skips the backoff wait: the supervisor tries now (also after a fatal error, once the
    /// user fixed it). Does nothing when online; starts the supervisor if it is not running.
    pub fn reconnect_now(&self) {
        self.inner.keep_online.send_replace(true);
        self.ensure_supervisor();
        if self.connection_state() != ConnectionState::Online {
            self.inner.wake.notify_one();
        }
    }

    /// A hint from the platform that connecting may work now (the network came back, the app
    /// came to the foreground): skips the backoff wait of a client meant to stay connected.
    /// Unlike `reconnect_now` it never revives a client that was stopped or never started,
    /// and never retries after an error that needs the user (a wrong password).
    pub fn hint_reconnect(&self) {
        if !*self.inner.keep_online.borrow() {
            return;
        }
        match self.connection_state() {
            ConnectionState::Online | ConnectionState::Connecting => {}
            ConnectionState::Disconnected { error: Some(e), .. } if e.stops_reconnecting() => {}
            ConnectionState::Offline | ConnectionState::Disconnected { .. } => {
                self.ensure_supervisor();
                self.inner.wake.notify_one();
            }
        }
    }

    /// Stops the supervisor and disconnects.
    pub async fn stop(&self) {
        self.inner.keep_online.send_replace(false);
        let task = lock(&self.inner.supervisor).take();
        if let Some(task) = task {
            task.abort();
            // Wait until an attempt it had under way is dropped.
            let _ = task.await;
        }
        self.disconnect().await;
    }

    /// Spawns the supervisor unless it runs already.
    fn ensure_supervisor(&self) {
        let mut slot = lock(&self.inner.supervisor);
        if slot.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: cannot supervise the connection");
            return;
        };
        let supervisor = Supervisor {
            client: Arc::downgrade(&self.inner),
            state: self.inner.state.subscribe(),
            keep: self.inner.keep_online.subscribe(),
            wake: self.inner.wake.clone(),
        };
        *slot = Some(runtime.spawn(supervisor.run()));
    }
}

struct Supervisor {
    client: Weak<Inner>,
    state: watch::Receiver<ConnectionState>,
    keep: watch::Receiver<bool>,
    wake: Arc<Notify>,
}

/// What woke the supervisor while it waited.
enum Woken {
    /// The connection state or the wish to stay connected changed: look again.
    Changed,
    /// The wait ran out or `reconnect_now` was called: try to connect.
    Attempt,
    /// The client is gone.
    Gone,
}

impl Supervisor {
    async fn run(mut self) {
        let mut backoff = Backoff::for_reconnect();
        let mut online_since: Option<Instant> = None;
        loop {
            if !*self.keep.borrow_and_update() {
                online_since = None;
                if self.keep.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let state = self.state.borrow_and_update().clone();
            let woken = match &state {
                ConnectionState::Online | ConnectionState::Connecting => {
                    if state == ConnectionState::Online {
                        online_since.get_or_insert_with(Instant::now);
                    }
                    // A wake-up while online is spent here, doing nothing.
                    match self.wait(None).await {
                        Woken::Gone => Woken::Gone,
                        _ => Woken::Changed,
                    }
                }
                ConnectionState::Disconnected { error: Some(e), .. } if e.stops_reconnecting() => {
                    tracing::info!(error = %e, "not reconnecting until asked to");
                    backoff.reset();
                    self.wait(None).await
                }
                ConnectionState::Offline | ConnectionState::Disconnected { .. } => {
                    if online_since
                        .take()
                        .is_some_and(|t| t.elapsed() >= STABLE_AFTER)
                    {
                        backoff.reset();
                    }
                    // The delay counts only once waited out in full.
                    let mut next = backoff.clone();
                    let delay = next.next_delay(rand::random::<f64>());
                    tracing::info!(
                        attempt = next.attempt(),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "reconnecting"
                    );
                    let woken = self.wait(Some(delay)).await;
                    if let Woken::Attempt = woken {
                        backoff = next;
                    }
                    woken
                }
            };
            match woken {
                Woken::Gone => return,
                Woken::Changed => continue,
                Woken::Attempt => {}
            }
            let Some(inner) = self.client.upgrade() else {
                return;
            };
            let client = Client { inner };
            if let Err(e) = client.connect().await {
                tracing::info!(error = %e, "reconnection attempt failed");
            }
        }
    }

    /// Waits for `delay` (if any), a wake-up, or a change of state or wish.
    async fn wait(&mut self, delay: Option<Duration>) -> Woken {
        let sleep = async {
            match delay {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => Woken::Attempt,
            () = self.wake.notified() => Woken::Attempt,
            changed = self.state.changed() => match changed {
                Ok(()) => Woken::Changed,
                Err(_) => Woken::Gone,
            },
            changed = self.keep.changed() => match changed {
                Ok(()) => Woken::Changed,
                Err(_) => Woken::Gone,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use tokio::sync::broadcast::error::RecvError;

    use super::*;
    use crate::{AccountSettings, ClientEvent, ErrorKind, Linnet, Secret};

    /// A client whose server refuses connections at once (port 9 on loopback).
    fn unreachable(dir: &std::path::Path) -> Client {
        let linnet = Linnet::open(dir).unwrap();
        let settings = AccountSettings {
            server: Some(("127.0.0.1".into(), 9)),
            direct_tls: false,
            ca_pem: None,
        };
        linnet
            .add_account(
                "me@unreachable.test",
                Secret::from("pw-supervisor"),
                settings,
            )
            .unwrap();
        linnet.client(None).unwrap()
    }

    async fn next_connecting(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Connection(ConnectionState::Connecting)) => return,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("the client is gone"),
            }
        }
    }

    #[tokio::test]
    async fn retries_with_backoff_until_stopped_and_lets_the_client_go() {
        let dir = tempfile::tempdir().unwrap();
        let client = unreachable(dir.path());
        let mut events = client.subscribe();
        let err = client.start().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
        // The first retry comes after ~1 s (0.8 to 1.2 s with jitter).
        let began = Instant::now();
        next_connecting(&mut events).await; // the first attempt
        tokio::time::timeout(Duration::from_secs(3), next_connecting(&mut events))
            .await
            .expect("a retry");
        let waited = began.elapsed();
        assert!(waited >= Duration::from_millis(700), "{waited:?}");

        // reconnect_now skips the wait (the next nominal one is ~2 s).
        let asked = Instant::now();
        client.reconnect_now();
        tokio::time::timeout(Duration::from_secs(3), next_connecting(&mut events))
            .await
            .expect("an attempt at once");
        assert!(asked.elapsed() < Duration::from_millis(700));

        client.stop().await;
        assert_eq!(client.connection_state(), ConnectionState::Offline);
        let quiet = tokio::time::timeout(Duration::from_millis(2500), next_connecting(&mut events));
        assert!(quiet.await.is_err(), "no attempt after stop");

        // Running again, then dropped: the supervisor holds no strong reference, so the
        // client (and its event sender) goes away.
        let _ = client.start().await;
        drop(client);
        let closed = tokio::time::timeout(Duration::from_secs(3), async {
            loop {
                if let Err(RecvError::Closed) = events.recv().await {
                    return;
                }
            }
        });
        assert!(closed.await.is_ok(), "the client was kept alive");
    }

    #[tokio::test]
    async fn fatal_errors_wait_for_reconnect_now() {
        let dir = tempfile::tempdir().unwrap();
        let client = unreachable(dir.path());
        // No password stored: an Auth-kind error that retrying cannot fix.
        let secrets = crate::secrets::FileSecretStore::new(dir.path().join("secrets.json"));
        crate::secrets::SecretStore::delete(&secrets, "me@unreachable.test").unwrap();
        let mut events = client.subscribe();
        let err = client.start().await.unwrap_err();
        assert!(err.stops_reconnecting(), "{err:?}");
        next_connecting(&mut events).await;
        let quiet = tokio::time::timeout(Duration::from_millis(2000), next_connecting(&mut events));
        assert!(quiet.await.is_err(), "no retry after a fatal error");
        client.reconnect_now();
        tokio::time::timeout(Duration::from_secs(2), next_connecting(&mut events))
            .await
            .expect("reconnect_now tries again");
        client.stop().await;
    }
}
