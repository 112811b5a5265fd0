//! Linnet's voice calls below the signalling state machine (which lives in linnet-sdk).
//!
//! - [`sdp`]: Jingle (XEP-0166/0167/0176/0320/0338) <-> SDP, with the rules that make webrtc and
//!   phone gateways agree (one telephone-event at the codec's rate, a direction and a BUNDLE
//!   group always, full candidate attributes, trickle yes, renomination never).
//! - [`media`]: one call's media over the webrtc crate (ICE, DTLS-SRTP, RTP).
//! - [`codec`]: Opus (48 kHz), PCMU and G.722, to and from 20 ms frames of 48 kHz PCM.
//! - [`dtmf`]: RFC 4733 telephone-event packets and dial strings.
//! - [`audio`]: the audio-device interface the platforms implement, plus WAV files, tones and a
//!   frequency detector for the CLI and tests.

pub mod audio;
pub mod codec;
pub mod dtmf;
pub mod media;
pub mod sdp;

pub use audio::{AudioSink, AudioSource};
pub use codec::Codec;
pub use dtmf::DialStep;
pub use media::{CodecProfile, IceServer, MediaConfig, MediaError, MediaEvent, MediaSession};
