//! The audio-device interface the platforms implement (20 ms frames of 48 kHz mono PCM in and
//! out), plus what a machine without a sound card needs: tones, silence, WAV files, in-memory
//! recording, and a frequency detector for tests and the CLI.

use std::collections::VecDeque;
use std::f32::consts::PI;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Every frame that crosses this interface is 48 kHz mono.
pub const SAMPLE_RATE: u32 = 48_000;
/// 20 ms at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;

/// Where a call's outgoing audio comes from (a microphone on a device).
pub trait AudioSource: Send + 'static {
    /// Fills one 20 ms frame (FRAME_SAMPLES). Returns false when the source has ended (the
    /// session then sends silence).
    fn read_frame(&mut self, frame: &mut [i16]) -> bool;
}

/// Where a call's incoming audio goes (a speaker on a device).
pub trait AudioSink: Send + 'static {
    fn write_frame(&mut self, frame: &[i16]);
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot open or read the WAV file: {reason}")]
    WavRead { reason: String },
    #[error("cannot write the WAV file: {reason}")]
    WavWrite { reason: String },
    #[error("unsupported WAV format: {reason}")]
    UnsupportedFormat { reason: String },
}

/// A continuous sine tone.
pub struct ToneSource {
    phase: f32,
    phase_step: f32,
    amplitude: f32,
}

impl ToneSource {
    pub fn new(freq_hz: f32, amplitude: i16) -> Self {
        Self {
            phase: 0.0,
            phase_step: 2.0 * PI * freq_hz / SAMPLE_RATE as f32,
            amplitude: f32::from(amplitude),
        }
    }
}

impl AudioSource for ToneSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> bool {
        for sample in frame.iter_mut() {
            *sample = (self.phase.sin() * self.amplitude) as i16;
            // Keep the phase small so f32 precision does not drift the pitch over long calls.
            self.phase = (self.phase + self.phase_step) % (2.0 * PI);
        }
        true
    }
}

/// Digital silence, for ever.
pub struct SilenceSource;

impl AudioSource for SilenceSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> bool {
        frame.fill(0);
        true
    }
}

/// Plays a WAV file (16-bit, 8-bit or 32-bit float PCM, any rate and channel count), mixed
/// down to mono and resampled to 48 kHz. Ends at the end of the file.
pub struct WavSource {
    samples: VecDeque<i16>,
}

impl WavSource {
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AudioError> {
        let reader =
            hound::WavReader::open(path.as_ref()).map_err(|error| AudioError::WavRead {
                reason: format!("{}: {error}", path.as_ref().display()),
            })?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels.max(1));
        let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 16) => {
                collect_samples(reader.into_samples::<i16>(), f32::from)?
            }
            (hound::SampleFormat::Int, 8) => {
                collect_samples(reader.into_samples::<i8>(), |s| f32::from(s) * 256.0)?
            }
            (hound::SampleFormat::Int, 24) => {
                collect_samples(reader.into_samples::<i32>(), |s| s as f32 / 256.0)?
            }
            (hound::SampleFormat::Float, 32) => {
                collect_samples(reader.into_samples::<f32>(), |s| s * 32767.0)?
            }
            (format, bits) => {
                return Err(AudioError::UnsupportedFormat {
                    reason: format!("{bits}-bit {format:?}"),
                });
            }
        };
        let mono: Vec<i16> = interleaved
            .chunks(channels)
            .map(|frame| clamp_i16(frame.iter().sum::<f32>() / frame.len() as f32))
            .collect();
        let samples = resample_all(&mono, spec.sample_rate, SAMPLE_RATE).into();
        Ok(Self { samples })
    }

    /// Samples (at 48 kHz) still to be played.
    pub fn remaining_samples(&self) -> usize {
        self.samples.len()
    }
}

fn collect_samples<S, I>(samples: I, to_f32: impl Fn(S) -> f32) -> Result<Vec<f32>, AudioError>
where
    I: Iterator<Item = hound::Result<S>>,
{
    samples
        .map(|sample| {
            sample.map(&to_f32).map_err(|error| AudioError::WavRead {
                reason: error.to_string(),
            })
        })
        .collect()
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> bool {
        if self.samples.is_empty() {
            frame.fill(0);
            return false;
        }
        for sample in frame.iter_mut() {
            *sample = self.samples.pop_front().unwrap_or(0);
        }
        true
    }
}

