//! Rate limits.
//!
//! Owns: [`Limiter`] — the per-replica state of the request rate limits
//! (authentication failures per source address and per access key,
//! `AssumeRole*` per principal), each a table of one number per key
//! (`domain::limits::Rate`), and [`Swappable`], a value replaced
//! atomically on reload while requests read it. Every refusal is
//! `Throttling` with a message naming the limit, and is counted in
//! `stsd_rate_limited_total`.
//!
//! # Per replica
//!
//! These tables live in each replica's memory: behind a load balancer of
//! N replicas a client gets up to N times the configured rate. That keeps
//! the store off the request path; the one limit that must hold across
//! replicas, the MFA device lockout, is kept on the device record in the
//! store (`service::sts::mfa`), and uses the rule configured here.
//!
//! May import `domain` and `service::error`.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::domain::clock::Clock;
use crate::domain::limits::{Admission, MfaLockout, Rate};
use crate::service::error::{ErrorCode, ServiceError};
use crate::telemetry::metrics::{Limit, metrics};

/// Keys a table holds before idle ones are swept.
const SWEEP_AT: usize = 10_000;

/// A value read on every request and replaced whole on reload.
pub struct Swappable<T>(Arc<ArcSwap<T>>);

impl<T> Swappable<T> {
    /// A value to share.
    pub fn new(value: T) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(value)))
    }

    /// A value to share, already shared.
    pub fn from_shared(value: Arc<T>) -> Self {
        Self(Arc::new(ArcSwap::new(value)))
    }

    /// The current value.
    pub fn get(&self) -> Arc<T> {
        self.0.load_full()
    }

    /// Replaces the value for every holder.
    pub fn set(&self, value: T) {
        self.0.store(Arc::new(value));
    }
}

impl<T> From<T> for Swappable<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T> Clone for Swappable<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Default> Default for Swappable<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Swappable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.load().fmt(f)
    }
}

/// The limits; `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitSettings {
    /// Failed authentications from one source address.
    pub auth_failures_per_source_ip: Option<Rate>,
    /// Failed authentications naming one access key.
    pub auth_failures_per_principal: Option<Rate>,
    /// `AssumeRole` calls by one principal (the unsigned
    /// `AssumeRoleWithSAML` / `AssumeRoleWithWebIdentity`: by source
    /// address, since the principal is only known once verified).
    pub assume_role_per_principal: Option<Rate>,
    /// The MFA device lockout (kept in the store).
    pub mfa: MfaLockout,
}

/// One limit's table.
#[derive(Debug)]
struct Table<K>(Mutex<(HashMap<K, u64>, usize)>);

impl<K> Default for Table<K> {
    fn default() -> Self {
        Self(Mutex::new((HashMap::new(), SWEEP_AT)))
    }
}

/// The rate limits of one replica.
#[derive(Debug)]
pub struct Limiter {
    clock: Arc<dyn Clock>,
    settings: Swappable<LimitSettings>,
    mfa: Swappable<MfaLockout>,
    per_ip: Table<IpAddr>,
    per_key: Table<String>,
    assume: Table<String>,
}

// === impl Limiter ===

impl Limiter {
    /// A limiter timed by `clock`; `mfa` is the rule the STS MFA check
    /// reads, updated with the rest.
    pub fn new(clock: Arc<dyn Clock>, settings: LimitSettings, mfa: Swappable<MfaLockout>) -> Self {
        mfa.set(settings.mfa);
        Self {
            clock,
            settings: Swappable::new(settings),
            mfa,
            per_ip: Table::default(),
            per_key: Table::default(),
            assume: Table::default(),
        }
    }

    /// Replaces the limits (reload). Counts so far are kept.
    pub fn set(&self, settings: LimitSettings) {
        self.mfa.set(settings.mfa);
        self.settings.set(settings);
    }

    /// The limits in force.
    pub fn settings(&self) -> Arc<LimitSettings> {
        self.settings.get()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.now().as_millis()).unwrap_or(u64::MAX)
    }

    /// Refuses a request from `source` signed with the access key
    /// `access_key` finds while either has used up its authentication
    /// failures; spends nothing. `access_key` is only called when some
    /// key has failures recorded.
    ///
    /// # Errors
    ///
    /// `Throttling` naming the limit.
    pub fn check_authentication(
        &self,
        source: Option<IpAddr>,
        access_key: impl FnOnce() -> Option<String>,
    ) -> Result<(), ServiceError> {
        let settings = self.settings.get();
        let now = self.now_ms();
        if let (Some(rate), Some(ip)) = (settings.auth_failures_per_source_ip, source)
            && !self.per_ip.peek(rate, &ip, now)
        {
            return Err(throttled(Limit::AuthFailuresPerSourceIp));
        }
        if let Some(rate) = settings.auth_failures_per_principal
            && !self.per_key.is_empty()
            && let Some(key) = access_key()
            && !self.per_key.peek(rate, key.as_str(), now)
        {
            return Err(throttled(Limit::AuthFailuresPerPrincipal));
        }
        Ok(())
    }

    /// Records one failed authentication (a bad signature, an unknown or
    /// expired key, a wrong MFA code) from `source` naming `access_key`.
    pub fn authentication_failed(&self, source: Option<IpAddr>, access_key: Option<&str>) {
        let settings = self.settings.get();
        let now = self.now_ms();
        if let (Some(rate), Some(ip)) = (settings.auth_failures_per_source_ip, source) {
            let _ = self.per_ip.spend(rate, &ip, now);
        }
        if let (Some(rate), Some(key)) = (settings.auth_failures_per_principal, access_key) {
            let _ = self.per_key.spend(rate, key, now);
        }
    }

    /// Spends one `AssumeRole*` call of `principal` (an ARN, or a source
    /// address for the unsigned calls).
    ///
    /// # Errors
    ///
    /// `Throttling` naming the limit.
    pub fn assume_role(&self, principal: &str) -> Result<(), ServiceError> {
        let Some(rate) = self.settings.get().assume_role_per_principal else {
            return Ok(());
        };
        if self.assume.spend(rate, principal, self.now_ms()) {
            Ok(())
        } else {
            Err(throttled(Limit::AssumeRolePerPrincipal))
        }
    }
}

