//! Time as an input.
//!
//! Owns: the [`Clock`] trait every rule about expiry, skew and rotation takes,
//! the one place that reads the system clock ([`SystemClock`]), and a settable
//! [`FixedClock`] for tests. Pure apart from `SystemClock::now`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, as a duration since the Unix epoch.
    fn now(&self) -> Duration;

    /// Now, in whole seconds since the Unix epoch.
    fn now_secs(&self) -> i64 {
        i64::try_from(self.now().as_secs()).unwrap_or(i64::MAX)
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the system clock"
    )]
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// A clock that stands still until moved; for tests and simulations.
#[derive(Debug, Default)]
pub struct FixedClock {
    millis: AtomicI64,
}

// === impl FixedClock ===

impl FixedClock {
    /// A clock showing `secs` seconds after the epoch.
    pub fn at_secs(secs: i64) -> Self {
        Self {
            millis: AtomicI64::new(secs.saturating_mul(1000)),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `secs` seconds after the epoch.
    pub fn set_secs(&self, secs: i64) {
        self.millis
            .store(secs.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Duration {
        let ms = self.millis.load(Ordering::SeqCst).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}