/// Records to a 48 kHz mono 16-bit WAV file. Finalized on drop, or by [`WavSink::finish`] to
/// see the error.
pub struct WavSink {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
}

impl WavSink {
    pub fn create(path: impl AsRef<Path>) -> Result<Self, AudioError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path.as_ref(), spec).map_err(|error| {
            AudioError::WavWrite {
                reason: format!("{}: {error}", path.as_ref().display()),
            }
        })?;
        Ok(Self {
            writer: Some(writer),
        })
    }

    /// Writes the header's final sizes and closes the file.
    pub fn finish(&mut self) -> Result<(), AudioError> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|error| AudioError::WavWrite {
                reason: error.to_string(),
            }),
            None => Ok(()),
        }
    }
}

impl AudioSink for WavSink {
    fn write_frame(&mut self, frame: &[i16]) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for &sample in frame {
            if let Err(error) = writer.write_sample(sample) {
                tracing::warn!(%error, "WAV recording stopped");
                self.writer = None;
                return;
            }
        }
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Err(error) = self.finish() {
            tracing::warn!(%error, "WAV recording not finalized");
        }
    }
}

/// Keeps what it hears in memory. Clones share the recording, so a test keeps one handle and
/// gives the other to the session.
#[derive(Clone, Default)]
pub struct RecordingSink {
    recording: Arc<Mutex<Recording>>,
}

#[derive(Default)]
struct Recording {
    samples: Vec<i16>,
    frames: u64,
}

impl RecordingSink {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn samples(&self) -> Vec<i16> {
        self.lock().samples.clone()
    }

    pub fn frames_written(&self) -> u64 {
        self.lock().frames
    }

