//! Authenticating a request signed with session credentials.
//!
//! Owns: the session branch of [`Authenticator::authenticate`]: an
//! `ASIA…` key id and an `X-Amz-Security-Token` (header, or query for a
//! presigned request) are required together; the token must open with the
//! key ring, name the very key id that signed, not be expired (by the
//! injected clock) and not be revoked (the in-memory revocation set; a
//! revoked session is refused as an unknown token); then the session's
//! secret verifies the signature. No
//! store is read: the token carries the whole session. May import
//! `domain`, `service::error` and the parent.

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

use super::{Authenticator, Caller, Identity, invalid_token, sigv4_error};
use crate::domain::ids::{AccessKeyId, Region};
use crate::domain::secret::SecretAccessKey;
use crate::domain::sigv4::{self, ParsedAuth, VerifyPolicy};
use crate::service::error::{ErrorCode, ServiceError};

// === impl Authenticator (sessions) ===

impl Authenticator {
    /// Authenticates `auth`, whose key id `id` is temporary or which
    /// carries a security token.
    pub(super) fn authenticate_session(
        &self,
        auth: &ParsedAuth<'_>,
        id: AccessKeyId,
        policy: &VerifyPolicy,
    ) -> Result<Caller, ServiceError> {
        // A long-term key with a token, a session key without one, or a
        // daemon that accepts no sessions: AWS's generic refusal.
        let (Some(ring), Some(token), true) =
            (&self.sessions, auth.security_token(), id.is_temporary())
        else {
            return Err(invalid_token());
        };
        let session = ring.open(token).map_err(|e| {
            tracing::debug!(error = %e, "session token refused");
            invalid_token()
        })?;
        if session.access_key_id != id {
            tracing::debug!("session token of another access key");
            return Err(invalid_token());
        }
        let now = self.clock.now();
        if session.is_expired(now.as_secs()) {
            return Err(expired_token());
        }
        if let Some(revoked) = self.revocations.as_ref().and_then(|r| r.check(&session)) {
            tracing::debug!(rule = %revoked.rule, kind = revoked.kind, "session revoked");
            return Err(invalid_token());
        }
        // ASIA ids carry 39 random bits and are unique only with their
        // token, so the cached signing key is keyed by the secret too.
        let cache_id = format!("{id}#{}", fingerprint(&session.secret));
        let signing_key = self.keys.get(&cache_id, &auth.scope(), &session.secret);
        let verified = sigv4::verify(auth, &signing_key, now, policy).map_err(sigv4_error)?;
        let region = verified.scope().region.parse::<Region>().ok();
        Ok(Caller {
            account: session.account,
            identity: Identity::Session(Box::new(session)),
            access_key_id: id,
            region,
        })
    }
}

/// AWS's answer for an expired session (reference 1.7).
pub(crate) fn expired_token() -> ServiceError {
    ServiceError::new(
        ErrorCode::ExpiredToken,
        "The security token included in the request is expired",
    )
}

/// A one-way name for `secret`: its SHA-256, in hex.
fn fingerprint(secret: &SecretAccessKey) -> String {
    HEXLOWER.encode(&Sha256::digest(secret.expose_secret().as_bytes()))
}
