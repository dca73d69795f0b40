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
//! bounded by `[caches] sessions`) keyed by the token's SHA-256, so a hit
//! is exactly the token that was opened before (up to a SHA-256
//! collision) without holding the ~400-byte token itself; the expiry, the
//! revocation check and the signature still run on every request. Each
//! opened token also keeps the signing keys derived from its secret (one
//! per scope it signed for, at most [`MAX_SCOPES`]), so a session's keys
//! live and die with its cache entry instead of taking entries of the
//! shared signing-key cache (about 2 KiB per cached session before, about
//! 1.25 KiB now: BENCHMARKS.md, `session_memory`). May import `domain`,
//! `service::error` and the parent.

use std::sync::Arc;

use moka::sync::Cache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use super::{Authenticator, Caller, Identity, invalid_token, sigv4_error};
use crate::domain::credential::Session;
use crate::domain::ids::{AccessKeyId, Region};
use crate::domain::secret::SigningKey;
use crate::domain::sigv4::{self, CredentialScope, ParsedAuth, VerifyPolicy};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::session_keys::SessionKeys;

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
        // token, so the signing key is kept with the opened token.
        let signing_key = opened.signing_key(&auth.scope());
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

/// Signing keys kept per opened token: a session signs for one scope a
/// day in most uses (STS or one service in one region); one that
/// alternates between more scopes than this derives again (four HMACs).
pub(super) const MAX_SCOPES: usize = 4;

/// A token opened once: its session, and the signing keys derived from
/// its secret, by `date/region/service`.
#[derive(Debug)]
pub(super) struct Opened {
    session: Arc<Session>,
    keys: Mutex<Vec<(Box<str>, SigningKey)>>,
}

impl Opened {
    /// The signing key of `scope`, derived from the session's secret the
    /// first time (the oldest of [`MAX_SCOPES`] kept is dropped).
    pub(super) fn signing_key(&self, scope: &CredentialScope<'_>) -> SigningKey {
        let same = |kept: &str| {
            let mut parts = kept.split('/');
            parts.next() == Some(scope.date)
                && parts.next() == Some(scope.region)
                && parts.next() == Some(scope.service)
                && parts.next().is_none()
        };
        let mut keys = self.keys.lock();
        if let Some((_, key)) = keys.iter().find(|(kept, _)| same(kept)) {
            return key.clone();
        }
        let key = SigningKey::derive(
            &self.session.secret,
            scope.date,
            scope.region,
            scope.service,
        );
        if keys.len() >= MAX_SCOPES {
            keys.remove(0);
        }
        // One slot at a time: most sessions sign for one scope, and a
        // `Vec`'s first push would reserve four (~150 bytes more a session).
        keys.reserve_exact(1);
        let name = format!("{}/{}/{}", scope.date, scope.region, scope.service);
        keys.push((name.into_boxed_str(), key.clone()));
        key
    }

    /// A token opened from `session`, no key derived yet.
    #[cfg(test)]
    pub(super) fn for_tests(session: Session) -> Self {
        Self {
            session: Arc::new(session),
            keys: Mutex::new(Vec::new()),
        }
    }

    /// Scopes whose keys are kept.
    #[cfg(test)]
    pub(super) fn kept_scopes(&self) -> usize {
        self.keys.lock().len()
    }
}

/// Opened session tokens by the token's SHA-256.
#[derive(Debug)]
pub(crate) struct SessionCache {
    opened: Cache<[u8; 32], Arc<Opened>>,
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

    /// Forgets every opened token.
    pub(super) fn clear(&self) {
        self.opened.invalidate_all();
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
    fn open(&self, ring: &SessionKeys, token: &str) -> Result<Arc<Opened>, ServiceError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let hit = self.opened.get(&digest);
        crate::telemetry::metrics::metrics()
            .cache(crate::telemetry::metrics::Cache::Sessions, hit.is_some());
        if let Some(hit) = hit {
            return Ok(hit);
        }
        let session = ring.open(token).map_err(|e| {
            tracing::debug!(error = %e, "session token refused");
            invalid_token()
        })?;
        let opened = Arc::new(Opened {
            session: Arc::new(session),
            keys: Mutex::new(Vec::new()),
        });
        self.opened.insert(digest, Arc::clone(&opened));
        Ok(opened)
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}
