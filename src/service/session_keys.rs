//! The session sealing key ring, replaceable while serving.
//!
//! Owns: [`SessionKeys`] — the `domain::credential::KeyRing` that seals new
//! session tokens (STS) and opens presented ones (the authenticator),
//! swapped whole on reload (`[sessions] sealing_keys`), so a new key can
//! be put first or an old one retired without a restart. Both users share
//! one `SessionKeys`, so they never disagree. Imports `domain` and
//! `service::limits::Swappable`.

use std::sync::Arc;

use crate::domain::credential::{CredentialError, KeyRing, SealingKeyId, Session};
use crate::domain::ids::RandomSource;
use crate::domain::secret::SessionToken;
use crate::service::limits::Swappable;

/// The current key ring.
#[derive(Debug, Clone)]
pub struct SessionKeys(Swappable<KeyRing>);

// === impl SessionKeys ===

impl SessionKeys {
    /// The ring in force now.
    pub fn current(&self) -> Arc<KeyRing> {
        self.0.get()
    }

    /// Replaces the ring: new tokens are sealed with its active key, and
    /// only its keys open tokens from now on.
    pub fn set(&self, ring: KeyRing) {
        self.0.set(ring);
    }

    /// The ids of the ring in force, the active one first.
    pub fn ids(&self) -> Vec<SealingKeyId> {
        self.current().ids().cloned().collect()
    }

    /// Seals `session` with the active key ([`KeyRing::seal`]).
    ///
    /// # Errors
    ///
    /// As [`KeyRing::seal`].
    pub fn seal(
        &self,
        session: &Session,
        rng: &mut impl RandomSource,
    ) -> Result<SessionToken, CredentialError> {
        self.current().seal(session, rng)
    }

    /// Opens `token` with any key of the ring ([`KeyRing::open`]).
    ///
    /// # Errors
    ///
    /// As [`KeyRing::open`].
    pub fn open(&self, token: &str) -> Result<Session, CredentialError> {
        self.current().open(token)
    }
}

impl SessionKeys {
    /// Keys starting from the shared `ring`.
    pub fn from_shared(ring: Arc<KeyRing>) -> Self {
        Self(Swappable::from_shared(ring))
    }
}

impl From<KeyRing> for SessionKeys {
    fn from(ring: KeyRing) -> Self {
        Self(Swappable::new(ring))
    }
}