/// The key an `AssumeRole*` call is limited under: the signing principal
/// (`account:userid`), else — for the unsigned web-identity and SAML
/// exchanges — the source address.
pub fn assume_role_key(
    caller: Option<&crate::service::authn::Caller>,
    source: Option<IpAddr>,
) -> Option<String> {
    match (caller, source) {
        (Some(c), _) => Some(format!("{}:{}", c.account, c.user_id())),
        (None, Some(ip)) => Some(format!("ip:{ip}")),
        (None, None) => None,
    }
}

/// The `Throttling` error of `limit`, counted.
pub fn throttled(limit: Limit) -> ServiceError {
    metrics().rate_limited(limit);
    let what = match limit {
        Limit::AuthFailuresPerSourceIp => {
            "too many failed authentications from this source address (auth_failures_per_source_ip)"
        }
        Limit::AuthFailuresPerPrincipal => {
            "too many failed authentications with this access key (auth_failures_per_principal)"
        }
        Limit::AssumeRolePerPrincipal => {
            "too many AssumeRole calls by this principal (assume_role_per_principal)"
        }
        Limit::MfaDeviceLockout => {
            "too many invalid one time pass codes for this MFA device (mfa_max_failed_codes); the device is locked"
        }
    };
    ServiceError::new(
        ErrorCode::Throttling,
        format!("Rate exceeded: {what}; try again later."),
    )
}

// === impl Table ===

impl<K: std::hash::Hash + Eq> Table<K> {
    /// Whether no key is held.
    fn is_empty(&self) -> bool {
        self.0.lock().0.is_empty()
    }

    /// Whether `key` may have one more event.
    fn peek<Q>(&self, rate: Rate, key: &Q, now: u64) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let tat = self.0.lock().0.get(key).copied();
        rate.would_admit(tat, now)
    }

    /// Spends one event of `key`; false when refused.
    fn spend<Q>(&self, rate: Rate, key: &Q, now: u64) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut guard = self.0.lock();
        let (table, sweep_at) = &mut *guard;
        // Idle keys are forgotten when the table grows; the next sweep
        // waits until it doubles, so sweeping stays amortized O(1).
        if table.len() >= *sweep_at {
            table.retain(|_, tat| !Rate::is_idle(*tat, now));
            *sweep_at = (table.len() * 2).max(SWEEP_AT);
        }
        match rate.admit(table.get(key).copied(), now) {
            Admission::Allowed { tat } => {
                table.insert(key.to_owned(), tat);
                true
            }
            Admission::Refused { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::clock::FixedClock;

    fn limiter(clock: &Arc<FixedClock>) -> Limiter {
        let rate = Some(Rate {
            burst: 2,
            period_ms: 1_000,
        });
        Limiter::new(
            clock.clone(),
            LimitSettings {
                auth_failures_per_source_ip: rate,
                auth_failures_per_principal: rate,
                assume_role_per_principal: rate,
                mfa: MfaLockout::default(),
            },
            Swappable::default(),
        )
    }

    #[test]
    fn failures_block_a_source_until_the_period_passes() {
        let clock = Arc::new(FixedClock::at_secs(1_000));
        let l = limiter(&clock);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        l.authentication_failed(Some(ip), None);
        assert!(l.check_authentication(Some(ip), || None).is_ok());
        l.authentication_failed(Some(ip), None);
        let err = l.check_authentication(Some(ip), || None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Throttling);
        assert!(err.message().contains("auth_failures_per_source_ip"));
        assert!(l.check_authentication(Some(other), || None).is_ok());
        clock.advance(Duration::from_millis(500));
        assert!(l.check_authentication(Some(ip), || None).is_ok());
        // A key's failures block it from any source.
        let key = || Some("AKIAEXAMPLE".to_owned());
        l.authentication_failed(None, Some("AKIAEXAMPLE"));
        l.authentication_failed(None, Some("AKIAEXAMPLE"));
        let err = l.check_authentication(Some(other), key).unwrap_err();
        assert!(err.message().contains("auth_failures_per_principal"));
    }

    #[test]
    fn assume_role_is_limited_per_principal_and_settings_swap() {
        let clock = Arc::new(FixedClock::at_secs(1_000));
        let l = limiter(&clock);
        assert!(l.assume_role("a").is_ok());
        assert!(l.assume_role("a").is_ok());
        assert_eq!(
            l.assume_role("a").unwrap_err().code(),
            ErrorCode::Throttling
        );
        assert!(l.assume_role("b").is_ok());
        l.set(LimitSettings::default());
        assert!(l.assume_role("a").is_ok());
    }
}
