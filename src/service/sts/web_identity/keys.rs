//! The port web identity reads provider keys through.
//!
//! Owns: [`IdpKeys`], one method: the key set of an issuer, fetched and
//! cached by an adapter (`adapters::jwks`: OIDC discovery, then
//! `jwks_uri`, over HTTPS), and [`KeyError`], which separates an issuer
//! that cannot be reached (`IDPCommunicationError`, retryable) from one
//! that answers with something unusable (`InvalidIdentityToken`). Also
//! [`StaticKeys`], a fixed map of issuers to key sets (tests, and issuers
//! configured with an inline JWKS). May import `domain` only.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::ids::OidcProviderUrl;
use crate::domain::oidc::KeySet;

/// Where the keys of OIDC issuers come from.
#[async_trait]
pub trait IdpKeys: Send + Sync + std::fmt::Debug {
    /// The key set of `issuer`. With `unknown_kid`, the caller found no
    /// key for that `kid` in the set it had: the source refetches, at a
    /// bounded rate, and returns the fresher set (or the same one when a
    /// refetch is not due).
    ///
    /// # Errors
    ///
    /// [`KeyError`].
    async fn keys(
        &self,
        issuer: &OidcProviderUrl,
        unknown_kid: Option<&str>,
    ) -> Result<Arc<KeySet>, KeyError>;
}

/// Why an issuer's keys are not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The issuer did not answer: connection refused, TLS failure,
    /// timeout.
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    /// It answered, but not with a usable discovery document or key set
    /// (an HTTP error status, too large, not JSON, a plain http:// URL).
    #[error("the identity provider's keys are unusable: {0}")]
    Unusable(String),
}

/// Fixed key sets by issuer URL.
#[derive(Debug, Default, Clone)]
pub struct StaticKeys {
    sets: HashMap<String, Arc<KeySet>>,
}

// === impl StaticKeys ===

impl StaticKeys {
    /// No issuer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `keys` for `issuer`.
    #[must_use]
    pub fn with(mut self, issuer: &OidcProviderUrl, keys: KeySet) -> Self {
        self.sets.insert(issuer.to_string(), Arc::new(keys));
        self
    }
}

#[async_trait]
impl IdpKeys for StaticKeys {
    async fn keys(
        &self,
        issuer: &OidcProviderUrl,
        _unknown_kid: Option<&str>,
    ) -> Result<Arc<KeySet>, KeyError> {
        self.sets
            .get(issuer.as_str())
            .cloned()
            .ok_or_else(|| KeyError::Unreachable(format!("no keys are known for {issuer}")))
    }
}
