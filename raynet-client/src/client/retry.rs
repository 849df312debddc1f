//! [`RetryConfig`]: how the transport retries, waits and limits itself.

use std::time::Duration;

use rand::Rng as _;

/// How the transport retries, waits and limits itself.
///
/// The defaults suit production; tests shrink the backoff to milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries of a safe (GET) request after a 5xx or network error.
    pub max_retries: u32,
    /// Retries after a 429 caused by too many concurrent connections.
    pub max_rate_limit_retries: u32,
    /// First backoff delay; doubled per retry.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff delay.
    pub max_backoff: Duration,
    /// Longest wait for the daily quota to reset before failing with
    /// [`Error::QuotaExhausted`](super::error::Error::QuotaExhausted).
    pub max_quota_wait: Duration,
    /// Timeout of one HTTP request (connect + answer).
    pub request_timeout: Duration,
    /// Requests in flight at once per instance (the API answers 429 above 4).
    /// Clients of one process with the same base URL, instance and cap share
    /// their permits.
    pub max_in_flight: usize,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 4,
            max_rate_limit_retries: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_quota_wait: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
            max_in_flight: 3,
        }
    }
}

impl RetryConfig {
    /// Fast timings for tests: 1 ms initial backoff, 20 ms cap, 5 s timeout.
    #[must_use]
    pub fn fast() -> Self {
        RetryConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
            request_timeout: Duration::from_secs(5),
            ..RetryConfig::default()
        }
    }

    /// Delay before retry number `attempt` (0-based): capped exponential,
    /// with jitter in the upper half.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        let exp = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let nanos = u64::try_from(exp.as_nanos()).unwrap_or(u64::MAX);
        if nanos < 2 {
            return exp;
        }
        Duration::from_nanos(rand::rng().random_range(nanos / 2..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        for attempt in 0..30 {
            let d = p.backoff(attempt);
            assert!(
                d <= Duration::from_secs(1),
                "attempt {attempt}: {d:?} over the cap"
            );
        }
        let first = p.backoff(0);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
    }
}
