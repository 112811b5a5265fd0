//! Two media sessions in one process call each other over loopback: tones both ways, for
//! every codec.
#![allow(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod common;

use std::time::Duration;

use common::*;
use linnet_calls::audio::{RecordingSink, ToneSource};
use linnet_calls::codec::Codec;
use linnet_calls::media::{CodecProfile, MediaConfig};

async fn tones_both_ways(
    profile: CodecProfile,
    munge: impl Fn(&str) -> String,
    expected: Codec,
) -> TestResult {
    let config = MediaConfig {
        profile,
        ..Default::default()
    };
    let heard_by_a = RecordingSink::new();
    let heard_by_b = RecordingSink::new();
    let mut call = call(
        config.clone(),
        config,
        Box::new(ToneSource::new(440.0, 8000)),
        Box::new(heard_by_a.clone()),
        Box::new(ToneSource::new(660.0, 8000)),
        Box::new(heard_by_b.clone()),
        munge,
    )
    .await?;
    first_audio(&mut call.b).await?;
    let first_audio_ms = call.started.elapsed().as_millis();
    println!("{expected}: time from offer() to the callee's first audio: {first_audio_ms} ms");
    first_audio(&mut call.a).await?;
    assert_eq!(call.a.session.codec(), Some(expected));
    assert_eq!(call.b.session.codec(), Some(expected));
    let skip = Duration::from_millis(200);
    assert_near(
        heard_frequency(&heard_by_b, skip).await?,
        440.0,
        "B hears A",
    );
    assert_near(
        heard_frequency(&heard_by_a, skip).await?,
        660.0,
        "A hears B",
    );
    hang_up(&call).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_between_xmpp_peers() -> TestResult {
    tones_both_ways(CodecProfile::Xmpp, str::to_owned, Codec::Opus).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g722_to_a_gateway() -> TestResult {
    tones_both_ways(CodecProfile::Phone, str::to_owned, Codec::G722).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcmu_to_a_gateway_without_g722() -> TestResult {
    tones_both_ways(
        CodecProfile::Phone,
        |sdp| without_payload_type(sdp, 9),
        Codec::Pcmu,
    )
    .await
}
