//! The audio codecs, to and from 20 ms frames of 48 kHz mono PCM: Opus (48 kHz) for XMPP
//! peers, PCMU (G.711 µ-law, 8 kHz) and G.722 (16 kHz audio on an 8 kHz RTP clock) for phone
//! gateways.

use crate::audio::{FRAME_SAMPLES, Resampler, SAMPLE_RATE, clamp_i16};
use ezk_g722::libg722;

/// Opus at this rate is clear speech and fits any uplink.
const OPUS_BITRATE: i32 = 32_000;
/// The longest Opus packet (120 ms) at 48 kHz.
const OPUS_MAX_PACKET_SAMPLES: usize = 5760;
const OPUS_MAX_PACKET_BYTES: usize = 1500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Opus,
    Pcmu,
    G722,
}

impl Codec {
    /// The codec an SDP rtpmap (`opus/48000/2`: name "opus", clock rate 48000) names, if we
    /// have it. Names are case-insensitive, as in SDP.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        match (name.to_ascii_lowercase().as_str(), clock_rate) {
            ("opus", 48_000) => Some(Codec::Opus),
            ("pcmu", 8000) => Some(Codec::Pcmu),
            ("g722", 8000) => Some(Codec::G722),
            _ => None,
        }
    }

    /// The rtpmap encoding name.
    pub fn rtpmap_name(self) -> &'static str {
        match self {
            Codec::Opus => "opus",
            Codec::Pcmu => "PCMU",
            Codec::G722 => "G722",
        }
    }

    /// The MIME type webrtc knows the codec by.
    pub fn mime_type(self) -> &'static str {
        match self {
            Codec::Opus => "audio/opus",
            Codec::Pcmu => "audio/PCMU",
            Codec::G722 => "audio/G722",
        }
    }

    /// The RTP clock rate (8000 for G.722 too, by RFC 3551, though it samples at 16 kHz).
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            Codec::Pcmu | Codec::G722 => 8000,
        }
    }

    /// The channel count in the rtpmap (Opus is always written /2 in SDP, RFC 7587).
    pub fn sdp_channels(self) -> u16 {
        match self {
            Codec::Opus => 2,
            Codec::Pcmu | Codec::G722 => 0,
        }
    }

    /// The static payload type of RFC 3551, if any.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Opus => None,
            Codec::Pcmu => Some(0),
            Codec::G722 => Some(9),
        }
    }

    /// RTP timestamp ticks per 20 ms frame.
    pub fn timestamp_step(self) -> u32 {
        self.rtp_clock_rate() / 50
    }

    /// The rate the codec's audio is sampled at.
    fn sample_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            Codec::Pcmu => 8000,
            Codec::G722 => 16_000,
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.rtpmap_name(), self.rtp_clock_rate())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot set up the {codec} codec: {reason}")]
    Setup { codec: Codec, reason: String },
    #[error("a frame must have {expected} samples, not {actual}")]
    FrameSize { expected: usize, actual: usize },
    #[error("{codec} encoding failed: {reason}")]
    Encode { codec: Codec, reason: String },
    #[error("{codec} payload cannot be decoded: {reason}")]
    Decode { codec: Codec, reason: String },
}

/// Encodes 20 ms frames of 48 kHz mono PCM into one RTP payload each.
pub struct Encoder {
    inner: EncoderKind,
}

enum EncoderKind {
    Opus(Box<opus_rs::OpusEncoder>),
    Pcmu(Resampler),
    G722(Resampler, Box<libg722::encoder::Encoder>),
}

