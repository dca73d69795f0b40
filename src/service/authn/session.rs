//! Authenticating a request signed with session credentials.
//!
//! Owns: the session branch of [`Authenticator::authenticate`]: an
//! `ASIA…` key id and an `X-Amz-Security-Token` (header, or query for a
//! presigned request) are required together; the token must open with the
//! key ring, name the very key id that signed, not be expired (by the
//! injected clock) and not be revoked (the in-memory revocation set; a
//! revoked session is refused as an unknown token); then the session's
//! secret verifies the signature. No store is read: the token carries the
//! whole session. Opened tokens are kept in the [`SessionCache`] (bounded
//! by `[caches] sessions`, keyed by the token's SHA-256, so a hit is
//! exactly the token that was opened before), with the signing keys
//! derived from their secrets (`session_cache`); the expiry, the
//! revocation check and the signature still run on every request. May
//! import `domain`, `service::error` and the parent.
//!
//! [`SessionCache`]: super::session_cache::SessionCache

use std::sync::Arc;

use super::{Authenticator, Caller, Identity, invalid_token, sigv4_error};
use crate::domain::ids::{AccessKeyId, Region};
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
        let scope = auth.scope();
        let opened = self.opened.open(ring, token, &scope)?;
        let session = Arc::clone(&opened.session);
        if session.access_key_id != id {
            tracing::debug!("session token of another access key");
            return Err(invalid_token());
        }
        let now = self.clock.now();
        if session.is_expired(now.as_secs()) {
            return Err(expired_token());
        }
        if let Some(revocations) = &self.revocations {
            // The store unreachable beyond the grace: fail closed.
            revocations.ensure_current()?;
        }
        if let Some(revoked) = self.revocations.as_ref().and_then(|r| r.check(&session)) {
            tracing::debug!(rule = %revoked.rule, kind = revoked.kind, "session revoked");
            return Err(invalid_token());
        }
        // ASIA ids carry 39 random bits and are unique only with their
        // token, so the signing key is kept with the opened token.
        let signing_key = self.opened.signing_key(opened, &scope);
        let verified = sigv4::verify(auth, &signing_key, now, policy).map_err(sigv4_error)?;
        let region = verified.scope().region.parse::<Region>().ok();
        Ok(Caller {
            account: session.account,
            identity: Identity::Session(session),
            access_key_id: Some(id),
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
