//! `[limits]` and `[metrics]`: the request rate limits, the MFA lockout
//! and who may read `/metrics`.
//!
//! Owns: the raw sections ([`LimitsSection`], [`MetricsSection`], read as
//! part of `file::FileConfig`) and their validated forms
//! ([`LimitsConfig`], [`MetricsConfig`]). A rate with `burst = 0` is off.
//! Imports std, serde and domain types only. Documented in
//! `config/stsd.full.toml` and README.md ("Rate limits").

use serde::Deserialize;

use super::file::Bounded;
use crate::domain::limits::{MfaLockout, Rate};

/// `[limits]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Failed authentications from one source address.
    pub auth_failures_per_source_ip: RateSection,
    /// Failed authentications naming one access key; off by default:
    /// anyone who knows a key id could lock its owner out, and a 40
    /// character secret is not guessed by retrying.
    pub auth_failures_per_principal: RateSection,
    /// `AssumeRole*` calls by one principal; off by default.
    pub assume_role_per_principal: RateSection,
    /// Wrong codes that lock a virtual MFA device.
    pub mfa_max_failed_codes: Bounded<1, 1000>,
    /// How long a locked device refuses every code, seconds.
    pub mfa_lockout_secs: Bounded<1, 604_800>,
}

/// One rate as written: `{ burst = 20, period_ms = 60000 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Events allowed at once; 0 turns the limit off.
    pub burst: Bounded<0, 1_000_000>,
    /// Milliseconds until a full burst is available again.
    pub period_ms: Bounded<1, 86_400_000>,
}

/// `[metrics]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Whether `GET /metrics` is served at all.
    pub enabled: bool,
    /// Whether peers other than loopback may read it (metrics name actions
    /// and counts, no identities; off by default all the same).
    pub allow_remote: bool,
}

/// `[limits]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Failed authentications per source address; `None`: off.
    pub auth_failures_per_source_ip: Option<Rate>,
    /// Failed authentications per access key; `None`: off.
    pub auth_failures_per_principal: Option<Rate>,
    /// `AssumeRole*` calls per principal; `None`: off.
    pub assume_role_per_principal: Option<Rate>,
    /// The MFA device lockout.
    pub mfa: MfaLockout,
}

/// `[metrics]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `GET /metrics` is served.
    pub enabled: bool,
    /// Non-loopback peers may read it.
    pub allow_remote: bool,
}

impl Default for LimitsSection {
    fn default() -> Self {
        let per_minute = |burst| RateSection {
            burst: Bounded(burst),
            period_ms: Bounded(60_000),
        };
        Self {
            auth_failures_per_source_ip: per_minute(50),
            auth_failures_per_principal: per_minute(0),
            assume_role_per_principal: per_minute(0),
            mfa_max_failed_codes: Bounded(5),
            mfa_lockout_secs: Bounded(900),
        }
    }
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_remote: false,
        }
    }
}

// === impl RateSection ===

impl RateSection {
    /// The rate, or `None` when off.
    fn rate(self) -> Option<Rate> {
        (self.burst.0 > 0).then(|| Rate {
            burst: u32::try_from(self.burst.0).unwrap_or(u32::MAX),
            period_ms: self.period_ms.0,
        })
    }
}

/// Validates `[limits]` (every value was range-checked while parsing).
pub fn limits_config(raw: &LimitsSection) -> LimitsConfig {
    LimitsConfig {
        auth_failures_per_source_ip: raw.auth_failures_per_source_ip.rate(),
        auth_failures_per_principal: raw.auth_failures_per_principal.rate(),
        assume_role_per_principal: raw.assume_role_per_principal.rate(),
        mfa: MfaLockout {
            max_failed_codes: u32::try_from(raw.mfa_max_failed_codes.0).unwrap_or(u32::MAX),
            lockout_secs: raw.mfa_lockout_secs.0,
        },
    }
}

/// Validates `[metrics]`.
pub fn metrics_config(raw: &MetricsSection) -> MetricsConfig {
    MetricsConfig {
        enabled: raw.enabled,
        allow_remote: raw.allow_remote,
    }
}
