//! The one piece of code behind every `subscribe`: subscribe to the client's events before
//! reading the current state (so nothing is missed), deliver that state first, then on each
//! relevant event (or a poke from the service itself, e.g. a loaded page) drain whatever else
//! is queued, recompute once and deliver what changed. A lagging receiver recomputes from the
//! store, which is the truth.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use linnet_sdk::{Client, ClientEvent, LinnetError};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};

use crate::diff::{VecDiff, diff_by_key};
use crate::{ListListener, TaskHandle};

/// What a subscription observes.
pub(crate) trait Observed: Send + 'static {
    type Batch: Send + 'static;

    /// Takes note of an event; true when it may change what is observed.
    fn note(&mut self, event: &ClientEvent) -> bool;

    /// Events were missed; true to recompute.
    fn lagged(&mut self) -> bool {
        true
    }

    /// What changed since the last batch, if anything.
    fn next_batch(&mut self) -> Option<Self::Batch>;
}

/// Spawns the subscription task. `events` must have been subscribed before `first` was read.
/// Needs a tokio runtime.
pub(crate) fn spawn<S: Observed>(
    mut events: broadcast::Receiver<ClientEvent>,
    first: S::Batch,
    mut source: S,
    mut poke: Option<watch::Receiver<u64>>,
    emit: impl Fn(S::Batch) + Send + Sync + 'static,
) -> TaskHandle {
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    let task = tokio::spawn(async move {
        let deliver = |batch: S::Batch| {
            if flag.load(Ordering::SeqCst) {
                return false;
            }
            emit(batch);
            true
        };
        if !deliver(first) {
            return;
        }
        let mut closed = false;
        while !closed {
            let mut dirty = tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => source.note(&event),
                    Err(RecvError::Lagged(_)) => source.lagged(),
                    Err(RecvError::Closed) => return,
                },
                poked = poked(&mut poke) => {
                    if !poked {
                        poke = None;
                    }
                    poked
                }
            };
            // Coalesce: everything already queued goes into this one batch.
            loop {
                match events.try_recv() {
                    Ok(event) => dirty |= source.note(&event),
                    Err(TryRecvError::Lagged(_)) => dirty |= source.lagged(),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => {
                        closed = true;
                        break;
                    }
                }
            }
            if dirty
                && let Some(batch) = source.next_batch()
                && !deliver(batch)
            {
                return;
            }
        }
    });
    TaskHandle::new(task.abort_handle(), cancelled)
}

