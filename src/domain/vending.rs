//! Credential vending: the rules `stsd agent` and `stsd credential-process`
//! follow when they hand a role's session to an SDK.
//!
//! Owns: [`VendedCredentials`] (one session as the agent holds it),
//! [`RefreshPolicy`] (when to refresh ahead of expiry, how long to back off
//! after a failure, and until when credentials may still be served — never
//! once expired), [`ImdsTokens`] (stateless IMDSv2 session tokens, MACed
//! with a per-process key), and [`WorkloadToken`] (the claims a node agent
//! reads from a workload's service-account token to pick its role; the
//! broker verifies the token itself). Pure: std, serde_json, ring,
//! data-encoding and the domain's secrets. Spec: reference section 11.

mod imds_token;
mod schedule;
mod workload;

use crate::domain::secret::{SecretAccessKey, SessionToken};

pub use imds_token::{IMDS_TOKEN_MAX_TTL_SECS, ImdsTokenError, ImdsTokens};
pub use schedule::{MIN_REFRESH_INTERVAL_SECS, RefreshPolicy};
pub use workload::{WorkloadToken, WorkloadTokenError};

/// One role session as the agent vends it.
#[derive(Debug)]
pub struct VendedCredentials {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The session's secret.
    pub secret_access_key: SecretAccessKey,
    /// The sealed session token.
    pub session_token: SessionToken,
    /// Expiry, in seconds since the epoch.
    pub expiration: i64,
    /// When the agent received them, in seconds since the epoch
    /// (IMDS's `LastUpdated`).
    pub received: i64,
    /// The role's ARN (`arn:aws:iam::<account>:role/<name>`).
    pub role_arn: String,
    /// The assumed-role ARN the session acts as.
    pub assumed_role_arn: String,
    /// The role's account.
    pub account_id: String,
}

/// A role's name: the last path segment of its ARN, as IMDS lists it.
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit_once('/').map_or(role_arn, |(_, name)| name)
}

// === impl VendedCredentials ===

impl VendedCredentials {
    /// Seconds left at `now`; negative once expired.
    pub fn remaining(&self, now: i64) -> i64 {
        self.expiration.saturating_sub(now)
    }
}

#[cfg(test)]
mod tests;
