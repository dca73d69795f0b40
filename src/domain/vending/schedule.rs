//! When the agent refreshes, retries and stops serving.
//!
//! Owns: [`RefreshPolicy`]. AWS rotates instance-role credentials at least
//! five minutes before they expire and SDKs refresh a little earlier than
//! that; the agent refreshes `before_expiry` ahead, minus a random share of
//! `jitter` so replicas and node agents do not all call the broker in the
//! same second. A failed call is retried after an exponential backoff with
//! jitter, from `retry_min` up to `retry_max`. Credentials are served only
//! while more than `serve_margin` is left, so an SDK never receives
//! credentials that expire before it can use them — and never expired ones.
//! Pure: std only.

use std::time::Duration;

/// However the numbers are set, the next refresh is at least this long
/// after the credentials were received, so a session shorter than the
/// refresh window cannot make the agent call the broker in a loop.
pub const MIN_REFRESH_INTERVAL_SECS: i64 = 5;

/// The refresh and serving rules (reference section 11.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh when less than this is left.
    pub before_expiry: Duration,
    /// Refresh up to this much earlier still, at random.
    pub jitter: Duration,
    /// Serve only while more than this is left.
    pub serve_margin: Duration,
    /// The first retry delay after a failure.
    pub retry_min: Duration,
    /// The longest retry delay.
    pub retry_max: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            before_expiry: Duration::from_secs(300),
            jitter: Duration::from_secs(60),
            serve_margin: Duration::from_secs(60),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
        }
    }
}

// === impl RefreshPolicy ===

impl RefreshPolicy {
    /// When (seconds since the epoch) to refresh credentials received at
    /// `received` and expiring at `expiration`; `unit` is a random sample
    /// in `[0, 1)` that picks the jitter.
    pub fn refresh_at(&self, received: i64, expiration: i64, unit: f64) -> i64 {
        let ahead = secs(self.before_expiry).saturating_add(share(self.jitter, unit));
        expiration
            .saturating_sub(ahead)
            .max(received.saturating_add(MIN_REFRESH_INTERVAL_SECS))
    }

    /// Whether credentials expiring at `expiration` may be served at `now`.
    pub fn servable(&self, expiration: i64, now: i64) -> bool {
        now.saturating_add(secs(self.serve_margin)) < expiration
    }

    /// Whether credentials are due for a refresh at `now` (the window
    /// without jitter; a reader that sees this starts a refresh early).
    pub fn due(&self, expiration: i64, now: i64) -> bool {
        now.saturating_add(secs(self.before_expiry)) >= expiration
    }

    /// How long to wait before attempt `failures + 1`, after `failures`
    /// (≥ 1) failed attempts in a row: `retry_min · 2^(failures−1)`, at most
    /// `retry_max`, of which a random half is taken off ("equal jitter").
    pub fn retry_delay(&self, failures: u32, unit: f64) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        let base = self
            .retry_min
            .saturating_mul(1u32 << exp)
            .min(self.retry_max)
            .max(Duration::from_millis(1));
        let half = base / 2;
        half + Duration::from_secs_f64(half.as_secs_f64() * unit.clamp(0.0, 1.0))
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// `unit` (clamped to `[0, 1]`) of `d`, in whole seconds.
fn share(d: Duration, unit: f64) -> i64 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a share of a configured duration of at most a day, rounded down"
    )]
    let s = (d.as_secs_f64() * unit.clamp(0.0, 1.0)) as i64;
    s
}