impl Encoder {
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let inner = match codec {
            Codec::Opus => {
                let mut encoder =
                    opus_rs::OpusEncoder::new(SAMPLE_RATE as i32, 1, opus_rs::Application::Voip)
                        .map_err(|reason| CodecError::Setup {
                            codec,
                            reason: reason.to_owned(),
                        })?;
                encoder.bitrate_bps = OPUS_BITRATE;
                EncoderKind::Opus(Box::new(encoder))
            }
            Codec::Pcmu => EncoderKind::Pcmu(Resampler::new(SAMPLE_RATE, codec.sample_rate())),
            Codec::G722 => EncoderKind::G722(
                Resampler::new(SAMPLE_RATE, codec.sample_rate()),
                Box::new(libg722::encoder::Encoder::new(
                    libg722::Bitrate::Mode1_64000,
                    false,
                    false,
                )),
            ),
        };
        Ok(Self { inner })
    }

    pub fn codec(&self) -> Codec {
        match self.inner {
            EncoderKind::Opus(_) => Codec::Opus,
            EncoderKind::Pcmu(_) => Codec::Pcmu,
            EncoderKind::G722(..) => Codec::G722,
        }
    }

    /// One 20 ms frame (FRAME_SAMPLES at 48 kHz) in, one RTP payload out.
    pub fn encode(&mut self, frame48k: &[i16]) -> Result<Vec<u8>, CodecError> {
        if frame48k.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize {
                expected: FRAME_SAMPLES,
                actual: frame48k.len(),
            });
        }
        match &mut self.inner {
            EncoderKind::Opus(encoder) => {
                let mut packet = vec![0_u8; OPUS_MAX_PACKET_BYTES];
                let len = encoder
                    .encode_i16(frame48k, FRAME_SAMPLES, &mut packet)
                    .map_err(|reason| CodecError::Encode {
                        codec: Codec::Opus,
                        reason: reason.to_owned(),
                    })?;
                packet.truncate(len);
                Ok(packet)
            }
            EncoderKind::Pcmu(resampler) => Ok(resampler
                .process(frame48k)
                .into_iter()
                .map(linear_to_ulaw)
                .collect()),
            EncoderKind::G722(resampler, encoder) => {
                Ok(encoder.encode(&resampler.process(frame48k)))
            }
        }
    }
}

/// Decodes RTP payloads into 48 kHz mono PCM (960 samples per 20 ms of audio).
pub struct Decoder {
    inner: DecoderKind,
}

enum DecoderKind {
    Opus(Box<opus_rs::OpusDecoder>),
    Pcmu(Resampler),
    G722(Resampler, Box<libg722::decoder::Decoder>),
}

