//! DTMF, mute, WAV files and bad input through real media sessions on loopback.
#![allow(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use linnet_calls::audio::{
    NullSink, RecordingSink, SAMPLE_RATE, SilenceSource, TeeSink, ToneSource, WavSink, WavSource,
    dominant_frequency,
};
use linnet_calls::dtmf::{DialStep, parse_digits};
use linnet_calls::media::{CodecProfile, MediaConfig, MediaError, MediaEvent, MediaSession};

fn config(profile: CodecProfile) -> MediaConfig {
    MediaConfig {
        profile,
        ..Default::default()
    }
}

async fn tone_call(
    profile: CodecProfile,
    heard_by_b: RecordingSink,
) -> Result<Call, Box<dyn std::error::Error>> {
    call(
        config(profile),
        config(profile),
        Box::new(ToneSource::new(440.0, 8000)),
        Box::new(NullSink),
        Box::new(SilenceSource),
        Box::new(heard_by_b),
        str::to_owned,
    )
    .await
}

/// A dials `digits`; returns what B received (in order) and when, once A reports DialDone.
async fn dial(
    call: &mut Call,
    digits: &str,
) -> Result<Vec<(char, Instant)>, Box<dyn std::error::Error>> {
    let steps = parse_digits(digits)?;
    let expected = steps
        .iter()
        .filter(|s| matches!(s, DialStep::Digit(_)))
        .count();
    call.a.session.send_dtmf(steps)?;
    // Both streams at once, so each digit's arrival time is when B reported it.
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let mut dial_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !dial_done || received.len() < expected {
        tokio::select! {
            Some(event) = call.a.events.recv() => match event {
                MediaEvent::DtmfSent(digit) => sent.push(digit),
                MediaEvent::DialDone => dial_done = true,
                _ => {}
            },
            Some(event) = call.b.events.recv() => if let MediaEvent::DtmfReceived(digit) = event {
                received.push((digit, Instant::now()));
            },
            _ = tokio::time::sleep_until(deadline) => {
                return Err(format!("dialling {digits:?}: sent {sent:?}, received {received:?}, done {dial_done}").into());
            }
        }
    }
    let wanted: String = digits.chars().filter(|c| *c != ',').collect();
    assert_eq!(sent.iter().collect::<String>(), wanted, "DtmfSent");
    // Nothing more arrives: every digit is reported once.
    let extra = wait_event(
        &mut call.b.events,
        Duration::from_millis(500),
        |event| match event {
            MediaEvent::DtmfReceived(digit) => Some(*digit),
            _ => None,
        },
    )
    .await;
    assert!(extra.is_err(), "an extra digit arrived: {extra:?}");
    Ok(received)
}

