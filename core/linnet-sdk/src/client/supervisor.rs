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
