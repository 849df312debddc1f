//! Retry settings ([`RetryConfig`]) and the parsing of `Retry-After`, shared by the transport,
//! the token cache and `$batch`.

use std::time::Duration;

use rand::Rng;

/// Retry and backoff settings. Make them tiny in tests.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff delay (doubled per attempt, with full jitter).
    pub base_delay: Duration,
    /// Cap of the exponential backoff.
    pub max_delay: Duration,
    /// Cap applied to a server's `Retry-After`.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryConfig {
    /// Builds a config.
    #[must_use]
    pub fn new(
        max_attempts: u32,
        base_delay: Duration,
        max_delay: Duration,
        max_retry_after: Duration,
    ) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
            max_retry_after,
        }
    }

    /// The backoff before attempt `attempt + 1` (capped exponential with full jitter).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.max_delay);
        let factor: f64 = rand::rng().random_range(0.5..=1.0);
        cap.mul_f64(factor)
    }
}

/// Parses `Retry-After`: seconds (possibly decimal) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_decimals_integers_and_dates() {
        assert_eq!(
            parse_retry_after("2.128"),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
        let past = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(past, Some(Duration::ZERO), "a date in the past means now");
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let retry = RetryConfig::new(
            5,
            Duration::from_millis(100),
            Duration::from_millis(400),
            Duration::from_secs(1),
        );
        for attempt in 0..10 {
            let d = retry.backoff(attempt);
            assert!(d <= Duration::from_millis(400), "attempt {attempt}: {d:?}");
            assert!(d >= Duration::from_millis(50), "attempt {attempt}: {d:?}");
        }
    }
}
