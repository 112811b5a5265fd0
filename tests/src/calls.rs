//! Helpers for call tests: tones to send, recordings of what comes back, waiting for a call's
//! updates.

use std::time::Duration;

use linnet_sdk::audio::{RecordingSink, ToneSource, dominant_frequency};
use linnet_sdk::store::CallEndReason;
use linnet_sdk::{AudioIo, CallState, CallUpdate, ClientEvent};

use crate::TestClient;

/// How long a call step may take.
pub const CALL_STEP: Duration = Duration::from_secs(30);

/// A tone to send, and a recorder of what comes back.
pub fn tone_audio(tone_hz: f32) -> (AudioIo, RecordingSink) {
    let recording = RecordingSink::new();
    (
        AudioIo {
            source: Box::new(ToneSource::new(tone_hz, 8_000)),
            sink: Box::new(recording.clone()),
        },
        recording,
    )
}

/// The next update of a call that satisfies `pred`.
pub async fn call_update(
    c: &mut TestClient,
    what: &str,
    mut pred: impl FnMut(&CallUpdate) -> bool,
) -> CallUpdate {
    let deadline = tokio::time::Instant::now() + CALL_STEP;
    loop {
        let event = tokio::time::timeout_at(deadline, c.events.recv())
            .await
            .unwrap_or_else(|_| panic!("{}: timed out waiting for {what}", c.jid));
        match event {
            Ok(ClientEvent::Call(u)) if pred(&u) => return u,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{}: events ended waiting for {what}: {e}", c.jid),
        }
    }
}

/// Waits until call `id` is in a state `wanted` accepts; fails if it ends first.
pub async fn reaches(c: &mut TestClient, id: &str, what: &str, wanted: fn(&CallState) -> bool) {
    let u = call_update(c, what, |u| {
        u.id == id && (wanted(&u.state) || matches!(u.state, CallState::Ended { .. }))
    })
    .await;
    assert!(wanted(&u.state), "{}: the call ended instead: {u:?}", c.jid);
}

pub fn is_connected(state: &CallState) -> bool {
    matches!(state, CallState::Connected { .. })
}

/// Waits for the end of call `id`; returns why it ended.
pub async fn ended(c: &mut TestClient, id: &str) -> CallEndReason {
    let u = call_update(c, "the end of the call", |u| {
        u.id == id && matches!(u.state, CallState::Ended { .. })
    })
    .await;
    match u.state {
        CallState::Ended { reason } => reason,
        _ => unreachable!("filtered above"),
    }
}

/// The dominant frequency of the last `seconds` of a recording (None: silence).
pub fn heard(recording: &RecordingSink, seconds: f32) -> Option<f32> {
    let samples = recording.samples();
    let take = (48_000.0 * seconds) as usize;
    let tail = &samples[samples.len().saturating_sub(take)..];
    dominant_frequency(tail, 48_000)
}

/// Asserts a frequency within 10 Hz of `expected`.
pub fn assert_near(found: Option<f32>, expected: f32, who: &str) {
    let found = found.unwrap_or_else(|| panic!("{who} heard silence"));
    assert!(
        (found - expected).abs() <= 10.0,
        "{who} heard {found} Hz, expected {expected} Hz"
    );
}