/// Waits for a poke; false when the poking side is gone (never again).
async fn poked(poke: &mut Option<watch::Receiver<u64>>) -> bool {
    match poke {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// A list observed as a `Reset` and then diffs by key.
struct ListView<T, K, L, R> {
    load: L,
    relevant: R,
    key: fn(&T) -> K,
    current: Vec<T>,
}

impl<T, K, L, R> Observed for ListView<T, K, L, R>
where
    T: Clone + PartialEq + Send + 'static,
    K: Eq + Hash + 'static,
    L: FnMut() -> Result<Vec<T>, LinnetError> + Send + 'static,
    R: FnMut(&ClientEvent) -> bool + Send + 'static,
{
    type Batch = Vec<VecDiff<T>>;

    fn note(&mut self, event: &ClientEvent) -> bool {
        (self.relevant)(event)
    }

    fn next_batch(&mut self) -> Option<Self::Batch> {
        match (self.load)() {
            Ok(new) => {
                let diffs = diff_by_key(&self.current, &new, self.key);
                self.current = new;
                (!diffs.is_empty()).then_some(diffs)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot refresh an observed list");
                None
            }
        }
    }
}

/// Observes the list `load` computes: recomputed when `relevant` says an event may change it
/// or `poke` changes, delivered to `listener` as a `Reset` then diffs matched by `key`.
pub(crate) fn observe_list<T, K, L, R>(
    client: &Client,
    mut load: L,
    relevant: R,
    key: fn(&T) -> K,
    poke: Option<watch::Receiver<u64>>,
    listener: ListListener<T>,
) -> Result<TaskHandle, LinnetError>
where
    T: Clone + PartialEq + Send + 'static,
    K: Eq + Hash + 'static,
    L: FnMut() -> Result<Vec<T>, LinnetError> + Send + 'static,
    R: FnMut(&ClientEvent) -> bool + Send + 'static,
{
    let events = client.subscribe();
    let first = load()?;
    let view = ListView {
        load,
        relevant,
        key,
        current: first.clone(),
    };
    Ok(spawn(
        events,
        vec![VecDiff::Reset { values: first }],
        view,
        poke,
        listener,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Counts events; every event is relevant and yields its count.
    struct Counter(u32);

    impl Observed for Counter {
        type Batch = u32;
        fn note(&mut self, _: &ClientEvent) -> bool {
            self.0 += 1;
            true
        }
        fn next_batch(&mut self) -> Option<u32> {
            Some(self.0)
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn first_batch_then_coalesced_updates_and_nothing_after_cancel() {
        let (tx, rx) = broadcast::channel(16);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = spawn(rx, 0, Counter(0), None, move |n| {
            sink.lock().unwrap().push(n)
        });
        settle().await;
        assert_eq!(*seen.lock().unwrap(), vec![0]);
        // Three events queued before the task runs: one recompute.
        for _ in 0..3 {
            tx.send(ClientEvent::RosterChanged).unwrap();
        }
        settle().await;
        assert_eq!(*seen.lock().unwrap(), vec![0, 3]);
        assert!(!handle.is_cancelled());
        handle.cancel();
        handle.cancel();
        assert!(handle.is_cancelled());
        let _ = tx.send(ClientEvent::RosterChanged);
        settle().await;
        assert_eq!(
            *seen.lock().unwrap(),
            vec![0, 3],
            "no callback after cancel"
        );
    }

    #[tokio::test]
    async fn dropping_the_handle_cancels_and_pokes_recompute() {
        let (tx, rx) = broadcast::channel(16);
        let (poke_tx, poke_rx) = watch::channel(0u64);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = spawn(rx, 0, Counter(0), Some(poke_rx), move |n| {
            sink.lock().unwrap().push(n)
        });
        settle().await;
        poke_tx.send_modify(|n| *n += 1);
        settle().await;
        assert_eq!(*seen.lock().unwrap(), vec![0, 0], "a poke recomputes");
        drop(handle);
        let _ = tx.send(ClientEvent::RosterChanged);
        poke_tx.send_modify(|n| *n += 1);
        settle().await;
        assert_eq!(*seen.lock().unwrap(), vec![0, 0]);
        assert_eq!(tx.receiver_count(), 0, "the task ended");
    }

    #[tokio::test]
    async fn a_cancel_before_the_task_runs_stops_even_the_first_batch() {
        let (_tx, rx) = broadcast::channel::<ClientEvent>(16);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = spawn(rx, 0, Counter(0), None, move |n| {
            sink.lock().unwrap().push(n)
        });
        handle.cancel();
        settle().await;
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn lagging_recomputes() {
        let (tx, rx) = broadcast::channel(2);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        struct Lagging;
        impl Observed for Lagging {
            type Batch = &'static str;
            fn note(&mut self, _: &ClientEvent) -> bool {
                false
            }
            fn next_batch(&mut self) -> Option<&'static str> {
                Some("recomputed")
            }
        }
        // Fill past capacity before the task first polls the receiver.
        for _ in 0..5 {
            tx.send(ClientEvent::RosterChanged).unwrap();
        }
        let _handle = spawn(rx, "first", Lagging, None, move |s| {
            sink.lock().unwrap().push(s)
        });
        settle().await;
        assert_eq!(*seen.lock().unwrap(), vec!["first", "recomputed"]);
    }
}
