//! DTMF: dial strings, RFC 4733 telephone-event packets, and a receiver that reports each
//! event once however its packets arrive.

use std::collections::VecDeque;
use std::time::Duration;

/// How long a `,` in a dial string waits.
pub const COMMA_PAUSE: Duration = Duration::from_secs(2);
/// How long each digit's tone lasts, and the silence after it.
pub const TONE_DURATION: Duration = Duration::from_millis(120);
pub const INTER_DIGIT_GAP: Duration = Duration::from_millis(80);
/// Packets are sent every 20 ms during an event.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);
/// The end packet is sent three times (RFC 4733 2.5.1.4), each with a new sequence number.
pub const END_REPEATS: usize = 3;
/// -10 dBm0, a usual DTMF level.
pub const DEFAULT_VOLUME: u8 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialStep {
    Digit(char),
    Pause(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    #[error("{character:?} is not a DTMF digit (0-9, *, #, A-D, or ',' to pause)")]
    InvalidDigit { character: char },
    #[error("the dial string has no number")]
    EmptyNumber,
    #[error("a telephone-event payload has 4 bytes, not {len}")]
    ShortPayload { len: usize },
    #[error("telephone-event {event} is not a DTMF digit")]
    NotADigit { event: u8 },
}

/// The RFC 4733 event code of a DTMF digit (case-insensitive for A-D).
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The DTMF digit of an RFC 4733 event code (0-15).
pub fn digit_for_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// "0123456789*#ABCD" and ',' (2 s pause). Anything else: DtmfError::InvalidDigit{character}.
pub fn parse_digits(s: &str) -> Result<Vec<DialStep>, DtmfError> {
    s.chars()
        .map(|character| match character {
            ',' => Ok(DialStep::Pause(COMMA_PAUSE)),
            _ => match event_code(character).and_then(digit_for_event) {
                Some(digit) => Ok(DialStep::Digit(digit)),
                None => Err(DtmfError::InvalidDigit { character }),
            },
        })
        .collect()
}

/// A dialled phone target: "+15551234567,,1234#" -> ("+15551234567", steps for ",,1234#").
/// The number is E.164-ish: optional '+', digits; spaces, '-', '.', '(' and ')' are dropped.
pub fn parse_dial_string(s: &str) -> Result<(String, Vec<DialStep>), DtmfError> {
    let s = s.trim();
    // The number ends where the first pause or non-digit DTMF symbol starts.
    let split = s
        .char_indices()
        .find(|&(_, c)| matches!(c, ',' | '*' | '#' | 'A'..='D' | 'a'..='d'))
        .map(|(index, _)| index)
        .unwrap_or(s.len());
    let (number_part, digits_part) = s.split_at(split);
    let mut number = String::new();
    for (index, character) in number_part.char_indices() {
        match character {
            '+' if index == 0 => number.push('+'),
            '0'..='9' => number.push(character),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(DtmfError::InvalidDigit { character }),
        }
    }
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(DtmfError::EmptyNumber);
    }
    Ok((number, parse_digits(digits_part)?))
}

/// One RFC 4733 telephone-event payload (section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// In RTP timestamp units since the event began.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn to_bytes(self) -> [u8; 4] {
        let [high, low] = self.duration.to_be_bytes();
        let end_bit = if self.end { 0x80 } else { 0 };
        [self.event, end_bit | (self.volume & 0x3F), high, low]
    }

    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        match payload {
            [event, flags, high, low, ..] => Ok(Self {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3F,
                duration: u16::from_be_bytes([*high, *low]),
            }),
            _ => Err(DtmfError::ShortPayload { len: payload.len() }),
        }
    }
}

/// One packet of a digit as sent: the payload, and whether it carries the marker bit (only
/// the first packet of an event does). All packets of one event share one RTP timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub payload: TelephoneEvent,
    pub marker: bool,
}

