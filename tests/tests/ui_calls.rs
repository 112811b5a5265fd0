//! The CallScreen view model against the real servers: what each side's screen shows from
//! dialling to the end (ringing, connecting, connected with a ticking duration, muted, digits
//! sent and received, ended with the reason).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_sdk::AudioIo;
use linnet_sdk::audio::{NullSink, ToneSource};
use linnet_sdk::store::CallEndReason;
use linnet_tests::*;
use linnet_ui::{CallPhase, CallScreen, CallScreenState, TaskHandle};

/// Everything a screen was shown, in order.
struct Screen {
    seen: Arc<Mutex<Vec<Option<CallScreenState>>>>,
    _handle: TaskHandle,
}

impl Screen {
    fn subscribe(screen: &CallScreen) -> Screen {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = screen
            .subscribe(Box::new(move |state| sink.lock().unwrap().push(state)))
            .unwrap();
        Screen {
            seen,
            _handle: handle,
        }
    }

    /// Waits until the latest state satisfies `pred`, and returns it.
    async fn until(&self, what: &str, pred: impl Fn(&CallScreenState) -> bool) -> CallScreenState {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(Some(state)) = self.seen.lock().unwrap().last()
                && pred(state)
            {
                return state.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                self.seen.lock().unwrap().last()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn phases(&self) -> Vec<CallPhase> {
        let mut phases: Vec<CallPhase> = Vec::new();
        for state in self.seen.lock().unwrap().iter().flatten() {
            if phases.last() != Some(&state.phase) {
                phases.push(state.phase);
            }
        }
        phases
    }
}

fn tone(hz: f32) -> AudioIo {
    AudioIo {
        source: Box::new(ToneSource::new(hz, 8_000)),
        sink: Box::new(NullSink),
    }
}

async fn call_screen_shows_the_whole_call(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let alice_screen = CallScreen::new(alice.client.clone());
    let bob_screen = CallScreen::new(bob.client.clone());
    let alice_seen = Screen::subscribe(&alice_screen);
    let bob_seen = Screen::subscribe(&bob_screen);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        alice_seen.seen.lock().unwrap().first(),
        Some(&None),
        "no call at first"
    );

    let id = alice_screen.call(&bob.jid, tone(440.0)).await.unwrap();
    let incoming = bob_seen
        .until("the incoming call", |s| s.phase == CallPhase::Incoming)
        .await;
    assert!(incoming.incoming);
    assert_eq!(incoming.peer, alice.jid);
    assert_eq!(incoming.id, id);
    assert!(
        alice.jid.starts_with(&incoming.display_name),
        "{incoming:?}"
    );
    bob_screen.answer(&id, tone(660.0)).unwrap();

    alice_seen
        .until("connected for a second", |s| {
            s.phase == CallPhase::Connected && s.duration_secs >= 1 && s.audio_heard
        })
        .await;
    alice_screen.set_muted(&id, true).unwrap();
    alice_seen.until("muted", |s| s.muted).await;
    alice_screen.send_dtmf(&id, "5#").unwrap();
    alice_seen
        .until("digits sent", |s| s.digits_sent == "5#")
        .await;
    bob_seen
        .until("digits received", |s| s.digits_received == "5#")
        .await;
    assert!(matches!(
        alice_screen.send_dtmf(&id, "5x"),
        Err(linnet_sdk::LinnetError::InvalidDigits { .. })
    ));

    alice_screen.hang_up(&id).unwrap();
    let ended = alice_seen
        .until("ended", |s| s.phase == CallPhase::Ended)
        .await;
    assert_eq!(ended.end_reason, Some(CallEndReason::HungUp));
    let ended = bob_seen
        .until("ended", |s| s.phase == CallPhase::Ended)
        .await;
    assert_eq!(ended.end_reason, Some(CallEndReason::RemoteHungUp));
    let phases = alice_seen.phases();
    assert_eq!(phases.first(), Some(&CallPhase::Calling), "{phases:?}");
    assert!(
        phases.ends_with(&[CallPhase::Connected, CallPhase::Ended]),
        "{phases:?}"
    );
    assert!(matches!(
        bob_screen.answer(&id, tone(660.0)),
        Err(linnet_sdk::LinnetError::NoSuchCall { .. })
    ));
}
on_both_servers!(call_screen_shows_the_whole_call);
