//! The trailing pushes of the rate limit. The store decides (`RegistrationStore::admit`): when a
//! device was woken less than an interval ago, one more push is queued for the end of the
//! interval (`Admission::After`) so the device still wakes after the last message of a burst.
//! This module runs those queued pushes on tokio timers and keeps count of them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Jobs waiting for their time. Cheap to clone; clones share the count.
#[derive(Clone, Default)]
pub struct Deferred {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    pending: AtomicUsize,
    changed: Notify,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("pending", &self.pending())
            .finish()
    }
}

/// Decrements the count when the job ends, even if its task is cancelled.
struct PendingGuard(Arc<Inner>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

impl Deferred {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `job` after `delay` on its own task.
    pub fn schedule<F>(&self, delay: Duration, job: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.inner.pending.fetch_add(1, Ordering::SeqCst);
        let guard = PendingGuard(self.inner.clone());
        tokio::spawn(async move {
            let _guard = guard;
            tokio::time::sleep(delay).await;
            job.await;
        });
    }

    /// Jobs scheduled and not finished.
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::SeqCst)
    }

    /// Waits until no job is pending (tests, benchmarks).
    pub async fn idle(&self) {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.pending() == 0 {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[tokio::test(start_paused = true)]
    async fn runs_after_the_delay_and_reports_idle() {
        let deferred = Deferred::new();
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let start = tokio::time::Instant::now();
        deferred.schedule(Duration::from_millis(1500), async move {
            flag.store(true, Ordering::SeqCst);
        });
        assert_eq!(deferred.pending(), 1);
        deferred.idle().await;
        assert!(ran.load(Ordering::SeqCst));
        assert!(start.elapsed() >= Duration::from_millis(1500));
        assert_eq!(deferred.pending(), 0);
    }
}
