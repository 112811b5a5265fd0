//! `listen`: stay connected and print what happens, reconnecting when the connection drops.
//!
//! Connection attempts run as a task that reports back over a channel, so that signals, the
//! deadline and events are all handled by one loop while an attempt (or its back-off delay) is
//! under way. Events are subscribed to before the first attempt, so nothing is missed.

use std::time::Duration;

use linnet_sdk::store::Direction;
use linnet_sdk::{
    AudioIo, CallState, Client, ClientEvent, ConnectionState, ErrorKind, Linnet, LinnetError,
    TransferDirection, TransferState,
};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::cli::ListenArgs;
use crate::error::CliError;
use crate::output::{self, Printer, View};
use linnet_sdk::backoff::Backoff;

/// A connection that lasted this long resets the back-off: the next drop starts again at 1 s.
const STABLE_AFTER: Duration = Duration::from_secs(60);

type Attempts = mpsc::Sender<Result<(), LinnetError>>;

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: ListenArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let mut events = client.subscribe();
    let record_dir = args
        .record_dir
        .clone()
        .or_else(|| linnet.data_dir().map(|d| d.join("calls")));
    let mut listener = Listener {
        record_dir,
        view: super::view_for(&client),
        client: client.clone(),
        printer,
        args,
        received: 0,
        backoff: Backoff::for_reconnect(),
        ever_online: false,
        online_since: None,
        attempt: None,
    };
    let result = listener.run(&mut events).await;
    if let Some(task) = listener.attempt.take() {
        task.abort();
    }
    client.disconnect().await;
    // Report how the connection ended (the disconnect above, or the failure that ends us).
    if !result.as_ref().is_err_and(CliError::is_stdout_closed) {
        listener.print_final_states(&mut events);
    }
    result
}

enum Flow {
    Continue,
    Done,
}

struct Listener {
    /// Where answered calls are recorded.
    record_dir: Option<std::path::PathBuf>,
    client: Client,
    printer: Printer,
    view: View,
    args: ListenArgs,
    /// Incoming messages so far (for --count).
    received: u64,
    backoff: Backoff,
    /// Whether we were online once: until then a failure is reported, not retried.
    ever_online: bool,
    online_since: Option<Instant>,
    /// The connection attempt under way (waiting out its delay, or connecting).
    attempt: Option<JoinHandle<()>>,
}

