//! Reconnection delays (the client's supervisor and the CLI's `listen`): exponential, capped,
//! with jitter so that many clients dropped at once do not all come back in the same second.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempt: 0,
        }
    }

    /// 1 s doubling to 60 s: what the supervisor and `listen` use.
    pub fn for_reconnect() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// How many delays were handed out since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The next delay. `jitter` in [0, 1) spreads it over ±20 % of the nominal delay, which
    /// doubles from `base` at each call up to `max`.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(31));
        let nominal = self.base.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        nominal.mul_f64(0.8 + 0.4 * jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_to_the_cap() {
        let mut b = Backoff::for_reconnect();
        let nominal: Vec<u64> = (0..10).map(|_| b.next_delay(0.5).as_secs()).collect();
        assert_eq!(nominal, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(b.attempt(), 10);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let mut low = Backoff::for_reconnect();
        let mut high = Backoff::for_reconnect();
        for _ in 0..8 {
            let lo = low.next_delay(0.0);
            let hi = high.next_delay(0.999_999);
            assert!(lo < hi);
            let ratio = hi.as_secs_f64() / lo.as_secs_f64();
            assert!(ratio > 1.49 && ratio <= 1.5, "{ratio}");
        }
        assert_eq!(
            Backoff::for_reconnect().next_delay(0.0),
            Duration::from_millis(800)
        );
        assert!(Backoff::for_reconnect().next_delay(1.0) <= Duration::from_millis(1200));
    }

    #[test]
    fn reset_starts_over_and_huge_attempts_do_not_overflow() {
        let mut b = Backoff::for_reconnect();
        for _ in 0..100 {
            b.next_delay(0.5);
        }
        assert_eq!(b.next_delay(0.5), Duration::from_secs(60));
        b.reset();
        assert_eq!(b.next_delay(0.5), Duration::from_secs(1));
        assert_eq!(b.next_delay(f64::NAN), Duration::from_secs(2));
    }
}