async fn dtmf_for(profile: CodecProfile) -> TestResult {
    let mut call = tone_call(profile, RecordingSink::new()).await?;
    first_audio(&mut call.b).await?;
    let received = dial(&mut call, "0123456789*#").await?;
    let digits: String = received.iter().map(|(d, _)| *d).collect();
    assert_eq!(digits, "0123456789*#");

    // A ',' pauses two seconds between digits.
    let received = dial(&mut call, "1,2").await?;
    let digits: String = received.iter().map(|(d, _)| *d).collect();
    assert_eq!(digits, "12");
    let gap = received[1].1 - received[0].1;
    assert!(gap >= Duration::from_millis(1900), "pause of {gap:?}");
    assert!(gap < Duration::from_millis(3000), "pause of {gap:?}");
    hang_up(&call).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_between_xmpp_peers() -> TestResult {
    dtmf_for(CodecProfile::Xmpp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_to_a_gateway() -> TestResult {
    dtmf_for(CodecProfile::Phone).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_queued_before_connecting_is_played_once_connected() -> TestResult {
    let config_a = config(CodecProfile::Xmpp);
    let (a, offer, mut a_events) =
        MediaSession::offer(config_a, Box::new(SilenceSource), Box::new(NullSink)).await?;
    a.send_dtmf(parse_digits("#5")?)?;
    assert!(matches!(
        a.send_dtmf(vec![DialStep::Digit('x')]),
        Err(MediaError::Dtmf(_))
    ));
    let (b, answer, mut b_events) = MediaSession::answer(
        config(CodecProfile::Xmpp),
        &offer,
        Box::new(SilenceSource),
        Box::new(NullSink),
    )
    .await?;
    a.set_remote_answer(&answer).await?;
    // Trickle by hand here: candidates from the two event streams.
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while received.len() < 2 {
        tokio::select! {
            Some(event) = a_events.recv() => if let MediaEvent::LocalCandidate { mid, candidate } = event {
                b.add_remote_candidate(&mid, &candidate).await?;
            },
            Some(event) = b_events.recv() => match event {
                MediaEvent::LocalCandidate { mid, candidate } => a.add_remote_candidate(&mid, &candidate).await?,
                MediaEvent::DtmfReceived(digit) => received.push(digit),
                _ => {}
            },
            _ = tokio::time::sleep_until(deadline) => panic!("digits not received: {received:?}"),
        }
    }
    assert_eq!(received, "#5");
    a.close().await;
    b.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn muted_sends_silence() -> TestResult {
    let heard_by_b = RecordingSink::new();
    let mut call = tone_call(CodecProfile::Xmpp, heard_by_b.clone()).await?;
    first_audio(&mut call.b).await?;
    let skip = Duration::from_millis(200);
    assert_near(
        heard_frequency(&heard_by_b, skip).await?,
        440.0,
        "before muting",
    );
    call.a.session.set_muted(true);
    assert!(call.a.session.is_muted());
    assert_eq!(
        heard_frequency(&heard_by_b, skip).await?,
        None,
        "while muted"
    );
    // RTP keeps flowing while muted.
    let frames = heard_by_b.frames_written();
    record_after(&heard_by_b, heard_by_b.len(), SAMPLE_RATE as usize / 5).await?;
    assert!(heard_by_b.frames_written() >= frames + 10);
    call.a.session.set_muted(false);
    assert_near(
        heard_frequency(&heard_by_b, skip).await?,
        440.0,
        "after unmuting",
    );
    hang_up(&call).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wav_file_in_wav_file_out() -> TestResult {
    let dir = std::env::temp_dir().join(format!("linnet-media-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("tone.wav");
    let output = dir.join("heard.wav");
    // Two seconds of 660 Hz, 44.1 kHz stereo: the source must convert it.
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&input, spec)?;
    for i in 0..88_200 {
        let sample =
            ((2.0 * std::f32::consts::PI * 660.0 * i as f32 / 44_100.0).sin() * 9000.0) as i16;
        writer.write_sample(sample)?;
        writer.write_sample(sample)?;
    }
    writer.finalize()?;

    let progress = RecordingSink::new();
    let sink = TeeSink::new(vec![
        Box::new(WavSink::create(&output)?),
        Box::new(progress.clone()),
    ]);
    let mut call = call(
        config(CodecProfile::Xmpp),
        config(CodecProfile::Xmpp),
        Box::new(WavSource::open(&input)?),
        Box::new(NullSink),
        Box::new(SilenceSource),
        Box::new(sink),
        str::to_owned,
    )
    .await?;
    first_audio(&mut call.b).await?;
    // A second of the file is enough; closing finalizes the WAV file.
    record_after(&progress, 0, SAMPLE_RATE as usize).await?;
    hang_up(&call).await;
    drop(call);

    let reader = hound::WavReader::open(&output)?;
    assert_eq!(reader.spec().sample_rate, 48_000);
    assert_eq!(reader.spec().channels, 1);
    let samples: Vec<i16> = reader.into_samples::<i16>().collect::<Result<_, _>>()?;
    assert!(
        samples.len() >= SAMPLE_RATE as usize,
        "{} samples",
        samples.len()
    );
    let stretch = &samples[9600..9600 + 24_000];
    let heard = dominant_frequency(stretch, SAMPLE_RATE);
    assert_near(heard, 660.0, "the recorded file");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sdp_is_a_typed_error() -> TestResult {
    let answer = |sdp: &'static str| async move {
        MediaSession::answer(
            config(CodecProfile::Xmpp),
            sdp,
            Box::new(SilenceSource),
            Box::new(NullSink),
        )
        .await
        .map(|_| ())
    };
    assert!(matches!(
        answer("").await,
        Err(MediaError::InvalidSdp { .. })
    ));
    assert!(matches!(
        answer("garbage\r\n").await,
        Err(MediaError::InvalidSdp { .. })
    ));
    assert!(matches!(
        answer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF x\r\n").await,
        Err(MediaError::InvalidSdp { .. })
    ));
    assert!(matches!(
        answer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=rtpmap:8 PCMA/8000\r\n").await,
        Err(MediaError::NoCommonCodec)
    ));
    // A codec we know but an SDP webrtc cannot use (no ICE credentials, no fingerprint).
    let broken = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\n";
    assert!(answer(broken).await.is_err());

    let (a, _offer, _events) = MediaSession::offer(
        config(CodecProfile::Phone),
        Box::new(SilenceSource),
        Box::new(NullSink),
    )
    .await?;
    assert!(matches!(
        a.set_remote_answer("nonsense").await,
        Err(MediaError::InvalidSdp { .. })
    ));
    assert!(matches!(
        a.add_remote_candidate("0", "not a candidate").await,
        Err(MediaError::InvalidCandidate { .. })
    ));
    // Buffered until the remote description is set: accepted now.
    a.add_remote_candidate(
        "0",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
    )
    .await?;
    assert_eq!(a.codec(), None);
    a.close().await;
    a.close().await;
    assert!(matches!(a.send_dtmf(vec![]), Err(MediaError::Closed)));
    assert!(matches!(
        a.set_remote_answer("v=0").await,
        Err(MediaError::Closed)
    ));
    Ok(())
}
