//! The claims a node agent reads from a workload's token.
//!
//! Owns: [`WorkloadToken`]. A node agent serves many workloads; each
//! presents its projected service-account token (a JWT) as the
//! `Authorization` header of the container endpoint, as EKS Pod Identity
//! does. The agent reads the token's `sub` (to pick the role configured
//! for that service account) and `exp` (to stop serving cached credentials
//! to a token that has expired) **without verifying the signature**: it
//! does not trust the token, the broker does — the token is exchanged with
//! AssumeRoleWithWebIdentity, where the role's trust policy and the
//! provider's keys decide. Cached credentials are keyed by the SHA-256 of
//! the exact token, so only a holder of a token the broker accepted gets
//! them. Pure: serde_json, data-encoding and sha2. Spec: reference 9, 11.1.

use data_encoding::BASE64URL_NOPAD;
use sha2::{Digest as _, Sha256};

use crate::domain::secret::BearerToken;

/// The longest token the agent reads, in bytes (projected tokens are ~1 KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A workload's token, with the claims the agent routes by.
#[derive(Debug, Clone)]
pub struct WorkloadToken {
    /// The token.
    pub token: BearerToken,
    /// Its `sub`: `system:serviceaccount:<namespace>:<name>` for Kubernetes.
    pub subject: String,
    /// Its `exp`, in seconds since the epoch.
    pub expires: i64,
    /// SHA-256 of the token: the key of the agent's cache.
    pub digest: [u8; 32],
}

/// Why a presented value is not a usable workload token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadTokenError {
    /// Not three base64url parts with a JSON payload.
    #[error("the authorization token is not a JWT")]
    Malformed,
    /// No string `sub` or no numeric `exp`.
    #[error("the authorization token has no {0} claim")]
    MissingClaim(&'static str),
    /// Past its `exp`.
    #[error("the authorization token has expired")]
    Expired,
}

// === impl WorkloadToken ===

impl WorkloadToken {
    /// Reads `token` at `now`.
    ///
    /// # Errors
    ///
    /// [`WorkloadTokenError`].
    pub fn read(token: &str, now: i64) -> Result<Self, WorkloadTokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(WorkloadTokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(WorkloadTokenError::Malformed);
        };
        let payload = BASE64URL_NOPAD
            .decode(payload.trim_end_matches('=').as_bytes())
            .map_err(|_| WorkloadTokenError::Malformed)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|_| WorkloadTokenError::Malformed)?;
        let subject = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .ok_or(WorkloadTokenError::MissingClaim("sub"))?
            .to_owned();
        let expires = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or(WorkloadTokenError::MissingClaim("exp"))?;
        if expires <= now {
            return Err(WorkloadTokenError::Expired);
        }
        Ok(Self {
            digest: Sha256::digest(token.as_bytes()).into(),
            token: BearerToken::new(token),
            subject,
            expires,
        })
    }
}
