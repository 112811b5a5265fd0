//! `call`: one call, from dialling to hanging up, with audio from a WAV file or a tone and what
//! comes back recorded to a WAV file (this is how a machine without a sound card calls).

use std::path::Path;
use std::time::Duration;

use linnet_sdk::audio::{AudioSink, AudioSource, NullSink, ToneSource, WavSink, WavSource};
use linnet_sdk::{AudioIo, CallEndReason, CallState, Client, ClientEvent, Linnet, LinnetError};
use tokio::sync::broadcast;

use crate::cli::{CallArgs, CallAudioArgs};
use crate::error::{CliError, Kind};
use crate::output::{self, Printer};

/// The tone sent when neither --play nor --tone is given.
const DEFAULT_TONE_HZ: u32 = 440;
const TONE_AMPLITUDE: i16 = 8_000;

/// What a call sends: the WAV file, else the tone.
pub fn audio_source(args: &CallAudioArgs) -> Result<Box<dyn AudioSource>, CliError> {
    match &args.play {
        Some(path) => Ok(Box::new(WavSource::open(path).map_err(|e| {
            CliError::usage(format!("cannot play {}: {e}", path.display()))
        })?)),
        None => Ok(Box::new(ToneSource::new(
            args.tone.unwrap_or(DEFAULT_TONE_HZ) as f32,
            TONE_AMPLITUDE,
        ))),
    }
}

/// Where a call's audio goes: a WAV file, or nowhere.
pub fn audio_sink(record: Option<&Path>) -> Result<Box<dyn AudioSink>, CliError> {
    match record {
        Some(path) => Ok(Box::new(WavSink::create(path).map_err(|e| {
            CliError::new(
                Kind::Local,
                format!("cannot record to {}: {e}", path.display()),
            )
        })?)),
        None => Ok(Box::new(NullSink)),
    }
}

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: CallArgs,
    printer: Printer,
) -> Result<(), CliError> {
    if let Some(digits) = &args.dtmf {
        linnet_sdk::dtmf::parse_digits(digits)
            .map_err(|e| CliError::usage(format!("--dtmf: {e}")))?;
    }
    let audio = AudioIo {
        source: audio_source(&args.audio)?,
        sink: audio_sink(args.record.as_deref())?,
    };
    let client = linnet.client(account)?;
    super::connected(&client, |c| async move {
        let mut events = c.subscribe();
        let id = c.place_call(&args.to, audio).await?;
        let outcome = follow(&c, &id, &args, &mut events, &printer).await;
        if outcome.is_err() {
            // Whatever went wrong here, the call must not go on without us.
            let _ = c.hang_up(&id);
        }
        outcome
    })
    .await
}

/// Follows call `id` until it ends; fails unless it connected and ended normally.
async fn follow(
    client: &Client,
    id: &str,
    args: &CallArgs,
    events: &mut broadcast::Receiver<ClientEvent>,
    printer: &Printer,
) -> Result<(), CliError> {
    let connect_deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    let mut hang_up_at = None;
    let mut connected = false;
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let deadline = match (connected, hang_up_at) {
            (false, _) => Some(connect_deadline),
            (true, at) => at,
        };
        let sleep = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            event = events.recv() => event,
            _ = &mut interrupt => {
                client.hang_up(id)?;
                continue;
            }
            () = sleep => {
                if !connected {
                    return Err(CliError::timeout(format!(
                        "the call did not connect within {} s", args.timeout
                    )));
                }
                hang_up_at = None;
                client.hang_up(id)?;
                continue;
            }
        };
        let event = match event {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => {
                return Err(LinnetError::NotConnected.into());
            }
        };
        let ours = match &event {
            ClientEvent::Call(u) => u.id == id,
            ClientEvent::CallMedia { id: of, .. } => of == id,
            _ => false,
        };
        if !ours {
            continue;
        }
        printer.print(&output::event(&event, &super::view_for(client)))?;
        let ClientEvent::Call(update) = event else {
            continue;
        };
        match update.state {
            CallState::Connected { .. } if !connected => {
                connected = true;
                if let Some(digits) = &args.dtmf {
                    client.send_dtmf(id, digits)?;
                }
                hang_up_at = args
                    .hangup_after
                    .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            }
            CallState::Ended { reason } => {
                return match reason {
                    CallEndReason::HungUp | CallEndReason::RemoteHungUp if connected => Ok(()),
                    other => Err(CliError::new(
                        Kind::Network,
                        format!("the call ended: {}", output::call_end_human(other)),
                    )),
                };
            }
            _ => {}
        }
    }
}
