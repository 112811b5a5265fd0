//! The call screen: the one call in progress (or the one that just ended), as a screen shows it,
//! and the controls it drives the call with.

use std::sync::Arc;
use std::time::Duration;

use linnet_sdk::store::{CallEndReason, Direction};
use linnet_sdk::{
    AudioIo, CallMediaEvent, CallState, CallUpdate, Client, ClientEvent, LinnetError,
};
use tokio::sync::watch;

use crate::observe::{self, Observed};
use crate::{TaskHandle, display_name, lock};

/// What the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPhase {
    /// Outgoing, no device has rung yet.
    Calling,
    /// Outgoing, the other side rings.
    Ringing,
    /// Incoming: answer or decline.
    Incoming,
    Connecting,
    Connected,
    Ended,
}

/// One call, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallScreenState {
    pub id: String,
    /// The other party's address (for a phone call, the number's address at the gateway).
    pub peer: String,
    /// The roster name, else the number, else the address's local part.
    pub display_name: String,
    pub phone_number: Option<String>,
    pub incoming: bool,
    pub phase: CallPhase,
    /// Whole seconds since the media connected (ticks every second while connected).
    pub duration_secs: u64,
    pub muted: bool,
    pub digits_sent: String,
    pub digits_received: String,
    /// Whether the peer's audio has been heard yet.
    pub audio_heard: bool,
    pub end_reason: Option<CallEndReason>,
}

pub struct CallScreen {
    client: Client,
}

impl CallScreen {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The current call first (`None`: no call), then every change. The duration ticks every
    /// second while connected. An ended call stays on screen (phase `Ended`, with its reason)
    /// until the next call starts.
    pub fn subscribe(
        &self,
        listener: Box<dyn Fn(Option<CallScreenState>) + Send + Sync + 'static>,
    ) -> Result<TaskHandle, LinnetError> {
        let events = self.client.subscribe();
        let (tick_tx, tick_rx) = watch::channel(0u64);
        let shown = Arc::new(std::sync::Mutex::new(None::<Shown>));
        if let Some(update) = self.client.active_calls().into_iter().next() {
            *lock(&shown) = Some(Shown::new(&self.client, &update));
        }
        let first = lock(&shown).as_ref().map(Shown::state);
        spawn_ticker(shown.clone(), tick_tx);
        let changes = Changes {
            client: self.client.clone(),
            shown,
            last: first.clone(),
        };
        Ok(observe::spawn(
            events,
            first,
            changes,
            Some(tick_rx),
            listener,
        ))
    }

    /// Calls an address or a phone number (see `Client::place_call`). Returns the call's id.
    pub async fn call(&self, to: &str, audio: AudioIo) -> Result<String, LinnetError> {
        self.client.place_call(to, audio).await
    }

    pub fn answer(&self, id: &str, audio: AudioIo) -> Result<(), LinnetError> {
        self.client.answer_call(id, audio)
    }

    pub fn decline(&self, id: &str) -> Result<(), LinnetError> {
        self.client.decline_call(id)
    }

    pub fn hang_up(&self, id: &str) -> Result<(), LinnetError> {
        self.client.hang_up(id)
    }

    pub fn send_dtmf(&self, id: &str, digits: &str) -> Result<(), LinnetError> {
        self.client.send_dtmf(id, digits)
    }

    pub fn set_muted(&self, id: &str, muted: bool) -> Result<(), LinnetError> {
        self.client.set_call_muted(id, muted)
    }
}

/// The call on screen, with what the updates do not carry.
struct Shown {
    update: CallUpdate,
    display_name: String,
    digits_received: String,
    audio_heard: bool,
}

impl Shown {
    fn new(client: &Client, update: &CallUpdate) -> Self {
        let roster_name = client
            .roster()
            .ok()
            .and_then(|r| r.into_iter().find(|c| c.jid == update.peer))
            .and_then(|c| c.name);
        let display_name = match (&roster_name, &update.phone_number) {
            (None, Some(number)) => number.clone(),
            _ => display_name(roster_name.as_deref(), &update.peer),
        };
        Self {
            update: update.clone(),
            display_name,
            digits_received: String::new(),
            audio_heard: false,
        }
    }

    fn state(&self) -> CallScreenState {
        let u = &self.update;
        let (phase, duration_secs, end_reason) = match &u.state {
            CallState::Calling => (CallPhase::Calling, 0, None),
            CallState::Ringing => (CallPhase::Ringing, 0, None),
            CallState::Incoming => (CallPhase::Incoming, 0, None),
            CallState::Connecting => (CallPhase::Connecting, 0, None),
            CallState::Connected { since_ms } => {
                let elapsed = (crate::now_ms() - since_ms).max(0) / 1000;
                (CallPhase::Connected, elapsed as u64, None)
            }
            CallState::Ended { reason } => (CallPhase::Ended, 0, Some(*reason)),
        };
        CallScreenState {
            id: u.id.clone(),
            peer: u.peer.clone(),
            display_name: self.display_name.clone(),
            phone_number: u.phone_number.clone(),
            incoming: u.direction == Direction::Incoming,
            phase,
            duration_secs,
            muted: u.muted,
            digits_sent: u.digits_sent.clone(),
            digits_received: self.digits_received.clone(),
            audio_heard: self.audio_heard,
            end_reason,
        }
    }
}

struct Changes {
    client: Client,
    shown: Arc<std::sync::Mutex<Option<Shown>>>,
    last: Option<CallScreenState>,
}

impl Observed for Changes {
    type Batch = Option<CallScreenState>;

    fn note(&mut self, event: &ClientEvent) -> bool {
        let mut shown = lock(&self.shown);
        match event {
            ClientEvent::Call(update) => {
                match shown.as_mut() {
                    Some(s) if s.update.id == update.id => s.update = update.clone(),
                    // A new call replaces the one on screen (an ended one, or a second
                    // incoming call that was rejected as busy never gets here).
                    _ => *shown = Some(Shown::new(&self.client, update)),
                }
                true
            }
            ClientEvent::CallMedia { id, event } => match shown.as_mut() {
                Some(s) if s.update.id == *id => {
                    match event {
                        CallMediaEvent::FirstAudio => s.audio_heard = true,
                        CallMediaEvent::Dtmf(digit) => s.digits_received.push(*digit),
                    }
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn next_batch(&mut self) -> Option<Option<CallScreenState>> {
        let state = lock(&self.shown).as_ref().map(Shown::state);
        if state == self.last {
            return None;
        }
        self.last = state.clone();
        Some(state)
    }
}

/// Pokes the subscription every second while the call on screen is connected (the duration),
/// until the subscription is gone.
fn spawn_ticker(shown: Arc<std::sync::Mutex<Option<Shown>>>, tick: watch::Sender<u64>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        let mut n = 0u64;
        loop {
            interval.tick().await;
            if tick.is_closed() {
                return;
            }
            let connected = lock(&shown)
                .as_ref()
                .is_some_and(|s| matches!(s.update.state, CallState::Connected { .. }));
            if connected {
                n += 1;
                let _ = tick.send(n);
            }
        }
    });
}
