//! Bearer tokens the agent holds: a web-identity JWT it exchanges, the
//! container endpoint's authorization token, an IMDSv2 session token.
//!
//! Owns: [`BearerToken`]. Whoever holds one is trusted, so it follows the
//! rules of [`crate::domain::secret`]: a placeholder `Debug`, no `Display`
//! or `Serialize`, zeroized on drop, one `expose_secret()`, constant-time
//! equality. Pure: std, subtle, zeroize. Spec: reference section 11.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

/// A bearer token, as read from a file, a header or a configuration.
pub struct BearerToken(String);

// === impl BearerToken ===

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl Clone for BearerToken {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl ConstantTimeEq for BearerToken {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.as_bytes().ct_eq(other.0.as_bytes())
    }
}

impl PartialEq for BearerToken {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for BearerToken {}

impl Drop for BearerToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