impl Decoder {
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let inner = match codec {
            Codec::Opus => DecoderKind::Opus(Box::new(
                opus_rs::OpusDecoder::new(SAMPLE_RATE as i32, 1).map_err(|reason| {
                    CodecError::Setup {
                        codec,
                        reason: reason.to_owned(),
                    }
                })?,
            )),
            Codec::Pcmu => DecoderKind::Pcmu(Resampler::new(codec.sample_rate(), SAMPLE_RATE)),
            Codec::G722 => DecoderKind::G722(
                Resampler::new(codec.sample_rate(), SAMPLE_RATE),
                Box::new(libg722::decoder::Decoder::new(
                    libg722::Bitrate::Mode1_64000,
                    false,
                    false,
                )),
            ),
        };
        Ok(Self { inner })
    }

    pub fn codec(&self) -> Codec {
        match self.inner {
            DecoderKind::Opus(_) => Codec::Opus,
            DecoderKind::Pcmu(_) => Codec::Pcmu,
            DecoderKind::G722(..) => Codec::G722,
        }
    }

    /// One RTP payload in, its audio at 48 kHz out (960 samples per 20 ms it carries).
    pub fn decode(&mut self, payload: &[u8]) -> Result<Vec<i16>, CodecError> {
        match &mut self.inner {
            DecoderKind::Opus(decoder) => {
                // An empty payload would ask the decoder to conceal a loss: not what a
                // received packet means.
                if payload.is_empty() {
                    return Err(CodecError::Decode {
                        codec: Codec::Opus,
                        reason: "empty payload".to_owned(),
                    });
                }
                let mut pcm = vec![0.0_f32; OPUS_MAX_PACKET_SAMPLES];
                let samples = decoder
                    .decode(payload, OPUS_MAX_PACKET_SAMPLES, &mut pcm)
                    .map_err(|reason| CodecError::Decode {
                        codec: Codec::Opus,
                        reason: reason.to_owned(),
                    })?;
                pcm.truncate(samples.min(OPUS_MAX_PACKET_SAMPLES));
                Ok(pcm.into_iter().map(|s| clamp_i16(s * 32768.0)).collect())
            }
            DecoderKind::Pcmu(resampler) => {
                let narrow: Vec<i16> = payload.iter().map(|&byte| ulaw_to_linear(byte)).collect();
                Ok(resampler.process(&narrow))
            }
            DecoderKind::G722(resampler, decoder) => {
                let wide = decoder.decode(payload);
                Ok(resampler.process(&wide))
            }
        }
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32_635;

/// G.711 µ-law compression of one sample.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    magnitude = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // The segment is the position of the highest set bit above bit 7.
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && magnitude & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// G.711 µ-law expansion of one byte.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let byte = !byte;
    let exponent = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if byte & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audio::{AudioSource, ToneSource, dominant_frequency};

    fn round_trip(codec: Codec, freq: f32) -> Vec<i16> {
        let mut encoder = Encoder::new(codec).unwrap_or_else(|e| panic!("{e}"));
        let mut decoder = Decoder::new(codec).unwrap_or_else(|e| panic!("{e}"));
        let mut source = ToneSource::new(freq, 8000);
        let mut frame = [0_i16; FRAME_SAMPLES];
        let mut output = Vec::new();
        for _ in 0..50 {
            source.read_frame(&mut frame);
            let payload = encoder.encode(&frame).unwrap_or_else(|e| panic!("{e}"));
            let decoded = decoder.decode(&payload).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(decoded.len(), FRAME_SAMPLES, "{codec}");
            output.extend(decoded);
        }
        output
    }

    #[test]
    fn every_codec_carries_a_tone() {
        for codec in [Codec::Opus, Codec::Pcmu, Codec::G722] {
            for freq in [440.0, 660.0, 1000.0, 3000.0] {
                let output = round_trip(codec, freq);
                let heard = dominant_frequency(&output[24_000..], SAMPLE_RATE).unwrap_or_default();
                assert!((heard - freq).abs() < 3.0, "{codec} {freq}: {heard}");
                let rms = (output[24_000..]
                    .iter()
                    .map(|&s| f64::from(s).powi(2))
                    .sum::<f64>()
                    / 24_000.0)
                    .sqrt();
                // A sine of amplitude 8000 has an RMS of about 5657.
                assert!((4500.0..7000.0).contains(&rms), "{codec} {freq}: rms {rms}");
            }
        }
    }

    #[test]
    fn payload_sizes() {
        let frame = [0_i16; FRAME_SAMPLES];
        let mut pcmu = Encoder::new(Codec::Pcmu).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pcmu.encode(&frame).map(|p| p.len()).ok(), Some(160));
        let mut g722 = Encoder::new(Codec::G722).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g722.encode(&frame).map(|p| p.len()).ok(), Some(160));
        let mut opus = Encoder::new(Codec::Opus).unwrap_or_else(|e| panic!("{e}"));
        assert!(opus.encode(&frame).map(|p| p.len()).unwrap_or(0) > 0);
        assert!(matches!(
            opus.encode(&frame[..100]),
            Err(CodecError::FrameSize {
                expected: 960,
                actual: 100
            })
        ));
    }

    #[test]
    fn ulaw_matches_g711() {
        // Reference points from G.711: 0 -> 0xFF, full scale -> 0x80 / 0x00.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        // Every code expands and compresses back to itself (0x7F is the "negative zero").
        for byte in 0..=255_u8 {
            let expected = if byte == 0x7F { 0xFF } else { byte };
            assert_eq!(linear_to_ulaw(ulaw_to_linear(byte)), expected, "{byte:#x}");
        }
    }

    #[test]
    fn garbage_payloads_do_not_panic() {
        let mut state = 0x1234_5678_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for codec in [Codec::Opus, Codec::Pcmu, Codec::G722] {
            let mut decoder = Decoder::new(codec).unwrap_or_else(|e| panic!("{e}"));
            for len in [0_usize, 1, 2, 3, 7, 40, 160, 400, 1200] {
                let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let _ = decoder.decode(&payload);
            }
        }
    }

    #[test]
    fn rtpmap_names() {
        assert_eq!(Codec::from_rtpmap("opus", 48_000), Some(Codec::Opus));
        assert_eq!(Codec::from_rtpmap("OPUS", 48_000), Some(Codec::Opus));
        assert_eq!(Codec::from_rtpmap("PCMU", 8000), Some(Codec::Pcmu));
        assert_eq!(Codec::from_rtpmap("g722", 8000), Some(Codec::G722));
        assert_eq!(Codec::from_rtpmap("PCMU", 16_000), None);
        assert_eq!(Codec::from_rtpmap("PCMA", 8000), None);
        assert_eq!(Codec::G722.timestamp_step(), 160);
        assert_eq!(Codec::Opus.timestamp_step(), 960);
    }
}
