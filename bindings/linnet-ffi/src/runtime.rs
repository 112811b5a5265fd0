//! The one tokio runtime the library owns. Async functions of the bindings run on it whatever
//! executor the caller uses (Kotlin coroutines, Swift concurrency).

use std::future::Future;
use std::sync::OnceLock;

use crate::errors::{PlatformError, TaskFailed};

/// How the host process wants the library to run.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformConfig {
    /// A tracing filter such as "info" or "linnet=debug" (default "info").
    #[uniffi(default = None)]
    pub log_filter: Option<String>,
    /// Also write logs to stderr (desktop, tests). Recent redacted logs are always kept in
    /// memory for `DiagnosticsService.exportLogs`.
    #[uniffi(default = false)]
    pub log_to_stderr: bool,
    /// Few threads and small stacks: for memory-limited processes such as the iOS Notification
    /// Service Extension (24 MB).
    #[uniffi(default = false)]
    pub lightweight: bool,
}

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Sets up logging and the runtime. Call once, before anything else; later calls change nothing
/// and return false.
#[uniffi::export]
pub fn init_platform(config: PlatformConfig) -> Result<bool, PlatformError> {
    if RUNTIME.get().is_some() {
        return Ok(false);
    }
    let filter = config.log_filter.as_deref().unwrap_or("info");
    linnet_sdk::logging::init_with(filter, false, config.log_to_stderr);
    let runtime = build_runtime(config.lightweight).map_err(|e| PlatformError::Runtime {
        reason: e.to_string(),
    })?;
    Ok(RUNTIME.set(runtime).is_ok())
}

/// The library's version, e.g. "0.1.0".
#[uniffi::export]
pub fn linnet_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn build_runtime(lightweight: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_name("linnet");
    if lightweight {
        builder
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_stack_size(512 * 1024);
    } else {
        builder.worker_threads(2).max_blocking_threads(8);
    }
    builder.build()
}

/// The runtime; created with defaults if the host never called `init_platform`. Never panics:
/// UniFFI's Swift code traps on a panic in a non-throwing call, so a runtime that cannot start
/// is an error the caller sees.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, TaskFailed> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = build_runtime(false)
        .map_err(|e| TaskFailed(format!("cannot start the linnet runtime: {e}")))?;
    // Another thread may have won the race: its runtime is the one; this one is dropped.
    let _ = RUNTIME.set(rt);
    RUNTIME
        .get()
        .ok_or_else(|| TaskFailed("the linnet runtime vanished".into()))
}

/// Runs `future` on the library's runtime and awaits it from the caller's executor.
pub(crate) async fn on_runtime<F, T, E>(future: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static + From<TaskFailed>,
{
    match runtime()?.spawn(future).await {
        Ok(result) => result,
        Err(e) => Err(TaskFailed(e.to_string()).into()),
    }
}

/// Runs `f` with the runtime entered, for sync calls that spawn tasks.
pub(crate) fn in_runtime<T>(f: impl FnOnce() -> T) -> Result<T, TaskFailed> {
    let _guard = runtime()?.enter();
    Ok(f())
}

/// `in_runtime` for calls that return nothing: a failure is logged (the host has no way to act).
pub(crate) fn in_runtime_or_log(what: &str, f: impl FnOnce()) {
    if let Err(e) = in_runtime(f) {
        tracing::error!(error = %e.0, "{what}");
    }
}