/// The packets of one digit, one per 20 ms: a start packet with the marker bit, updates with
/// growing durations, then the end packet [`END_REPEATS`] times (the final duration). The
/// sender sends them [`PACKET_INTERVAL`] apart, except the end repeats, which may go together.
pub fn digit_packets(
    digit: char,
    tone: Duration,
    clock_rate: u32,
) -> Result<Vec<EventPacket>, DtmfError> {
    let event = event_code(digit).ok_or(DtmfError::InvalidDigit { character: digit })?;
    let step = (u64::from(clock_rate) * PACKET_INTERVAL.as_millis() as u64 / 1000) as u32;
    let total_packets = (tone.as_millis() / PACKET_INTERVAL.as_millis()).max(1) as u32;
    let mut packets = Vec::new();
    for index in 1..=total_packets {
        let duration = (step * index).min(u32::from(u16::MAX)) as u16;
        let last = index == total_packets;
        let repeats = if last { END_REPEATS } else { 1 };
        for _ in 0..repeats {
            packets.push(EventPacket {
                payload: TelephoneEvent {
                    event,
                    end: last,
                    volume: DEFAULT_VOLUME,
                    duration,
                },
                marker: index == 1,
            });
        }
    }
    Ok(packets)
}

/// How many recent events the receiver remembers to drop their repeated packets.
const REMEMBERED_EVENTS: usize = 16;

/// Turns received telephone-event packets into digits, each exactly once: an event is known
/// by its RTP timestamp, so updates and the repeated end packets of an event are dropped, and
/// an event whose first packets were lost is still reported (by whichever packet arrives).
#[derive(Debug, Default)]
pub struct DtmfReceiver {
    recent: VecDeque<(u32, u8)>,
}

