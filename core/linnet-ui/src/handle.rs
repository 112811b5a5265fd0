//! The handle a subscription returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::AbortHandle;

/// Stops a subscription's callbacks when cancelled or dropped.
#[derive(Debug)]
pub struct TaskHandle {
    task: AbortHandle,
    /// Checked before every listener call, so no callback starts once this is set.
    cancelled: Arc<AtomicBool>,
}

impl TaskHandle {
    pub(crate) fn new(task: AbortHandle, cancelled: Arc<AtomicBool>) -> Self {
        Self { task, cancelled }
    }

    /// Stops the callbacks. After this returns no new callback starts. Idempotent.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.task.abort();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}