    /// The samples recorded from `start` on (an index into [`RecordingSink::samples`]).
    pub fn samples_since(&self, start: usize) -> Vec<i16> {
        self.lock()
            .samples
            .get(start..)
            .map(<[i16]>::to_vec)
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.lock().samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        // A panic while holding this lock leaves plain data behind: keep using it.
        self.recording
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl AudioSink for RecordingSink {
    fn write_frame(&mut self, frame: &[i16]) {
        let mut recording = self.lock();
        recording.samples.extend_from_slice(frame);
        recording.frames += 1;
    }
}

/// Writes every frame to each of several sinks (e.g. the speaker and a recording).
pub struct TeeSink {
    sinks: Vec<Box<dyn AudioSink>>,
}

impl TeeSink {
    pub fn new(sinks: Vec<Box<dyn AudioSink>>) -> Self {
        Self { sinks }
    }
}

impl AudioSink for TeeSink {
    fn write_frame(&mut self, frame: &[i16]) {
        for sink in &mut self.sinks {
            sink.write_frame(frame);
        }
    }
}

/// Discards everything.
pub struct NullSink;

impl AudioSink for NullSink {
    fn write_frame(&mut self, _frame: &[i16]) {}
}

/// Below this RMS (about -60 dBFS) a stretch counts as silence.
const SILENCE_RMS: f64 = 33.0;
const SCAN_LOW_HZ: f32 = 50.0;
const SCAN_HIGH_HZ: f32 = 4000.0;
const SCAN_STEP_HZ: f32 = 5.0;

/// Dominant frequency in Hz of a stretch of samples (Goertzel scan: accurate to a few Hz
/// between 100 and 4000 Hz), None for silence.
pub fn dominant_frequency(samples: &[i16], sample_rate: u32) -> Option<f32> {
    if samples.len() < 64 || sample_rate == 0 {
        return None;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (energy / samples.len() as f64).sqrt();
    if rms < SILENCE_RMS {
        return None;
    }
    // A Hann window keeps a strong tone's leakage from hiding its neighbourhood.
    let n = samples.len();
    let windowed: Vec<f32> = samples
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let w = 0.5 - 0.5 * (2.0 * PI * i as f32 / (n - 1) as f32).cos();
            f32::from(s) * w
        })
        .collect();
    let nyquist = sample_rate as f32 / 2.0;
    let high = SCAN_HIGH_HZ.min(nyquist - SCAN_STEP_HZ);
    let mut best = (0.0_f32, f64::MIN);
    let mut freq = SCAN_LOW_HZ;
    while freq <= high {
        let power = goertzel_power(&windowed, freq, sample_rate);
        if power > best.1 {
            best = (freq, power);
        }
        freq += SCAN_STEP_HZ;
    }
    // Refine around the coarse peak in 0.25 Hz steps.
    let (coarse, _) = best;
    let mut refined = best;
    let mut freq = (coarse - SCAN_STEP_HZ).max(1.0);
    while freq <= coarse + SCAN_STEP_HZ {
        let power = goertzel_power(&windowed, freq, sample_rate);
        if power > refined.1 {
            refined = (freq, power);
        }
        freq += 0.25;
    }
    Some(refined.0)
}

fn goertzel_power(samples: &[f32], freq: f32, sample_rate: u32) -> f64 {
    let omega = 2.0 * std::f64::consts::PI * f64::from(freq) / f64::from(sample_rate);
    let coeff = 2.0 * omega.cos();
    let (mut s1, mut s2) = (0.0_f64, 0.0_f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

pub(crate) fn clamp_i16(value: f32) -> i16 {
    value
        .round()
        .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// Zero crossings of the windowed sinc on each side of the centre, at the lower of the two
/// rates: enough for a clean telephone band without much cost.
const RESAMPLER_ZERO_CROSSINGS: usize = 12;
/// The pass band ends a little below the lower Nyquist frequency, so the transition band
/// sits mostly below it (3.6 kHz for 8 kHz).
const RESAMPLER_CUTOFF: f64 = 0.9;

/// A streaming rational-ratio resampler: windowed-sinc interpolation with a precomputed
/// filter per output phase. For whole frames whose length is a multiple of the ratio (960 at
/// 48 kHz <-> 160 at 8 kHz or 320 at 16 kHz) it returns exactly the proportional number of
/// samples, delayed by the filter's half length (under 1.5 ms at the ratios used here).
pub struct Resampler {
    /// Output samples per `down` input samples.
    up: usize,
    down: usize,
    /// Half the filter length, in input samples.
    half: usize,
    /// `taps[phase][m]` weighs input sample `i0 - m` for output phase `phase`.
    taps: Vec<Vec<f32>>,
    /// The last `2 * half` input samples (zeros before the stream began).
    history: VecDeque<f32>,
    /// Input samples consumed so far, and output samples produced so far.
    consumed: u64,
    produced: u64,
}

impl Resampler {
    pub fn new(input_rate: u32, output_rate: u32) -> Self {
        let input_rate = input_rate.max(1);
        let output_rate = output_rate.max(1);
        let divisor = gcd(input_rate, output_rate);
        let up = (output_rate / divisor) as usize;
        let down = (input_rate / divisor) as usize;
        // Normalised cutoff relative to the input rate's Nyquist frequency.
        let cutoff = (up as f64 / down as f64).min(1.0) * RESAMPLER_CUTOFF;
        let half = ((RESAMPLER_ZERO_CROSSINGS as f64) / cutoff).ceil() as usize;
        let taps = (0..up)
            .map(|phase| {
                let fraction = phase as f64 / up as f64;
                let mut row: Vec<f64> = (0..2 * half)
                    .map(|m| {
                        // Distance from the output instant back to input sample i0 - m.
                        let distance = m as f64 - half as f64 + fraction;
                        windowed_sinc(distance, cutoff, half as f64)
                    })
                    .collect();
                // Unity gain at DC for every phase.
                let sum: f64 = row.iter().sum();
                if sum.abs() > f64::EPSILON {
                    row.iter_mut().for_each(|tap| *tap /= sum);
                }
                row.into_iter().map(|tap| tap as f32).collect()
            })
            .collect();
        Self {
            up,
            down,
            half,
            taps,
            history: std::iter::repeat_n(0.0, 2 * half).collect(),
            consumed: 0,
            produced: 0,
        }
    }

    /// Resamples the next stretch of the stream.
    pub fn process(&mut self, input: &[i16]) -> Vec<i16> {
        let mut output = Vec::with_capacity(input.len() * self.up / self.down + 1);
        for &sample in input {
            self.history.pop_front();
            self.history.push_back(f32::from(sample));
            self.consumed += 1;
            // Output n sits at input time n * down / up; it is ready once that input sample
            // (the newest one the filter needs) has arrived.
            loop {
                let position = self.produced * self.down as u64;
                let newest_needed = position / self.up as u64;
                if newest_needed + 1 > self.consumed {
                    break;
                }
                // How far the newest needed sample lies behind the newest sample we hold.
                let lag = (self.consumed - 1 - newest_needed) as usize;
                let phase = (position % self.up as u64) as usize;
                output.push(self.filter(phase, lag));
                self.produced += 1;
            }
        }
        output
    }

    /// Pushes the filter's delay worth of zeros through, returning the stream's tail.
    pub fn flush(&mut self) -> Vec<i16> {
        let zeros = vec![0_i16; self.half];
        let mut tail = self.process(&zeros);
        // Only the part that belongs to real input.
        let keep = (self.half * self.up).div_ceil(self.down);
        tail.truncate(keep);
        tail
    }

    fn filter(&self, phase: usize, lag: usize) -> i16 {
        let Some(row) = self.taps.get(phase) else {
            return 0;
        };
        let len = self.history.len();
        let mut acc = 0.0_f32;
        for (m, tap) in row.iter().enumerate() {
            // Input sample i0 - m is `lag + m` behind the newest held sample.
            let back = lag + m;
            if back >= len {
                break;
            }
            if let Some(&x) = self.history.get(len - 1 - back) {
                acc += x * tap;
            }
        }
        clamp_i16(acc)
    }
}

/// Resamples a whole recording, without the streaming resampler's delay: the output starts
/// where the input starts and lasts as long.
pub fn resample_all(input: &[i16], input_rate: u32, output_rate: u32) -> Vec<i16> {
    if input_rate == output_rate {
        return input.to_vec();
    }
    let mut resampler = Resampler::new(input_rate, output_rate);
    let mut output = resampler.process(input);
    output.extend(resampler.flush());
    let delay = (resampler.half * resampler.up) as f64 / resampler.down as f64;
    let delay = (delay.round() as usize).min(output.len());
    output.drain(..delay);
    output
}

fn windowed_sinc(distance: f64, cutoff: f64, half: f64) -> f64 {
    let x = distance - 0.0;
    if x.abs() >= half {
        return 0.0;
    }
    let sinc = if x.abs() < 1e-9 {
        1.0
    } else {
        let arg = std::f64::consts::PI * cutoff * x;
        arg.sin() / arg
    };
    // Blackman window over [-half, half].
    let t = (x + half) / (2.0 * half);
    let window = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * t).cos()
        + 0.08 * (4.0 * std::f64::consts::PI * t).cos();
    cutoff * sinc * window
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| ((2.0 * PI * freq * i as f32 / rate as f32).sin() * 10_000.0) as i16)
            .collect()
    }

    fn rms(samples: &[i16]) -> f64 {
        let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (energy / samples.len().max(1) as f64).sqrt()
    }

    #[test]
    fn tone_source_has_its_frequency() {
        let mut source = ToneSource::new(440.0, 8000);
        let mut samples = vec![0_i16; FRAME_SAMPLES * 25];
        for frame in samples.chunks_mut(FRAME_SAMPLES) {
            assert!(source.read_frame(frame));
        }
        let freq = dominant_frequency(&samples, SAMPLE_RATE).unwrap_or_default();
        assert!((freq - 440.0).abs() < 2.0, "{freq}");
    }

    #[test]
    fn dominant_frequency_across_the_band_and_silence() {
        for expected in [100.0, 440.0, 660.0, 1209.0, 1633.0, 3000.0, 3950.0] {
            let samples = tone(expected, SAMPLE_RATE, 24_000);
            let freq = dominant_frequency(&samples, SAMPLE_RATE).unwrap_or_default();
            assert!((freq - expected).abs() < 2.0, "{expected}: {freq}");
            let samples = tone(expected.min(3900.0), 8000, 4000);
            let freq = dominant_frequency(&samples, 8000).unwrap_or_default();
            assert!(
                (freq - expected.min(3900.0)).abs() < 3.0,
                "{expected} at 8k: {freq}"
            );
        }
        assert_eq!(dominant_frequency(&vec![0; 24_000], SAMPLE_RATE), None);
        assert_eq!(dominant_frequency(&vec![5; 24_000], SAMPLE_RATE), None);
        assert_eq!(dominant_frequency(&[], SAMPLE_RATE), None);
    }

    #[test]
    fn resampler_keeps_frame_sizes_and_tones() {
        for (from, to, frame) in [
            (48_000, 8000, 960),
            (8000, 48_000, 160),
            (48_000, 16_000, 960),
            (16_000, 48_000, 320),
        ] {
            let mut resampler = Resampler::new(from, to);
            let input = tone(440.0, from, frame * 50);
            let mut output = Vec::new();
            for chunk in input.chunks(frame) {
                let out = resampler.process(chunk);
                assert_eq!(
                    out.len(),
                    frame * to as usize / from as usize,
                    "{from}->{to}"
                );
                output.extend(out);
            }
            let steady = &output[output.len() / 2..];
            let freq = dominant_frequency(steady, to).unwrap_or_default();
            assert!((freq - 440.0).abs() < 2.0, "{from}->{to}: {freq}");
            // Gain within 0.5 dB.
            let ratio = rms(steady) / rms(&input[input.len() / 2..]);
            assert!((0.94..1.06).contains(&ratio), "{from}->{to}: gain {ratio}");
        }
    }

    #[test]
    fn resampler_removes_what_the_lower_rate_cannot_carry() {
        // 6 kHz cannot exist at 8 kHz: it must not fold back as 2 kHz.
        let mut resampler = Resampler::new(48_000, 8000);
        let input = tone(6000.0, 48_000, 48_000);
        let output = resampler.process(&input);
        let ratio = rms(&output[4000..]) / rms(&input);
        assert!(ratio < 0.01, "alias level {ratio}");
    }

    #[test]
    fn resampler_handles_odd_ratios() {
        let input = tone(1000.0, 44_100, 44_100);
        let output = resample_all(&input, 44_100, 48_000);
        assert!(
            (output.len() as i64 - 48_000).abs() <= 2,
            "{}",
            output.len()
        );
        let freq = dominant_frequency(&output[8000..40_000], 48_000).unwrap_or_default();
        assert!((freq - 1000.0).abs() < 2.0, "{freq}");
    }

    #[test]
    fn wav_round_trip_any_rate_and_channels() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("linnet-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // A stereo 16 kHz file with 660 Hz in both channels.
        let path = dir.join("in.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec)?;
        for sample in tone(660.0, 16_000, 16_000) {
            writer.write_sample(sample)?;
            writer.write_sample(sample)?;
        }
        writer.finalize()?;

        let mut source = WavSource::open(&path)?;
        assert!((source.remaining_samples() as i64 - 48_000).abs() <= 3);
        let out_path = dir.join("out.wav");
        let mut sink = WavSink::create(&out_path)?;
        let mut frame = [0_i16; FRAME_SAMPLES];
        let mut frames = 0;
        while source.read_frame(&mut frame) {
            sink.write_frame(&frame);
            frames += 1;
        }
        assert!((50..=51).contains(&frames), "{frames}");
        assert!(!source.read_frame(&mut frame));
        assert!(frame.iter().all(|&s| s == 0));
        sink.finish()?;

        let reader = hound::WavReader::open(&out_path)?;
        assert_eq!(reader.spec().sample_rate, SAMPLE_RATE);
        assert_eq!(reader.spec().channels, 1);
        let samples: Vec<i16> = reader.into_samples::<i16>().collect::<Result<_, _>>()?;
        assert_eq!(samples.len(), frames * FRAME_SAMPLES);
        let freq = dominant_frequency(&samples[4800..43_200], SAMPLE_RATE).unwrap_or_default();
        assert!((freq - 660.0).abs() < 2.0, "{freq}");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn wav_source_reports_missing_and_bad_files() {
        assert!(matches!(
            WavSource::open("/nonexistent/linnet.wav"),
            Err(AudioError::WavRead { .. })
        ));
        let path = std::env::temp_dir().join(format!("linnet-bad-{}.wav", std::process::id()));
        let _ = std::fs::write(&path, b"RIFF....not a wav file");
        assert!(WavSource::open(&path).is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn tee_and_recording_sinks() {
        let first = RecordingSink::new();
        let second = RecordingSink::new();
        let mut tee = TeeSink::new(vec![
            Box::new(first.clone()),
            Box::new(second.clone()),
            Box::new(NullSink),
        ]);
        tee.write_frame(&[1; FRAME_SAMPLES]);
        tee.write_frame(&[2; FRAME_SAMPLES]);
        assert_eq!(first.frames_written(), 2);
        assert_eq!(second.samples().len(), 2 * FRAME_SAMPLES);
        assert_eq!(second.samples_since(FRAME_SAMPLES), vec![2; FRAME_SAMPLES]);
    }
}
