//! The handle a subscription returns.

/// Stops a subscription's callbacks when cancelled or dropped.
#[derive(Debug)]
pub struct TaskHandle {
    _private: (),
}

impl TaskHandle {
    /// Stops the callbacks. After this returns no new callback starts. Idempotent.
    pub fn cancel(&self) {
        unimplemented!("skeleton")
    }

    pub fn is_cancelled(&self) -> bool {
        unimplemented!("skeleton")
    }
}