impl DtmfReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// One received telephone-event packet; the digit when it starts a new event.
    pub fn on_packet(
        &mut self,
        rtp_timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<char>, DtmfError> {
        let packet = TelephoneEvent::parse(payload)?;
        let digit = digit_for_event(packet.event).ok_or(DtmfError::NotADigit {
            event: packet.event,
        })?;
        let key = (rtp_timestamp, packet.event);
        if self.recent.contains(&key) {
            return Ok(None);
        }
        if self.recent.len() == REMEMBERED_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back(key);
        Ok(Some(digit))
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_pauses() {
        assert_eq!(
            parse_digits("1,#a"),
            Ok(vec![
                DialStep::Digit('1'),
                DialStep::Pause(Duration::from_secs(2)),
                DialStep::Digit('#'),
                DialStep::Digit('A'),
            ])
        );
        assert_eq!(parse_digits(""), Ok(vec![]));
        assert_eq!(
            parse_digits("12x"),
            Err(DtmfError::InvalidDigit { character: 'x' })
        );
        assert_eq!(
            parse_digits("E"),
            Err(DtmfError::InvalidDigit { character: 'E' })
        );
        let all = parse_digits("0123456789*#ABCD").unwrap_or_default();
        assert_eq!(all.len(), 16);
    }

    #[test]
    fn dial_strings() {
        let (number, steps) = parse_dial_string("+15551234567,,1234#").unwrap_or_default();
        assert_eq!(number, "+15551234567");
        assert_eq!(steps, parse_digits(",,1234#").unwrap_or_default());
        let (number, steps) = parse_dial_string(" +1 (555) 123-45.67 ").unwrap_or_default();
        assert_eq!(number, "+15551234567");
        assert!(steps.is_empty());
        let (number, steps) = parse_dial_string("5551234*9").unwrap_or_default();
        assert_eq!(number, "5551234");
        assert_eq!(steps, vec![DialStep::Digit('*'), DialStep::Digit('9')]);
        assert_eq!(parse_dial_string(""), Err(DtmfError::EmptyNumber));
        assert_eq!(parse_dial_string("+,1"), Err(DtmfError::EmptyNumber));
        assert_eq!(
            parse_dial_string("1+2"),
            Err(DtmfError::InvalidDigit { character: '+' })
        );
        assert_eq!(
            parse_dial_string("555x"),
            Err(DtmfError::InvalidDigit { character: 'x' })
        );
        assert_eq!(
            parse_dial_string("555,1x"),
            Err(DtmfError::InvalidDigit { character: 'x' })
        );
    }

    #[test]
    fn event_codes_round_trip() {
        for digit in "0123456789*#ABCD".chars() {
            let code = event_code(digit).unwrap_or(99);
            assert_eq!(digit_for_event(code), Some(digit));
        }
        assert_eq!(event_code('*'), Some(10));
        assert_eq!(event_code('#'), Some(11));
        assert_eq!(event_code('D'), Some(15));
        assert_eq!(digit_for_event(16), None);
    }

    #[test]
    fn packet_codec() {
        let packet = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 960,
        };
        // RFC 4733 figure 1: event, E|R|volume, duration.
        assert_eq!(packet.to_bytes(), [11, 0x8A, 0x03, 0xC0]);
        assert_eq!(TelephoneEvent::parse(&packet.to_bytes()), Ok(packet));
        assert_eq!(
            TelephoneEvent::parse(&[1, 0x0A, 0, 160]),
            Ok(TelephoneEvent {
                event: 1,
                end: false,
                volume: 10,
                duration: 160
            })
        );
        // The reserved bit is ignored.
        assert!(TelephoneEvent::parse(&[1, 0x4A, 0, 160]).is_ok_and(|p| p.volume == 10 && !p.end));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::ShortPayload { len: 3 })
        );
    }

    #[test]
    fn digit_packet_sequence() {
        let packets = digit_packets('5', Duration::from_millis(120), 8000).unwrap_or_default();
        // 6 packets of 20 ms, the last one three times.
        assert_eq!(packets.len(), 8);
        assert!(packets[0].marker);
        assert!(packets[1..].iter().all(|p| !p.marker));
        assert_eq!(packets[0].payload.duration, 160);
        assert_eq!(packets[4].payload.duration, 800);
        assert!(packets[..5].iter().all(|p| !p.payload.end));
        assert!(
            packets[5..]
                .iter()
                .all(|p| p.payload.end && p.payload.duration == 960)
        );
        let packets = digit_packets('#', Duration::from_millis(120), 48_000).unwrap_or_default();
        assert_eq!(packets[7].payload.duration, 5760);
        assert_eq!(packets[7].payload.event, 11);
        assert!(digit_packets('x', Duration::from_millis(120), 8000).is_err());
    }

    #[test]
    fn receiver_reports_each_event_once() {
        let mut receiver = DtmfReceiver::new();
        let mut heard = Vec::new();
        // Two digits, all packets including the repeated end packets.
        for (timestamp, digit) in [(1000_u32, '1'), (3000, '2')] {
            for packet in digit_packets(digit, Duration::from_millis(120), 8000).unwrap_or_default()
            {
                if let Ok(Some(d)) = receiver.on_packet(timestamp, &packet.payload.to_bytes()) {
                    heard.push(d);
                }
            }
        }
        // The same digit again is a new event (new timestamp), reported again.
        let packets = digit_packets('2', Duration::from_millis(120), 8000).unwrap_or_default();
        // Its first three packets are lost.
        for packet in &packets[3..] {
            if let Ok(Some(d)) = receiver.on_packet(5000, &packet.payload.to_bytes()) {
                heard.push(d);
            }
        }
        // Only the end packet of a fourth event arrives.
        let end = packets[packets.len() - 1].payload.to_bytes();
        if let Ok(Some(d)) = receiver.on_packet(7000, &end) {
            heard.push(d);
        }
        // A late duplicate of the first event is still dropped.
        assert_eq!(receiver.on_packet(1000, &[1, 0x8A, 3, 0xC0]), Ok(None));
        assert_eq!(heard, vec!['1', '2', '2', '2']);
        assert_eq!(
            receiver.on_packet(9000, &[1, 2]),
            Err(DtmfError::ShortPayload { len: 2 })
        );
        assert_eq!(
            receiver.on_packet(9000, &[40, 0, 0, 0]),
            Err(DtmfError::NotADigit { event: 40 })
        );
    }
}
