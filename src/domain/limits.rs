//! Rate-limit and lockout rules.
//!
//! Owns: [`Rate`] and the generic cell rate algorithm ([`Rate::admit`],
//! [`Rate::would_admit`]) over a key's one number of state (its
//! theoretical arrival time), and [`MfaLockout`], the rule that locks a
//! virtual MFA device after too many wrong codes. The time is an input, so
//! every rule is tested with a fixed clock; where the state lives (memory
//! per replica, or the store) is the service layer's choice.
//!
//! Pure: std only.

/// At most `burst` events at once, refilling evenly so that `burst`
/// events are allowed again after `period_ms` without any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed at once; at least 1.
    pub burst: u32,
    /// Milliseconds until a full burst is available again; at least 1.
    pub period_ms: u64,
}

/// What [`Rate::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Allowed; the key's new state.
    Allowed {
        /// The new theoretical arrival time (ms).
        tat: u64,
    },
    /// Refused; nothing changes.
    Refused {
        /// How long until one event is allowed again (ms).
        retry_after_ms: u64,
    },
}

// === impl Rate ===

impl Rate {
    /// Milliseconds one event costs.
    fn interval(self) -> u64 {
        (self.period_ms / u64::from(self.burst.max(1))).max(1)
    }

    /// The tolerance: how far ahead of now the arrival time may run.
    fn limit(self) -> u64 {
        self.interval() * u64::from(self.burst.max(1))
    }

    /// Decides one event at `now_ms` for a key whose state is `tat`
    /// (`None` for a key never seen, or forgotten).
    pub fn admit(self, tat: Option<u64>, now_ms: u64) -> Admission {
        let start = tat.unwrap_or(now_ms).max(now_ms);
        let next = start.saturating_add(self.interval());
        let ahead = next - now_ms;
        if ahead > self.limit() {
            Admission::Refused {
                retry_after_ms: ahead - self.limit(),
            }
        } else {
            Admission::Allowed { tat: next }
        }
    }

    /// Whether one more event at `now_ms` would be allowed, without
    /// spending it.
    pub fn would_admit(self, tat: Option<u64>, now_ms: u64) -> bool {
        matches!(self.admit(tat, now_ms), Admission::Allowed { .. })
    }

    /// Whether a key's state `tat` is spent back to nothing at `now_ms`,
    /// so the key can be forgotten.
    pub fn is_idle(tat: u64, now_ms: u64) -> bool {
        tat <= now_ms
    }
}

/// How many wrong codes lock a virtual MFA device, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaLockout {
    /// Checks of a device's code allowed before it locks; at least 1.
    pub max_failed_codes: u32,
    /// How long a locked device refuses every code, in seconds.
    pub lockout_secs: u64,
}

/// What [`MfaLockout::count`] decided for one check of a device's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaCheck {
    /// The device is locked until then (Unix seconds); nothing is counted.
    Locked {
        /// When the lock ends.
        until: u64,
    },
    /// The check counts; the device's new count and, when this check
    /// reached the limit, the end of its new lock.
    Counted {
        /// Failed checks recorded on the device.
        failed_codes: u32,
        /// `Some` when the device locks now.
        locks_until: Option<u64>,
    },
}

impl Default for MfaLockout {
    /// Five checks, then 15 minutes: with three acceptable steps per guess
    /// about 0.14 % chance per day for an attacker holding the user's key.
    fn default() -> Self {
        Self {
            max_failed_codes: 5,
            lockout_secs: 900,
        }
    }
}

// === impl MfaLockout ===

impl MfaLockout {
    /// Counts one check of a device with `failed_codes` so far and lock
    /// `locked_until`, at `now` (Unix seconds). A device locks on the
    /// check that reaches the limit, and its count starts again.
    pub fn count(self, failed_codes: u32, locked_until: Option<u64>, now: u64) -> MfaCheck {
        if let Some(until) = locked_until.filter(|t| *t > now) {
            return MfaCheck::Locked { until };
        }
        let failed = failed_codes.saturating_add(1);
        if failed >= self.max_failed_codes.max(1) {
            MfaCheck::Counted {
                failed_codes: 0,
                locks_until: Some(now.saturating_add(self.lockout_secs)),
            }
        } else {
            MfaCheck::Counted {
                failed_codes: failed,
                locks_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        burst: 3,
        period_ms: 3_000,
    };

    /// Spends events at `now` until refused; returns the state and count.
    fn drain(mut tat: Option<u64>, now: u64) -> (Option<u64>, u32) {
        let mut n = 0;
        while let Admission::Allowed { tat: t } = RATE.admit(tat, now) {
            tat = Some(t);
            n += 1;
            assert!(n < 100);
        }
        (tat, n)
    }

    #[test]
    fn a_burst_is_allowed_then_refused_then_refilled() {
        let (tat, n) = drain(None, 10_000);
        assert_eq!(n, 3);
        assert!(!RATE.would_admit(tat, 10_000));
        assert_eq!(
            RATE.admit(tat, 10_000),
            Admission::Refused {
                retry_after_ms: 1_000
            }
        );
        // One interval later, one event; a full period later, a full burst.
        assert!(RATE.would_admit(tat, 11_000));
        assert_eq!(drain(tat, 11_000).1, 1);
        assert_eq!(drain(tat, 13_000).1, 3);
        assert!(Rate::is_idle(tat.unwrap(), 13_000));
    }

    #[test]
    fn would_admit_spends_nothing() {
        for _ in 0..10 {
            assert!(RATE.would_admit(None, 5));
        }
        assert_eq!(drain(None, 5).1, 3);
    }

    #[test]
    fn a_device_locks_on_the_check_that_reaches_the_limit() {
        let rule = MfaLockout {
            max_failed_codes: 3,
            lockout_secs: 60,
        };
        let mut failed = 0;
        for _ in 0..2 {
            match rule.count(failed, None, 100) {
                MfaCheck::Counted {
                    failed_codes,
                    locks_until: None,
                } => failed = failed_codes,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            rule.count(failed, None, 100),
            MfaCheck::Counted {
                failed_codes: 0,
                locks_until: Some(160)
            }
        );
        assert_eq!(
            rule.count(0, Some(160), 159),
            MfaCheck::Locked { until: 160 }
        );
        assert!(matches!(
            rule.count(0, Some(160), 160),
            MfaCheck::Counted {
                failed_codes: 1,
                ..
            }
        ));
    }
}
