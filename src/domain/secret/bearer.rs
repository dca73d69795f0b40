//! Bearer tokens the agent holds: a web-identity JWT it exchanges, the
//! container endpoint's authorization token, an IMDSv2 session token.
//!
//! Owns: [`BearerToken`]. Whoever holds one is trusted, so it follows the
//! rules of [`crate::domain::secret`]: a placeholder `Debug`, no `Display`
//! or `Serialize`, zeroized on drop, one `expose_secret()`, constant-time
//! equality. Pure: std, subtle, zeroize. Spec: reference section 11.

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

secret_type!(BearerToken);
