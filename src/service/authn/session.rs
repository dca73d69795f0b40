//! Authenticating a request signed with session credentials.
//!
//! Owns: the session branch of [`Authenticator::authenticate`]: an
//! `ASIA…` key id and an `X-Amz-Security-Token` (header, or query for a
//! presigned request) are required together; the token must open with the
//! key ring, name the very key id that signed, not be expired (by the
//! injected clock) and not be revoked (the in-memory revocation set; a
//! revoked session is refused as an unknown token); then the session's
//! secret verifies the signature. No store is read: the token carries the
//! whole session. Opened tokens are kept in [`SessionCache`] (moka,
//! bounded by `[caches] sessions`) keyed by the whole token, so a hit is
//! exactly the token that was opened before; the expiry, the revocation
//! check and the signature still run on every request. May import
//! `domain`, `service::error` and the parent.

use std::sync::Arc;

use data_encoding::HEXLOWER;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::{Authenticator, Caller, Identity, invalid_token, sigv4_error};
use crate::domain::credential::{KeyRing, Session};
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
        let opened = self.opened.open(ring, token)?;
        let session = &opened.session;
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
        if let Some(revoked) = self.revocations.as_ref().and_then(|r| r.check(session)) {
            tracing::debug!(rule = %revoked.rule, kind = revoked.kind, "session revoked");
            return Err(invalid_token());
        }
        // ASIA ids carry 39 random bits and are unique only with their
        // token, so the cached signing key is keyed by the secret too.
        let signing_key = self
            .keys
            .get(&opened.cache_id, &auth.scope(), &session.secret);
        let verified = sigv4::verify(auth, &signing_key, now, policy).map_err(sigv4_error)?;
        let region = verified.scope().region.parse::<Region>().ok();
        Ok(Caller {
            account: session.account,
            identity: Identity::Session(Arc::clone(session)),
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

/// A one-way name for `secret`: its SHA-256, in hex.
fn fingerprint(secret: &SecretAccessKey) -> String {
    HEXLOWER.encode(&Sha256::digest(secret.expose_secret().as_bytes()))
}

/// A token opened once: its session, and the name its signing keys are
/// cached under (the key id joined with a fingerprint of the secret).
#[derive(Debug)]
pub(super) struct Opened {
    session: Arc<Session>,
    cache_id: String,
}

/// Opened session tokens by the whole token.
#[derive(Debug)]
pub(crate) struct SessionCache {
    opened: Cache<Arc<str>, Arc<Opened>>,
}

/// Sessions kept when no size is configured.
pub(super) const DEFAULT_CAPACITY: u64 = 10_000;

impl SessionCache {
    /// An empty cache of at most `capacity` sessions.
    pub(crate) fn with_capacity(capacity: u64) -> Self {
        Self {
            opened: Cache::new(capacity.max(1)),
        }
    }

    /// Sessions held.
    pub(crate) fn entry_count(&self) -> u64 {
        self.opened.entry_count()
    }

    /// Runs moka's pending maintenance now.
    pub(crate) fn run_pending_tasks(&self) {
        self.opened.run_pending_tasks();
    }

    /// `token` opened with `ring`, from the cache when it was opened
    /// before.
    fn open(&self, ring: &KeyRing, token: &str) -> Result<Arc<Opened>, ServiceError> {
        if let Some(hit) = self.opened.get(token) {
            return Ok(hit);
        }
        let session = ring.open(token).map_err(|e| {
            tracing::debug!(error = %e, "session token refused");
            invalid_token()
        })?;
        let cache_id = format!("{}#{}", session.access_key_id, fingerprint(&session.secret));
        let opened = Arc::new(Opened {
            session: Arc::new(session),
            cache_id,
        });
        self.opened.insert(Arc::from(token), Arc::clone(&opened));
        Ok(opened)
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}
