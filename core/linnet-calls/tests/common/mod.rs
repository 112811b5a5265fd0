//! Two MediaSessions in one process, wired offer <-> answer with trickled candidates.
#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use linnet_calls::audio::{AudioSink, AudioSource, RecordingSink, SAMPLE_RATE, dominant_frequency};
use linnet_calls::media::{MediaConfig, MediaEvent, MediaSession};
use tokio::sync::mpsc;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub struct Side {
    pub session: Arc<MediaSession>,
    /// Every event but LocalCandidate (those go to the other side).
    pub events: mpsc::UnboundedReceiver<MediaEvent>,
    /// Every local candidate this side emitted.
    pub candidates: Arc<std::sync::Mutex<Vec<String>>>,
}

pub struct Call {
    pub a: Side,
    pub b: Side,
    pub started: Instant,
}

/// A calls B: A offers, `munge_offer` edits the offer on its way (a gateway that only speaks
/// some codecs), B answers, candidates trickle both ways.
pub async fn call(
    config_a: MediaConfig,
    config_b: MediaConfig,
    source_a: Box<dyn AudioSource>,
    sink_a: Box<dyn AudioSink>,
    source_b: Box<dyn AudioSource>,
    sink_b: Box<dyn AudioSink>,
    munge_offer: impl Fn(&str) -> String,
) -> Result<Call, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (a, offer, a_events) = MediaSession::offer(config_a, source_a, sink_a).await?;
    let a = Arc::new(a);
    let offer = munge_offer(&offer);
    let (b, answer, b_events) = MediaSession::answer(config_b, &offer, source_b, sink_b).await?;
    let b = Arc::new(b);
    if std::env::var_os("LINNET_PRINT_SDP").is_some() {
        println!("OFFER:\n{offer}\nANSWER:\n{answer}");
    }
    a.set_remote_answer(&answer).await?;
    let a_side = forward(a.clone(), a_events, b.clone(), "A", started);
    let b_side = forward(b.clone(), b_events, a.clone(), "B", started);
    Ok(Call {
        a: a_side,
        b: b_side,
        started,
    })
}

fn forward(
    session: Arc<MediaSession>,
    mut events: mpsc::UnboundedReceiver<MediaEvent>,
    peer: Arc<MediaSession>,
    name: &'static str,
    started: Instant,
) -> Side {
    // LINNET_TRACE_EVENTS=1 prints each event with the time since offer().
    let trace = std::env::var_os("LINNET_TRACE_EVENTS").is_some();
    let (tx, rx) = mpsc::unbounded_channel();
    let candidates = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = candidates.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if trace {
                println!("{:>6} ms {name}: {event:?}", started.elapsed().as_millis());
            }
            match event {
                MediaEvent::LocalCandidate { mid, candidate } => {
                    seen.lock().unwrap().push(candidate.clone());
                    if let Err(error) = peer.add_remote_candidate(&mid, &candidate).await {
                        eprintln!("candidate {candidate} refused: {error}");
                    }
                }
                other => {
                    let _ = tx.send(other);
                }
            }
        }
    });
    Side {
        session,
        events: rx,
        candidates,
    }
}

/// The next event that `pick` accepts (others are dropped), or an error after `limit`.
pub async fn wait_event<T>(
    events: &mut mpsc::UnboundedReceiver<MediaEvent>,
    limit: Duration,
    mut pick: impl FnMut(&MediaEvent) -> Option<T>,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => return Err(format!("no such event within {limit:?}")),
            Ok(None) => return Err("event stream ended".to_owned()),
            Ok(Some(MediaEvent::Failed { reason })) => {
                return Err(format!("media failed: {reason}"));
            }
            Ok(Some(event)) => {
                if let Some(value) = pick(&event) {
                    return Ok(value);
                }
            }
        }
    }
}

pub async fn first_audio(side: &mut Side) -> Result<(), String> {
    wait_event(&mut side.events, Duration::from_secs(15), |event| {
        (*event == MediaEvent::FirstAudio).then_some(())
    })
    .await
}

/// Waits until `recording` holds `samples` more samples than `from`, then returns them.
pub async fn record_after(
    recording: &RecordingSink,
    from: usize,
    samples: usize,
) -> Result<Vec<i16>, String> {
    let deadline = Instant::now()
        + Duration::from_secs(10)
        + Duration::from_secs_f64(samples as f64 / f64::from(SAMPLE_RATE));
    loop {
        let got = recording.samples_since(from);
        if got.len() >= samples {
            return Ok(got[..samples].to_vec());
        }
        if Instant::now() > deadline {
            return Err(format!("only {} of {samples} samples arrived", got.len()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The dominant frequency of the next half second that `recording` hears, after skipping
/// `skip` (codec and jitter start-up).
pub async fn heard_frequency(
    recording: &RecordingSink,
    skip: Duration,
) -> Result<Option<f32>, String> {
    let skip_samples = (skip.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
    let stretch = record_after(
        recording,
        recording.len(),
        skip_samples + SAMPLE_RATE as usize / 2,
    )
    .await?;
    Ok(dominant_frequency(&stretch[skip_samples..], SAMPLE_RATE))
}

pub fn assert_near(heard: Option<f32>, expected: f32, what: &str) {
    let heard = heard.unwrap_or_else(|| panic!("{what}: heard silence, expected {expected} Hz"));
    assert!(
        (heard - expected).abs() <= 5.0,
        "{what}: heard {heard} Hz, expected {expected} Hz"
    );
}

/// Removes a payload type from the offer's audio section (and its rtpmap/fmtp lines).
pub fn without_payload_type(sdp: &str, payload_type: u8) -> String {
    let pt = payload_type.to_string();
    let mut out = String::new();
    for line in sdp.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with("m=audio ") {
            let fields: Vec<&str> = line.split(' ').collect();
            let mut kept: Vec<&str> = fields[..3].to_vec();
            kept.extend(fields[3..].iter().filter(|f| **f != pt));
            out.push_str(&kept.join(" "));
        } else if line.starts_with(&format!("a=rtpmap:{pt} "))
            || line.starts_with(&format!("a=fmtp:{pt} "))
        {
            continue;
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

pub async fn hang_up(call: &Call) {
    call.a.session.close().await;
    call.b.session.close().await;
}