impl Listener {
    async fn run(&mut self, events: &mut broadcast::Receiver<ClientEvent>) -> Result<(), CliError> {
        let mut shutdown = Shutdown::new();
        let deadline = self
            .args
            .timeout
            .map(|s| Instant::now() + Duration::from_secs(s));
        let timer = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(timer);
        let (attempts, mut results) = mpsc::channel(1);
        self.start_attempt(Duration::ZERO, &attempts);

        loop {
            tokio::select! {
                biased;
                () = shutdown.wait() => return Ok(()),
                () = &mut timer => return self.timed_out(),
                Some(result) = results.recv() => {
                    self.attempt = None;
                    let flow = match result {
                        Ok(()) => self.online(events, &attempts)?,
                        Err(e) => self.connect_failed(e, events, &attempts)?,
                    };
                    if let Flow::Done = flow {
                        return Ok(());
                    }
                }
                event = events.recv() => match event {
                    Ok(event) => {
                        if let Flow::Done = self.on_event(event, &attempts)? {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => self.missed(n),
                    Err(broadcast::error::RecvError::Closed) => {
                        return Err(LinnetError::NotConnected.into());
                    }
                },
            }
        }
    }

    /// The attempt succeeded: print what it reported, then the line scripts wait for.
    fn online(
        &mut self,
        events: &mut broadcast::Receiver<ClientEvent>,
        attempts: &Attempts,
    ) -> Result<Flow, CliError> {
        self.ever_online = true;
        self.online_since = Some(Instant::now());
        if let Flow::Done = self.drain(events, attempts)? {
            return Ok(Flow::Done);
        }
        // Unless it dropped again already (a new attempt is then scheduled).
        if self.attempt.is_none() {
            let bound = self.client.session_info().map(|i| i.bound_jid.to_string());
            self.view.tick();
            let own = self.view.own.clone();
            self.printer
                .print(&output::ready(&own, bound.as_deref(), &self.view))?;
        }
        Ok(Flow::Continue)
    }

    /// The attempt failed: fatal the first time and for credentials or certificates; otherwise
    /// try again later.
    fn connect_failed(
        &mut self,
        error: LinnetError,
        events: &mut broadcast::Receiver<ClientEvent>,
        attempts: &Attempts,
    ) -> Result<Flow, CliError> {
        let fatal = matches!(
            error.kind(),
            ErrorKind::Auth | ErrorKind::Tls | ErrorKind::Usage | ErrorKind::Local
        );
        if fatal || !self.ever_online {
            return Err(error.into());
        }
        // Printing the failure's Disconnected event schedules the next attempt.
        if let Flow::Done = self.drain(events, attempts)? {
            return Ok(Flow::Done);
        }
        if self.attempt.is_none() {
            self.schedule(attempts)?;
        }
        Ok(Flow::Continue)
    }

    fn on_event(&mut self, event: ClientEvent, attempts: &Attempts) -> Result<Flow, CliError> {
        self.view.tick();
        self.printer.print(&output::event(&event, &self.view))?;
        match event {
            // A file the download policy fetched: say where it is.
            ClientEvent::Transfer(t)
                if t.direction == TransferDirection::Download && t.state == TransferState::Done =>
            {
                if let Some(a) = self
                    .client
                    .message(t.message_id)?
                    .and_then(|m| m.attachment)
                {
                    self.printer
                        .print(&output::downloaded(t.message_id, &a, &self.view))?;
                }
            }
            ClientEvent::Message(m) if m.direction == Direction::Incoming => {
                if self.args.mark_read
                    && let Err(e) = self.client.mark_read(&m.peer)
                {
                    self.printer.warn(&format!(
                        "could not mark the conversation with {} read: {e}",
                        m.peer
                    ));
                }
                self.received += 1;
                if self.args.count.is_some_and(|n| self.received >= n) {
                    return Ok(Flow::Done);
                }
            }
            ClientEvent::Call(update)
                if self.args.answer_calls && update.state == CallState::Incoming =>
            {
                self.answer(&update.id)?;
            }
            ClientEvent::Connection(ConnectionState::Disconnected { error: Some(e), .. })
                if is_fatal_drop(&e) =>
            {
                // Reconnecting would not help (or would fight another session): stop here.
                return Err(e.into());
            }
            ClientEvent::Connection(ConnectionState::Disconnected { .. })
                if self.ever_online && self.attempt.is_none() =>
            {
                if self
                    .online_since
                    .take()
                    .is_some_and(|t| t.elapsed() >= STABLE_AFTER)
                {
                    self.backoff.reset();
                }
                self.schedule(attempts)?;
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Answers a call (only contacts' calls ring), recording it to `<record dir>/<id>.wav`.
    fn answer(&mut self, id: &str) -> Result<(), CliError> {
        let Some(dir) = self.record_dir.clone() else {
            return Err(CliError::usage(
                "cannot tell where to record calls: use --record-dir",
            ));
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            CliError::new(
                crate::error::Kind::Local,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let file_name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file_name}.wav"));
        let audio = AudioIo {
            source: super::call::audio_source(&self.args.audio)?,
            sink: super::call::audio_sink(Some(&path))?,
        };
        match self.client.answer_call(id, audio) {
            Ok(()) => {
                self.view.tick();
                self.printer
                    .print(&output::call_answered(id, &path, &self.view))?;
            }
            // Ended meanwhile (answered elsewhere, the caller gave up): its event says so.
            Err(LinnetError::NoSuchCall { .. } | LinnetError::CallNotRinging { .. }) => {}
            Err(e) => self.printer.warn(&format!("cannot answer call {id}: {e}")),
        }
        Ok(())
    }

    /// Handles the events already waiting, without blocking.
    fn drain(
        &mut self,
        events: &mut broadcast::Receiver<ClientEvent>,
        attempts: &Attempts,
    ) -> Result<Flow, CliError> {
        loop {
            match events.try_recv() {
                Ok(event) => {
                    if let Flow::Done = self.on_event(event, attempts)? {
                        return Ok(Flow::Done);
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed(n),
                Err(_) => return Ok(Flow::Continue),
            }
        }
    }

    fn schedule(&mut self, attempts: &Attempts) -> Result<(), CliError> {
        let delay = self.backoff.next_delay(rand::random::<f64>());
        self.view.tick();
        self.printer.print(&output::reconnecting(
            self.backoff.attempt(),
            delay,
            &self.view,
        ))?;
        self.start_attempt(delay, attempts);
        Ok(())
    }

    fn start_attempt(&mut self, delay: Duration, attempts: &Attempts) {
        let client = self.client.clone();
        let attempts = attempts.clone();
        self.attempt = Some(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = client.connect().await;
            let _ = attempts.send(result).await;
        }));
    }

    fn timed_out(&self) -> Result<(), CliError> {
        match self.args.count {
            None => Ok(()),
            Some(n) => Err(CliError::timeout(format!(
                "timed out: {} of {n} messages arrived",
                self.received
            ))),
        }
    }

    fn missed(&self, n: u64) {
        self.printer.warn(&format!(
            "{n} events were missed (output could not keep up)"
        ));
    }

    /// After leaving: the connection changes still waiting (typically the final "offline").
    fn print_final_states(&mut self, events: &mut broadcast::Receiver<ClientEvent>) {
        while let Ok(event) = events.try_recv() {
            if let ClientEvent::Connection(_) = event {
                self.view.tick();
                if self
                    .printer
                    .print(&output::event(&event, &self.view))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// SIGINT or SIGTERM, registered as soon as `listen` starts.
struct Shutdown {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    #[cfg(unix)]
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    #[cfg(not(unix))]
    fn new() -> Self {
        Self {}
    }

    #[cfg(unix)]
    async fn wait(&mut self) {
        async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = recv(self.interrupt.as_mut()) => {}
            () = recv(self.terminate.as_mut()) => {}
        }
    }

    #[cfg(not(unix))]
    async fn wait(&mut self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A drop after which reconnecting would not help: credentials or certificate problems, or the
/// server replacing this session with another one of the same resource (`conflict`).
fn is_fatal_drop(error: &LinnetError) -> bool {
    error.stops_reconnecting() || error.kind() == ErrorKind::Tls
}
