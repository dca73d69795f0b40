//! Loaded identities, kept until the store changes.
//!
//! Owns: [`IdentityCache`], a bounded moka cache of [`LoadedIdentity`] by
//! who the caller is — an account's root, a user by its `AIDA…` id, a
//! session by its access key id and issue time (and the session itself,
//! compared on a hit, since `ASIA…` ids are unique only with their
//! token). Each entry notes the store's [`StoreGeneration::changes_seen`]
//! stamp read *before* loading and is trusted only while the stamp is
//! unchanged, so any commit — `PutRolePolicy`, a detach, a boundary
//! change, a deleted user — makes the very next request reload: policy
//! changes apply to existing sessions on their next call, as in AWS.
//! A load that raced a commit is stamped with the older value and so is
//! never trusted after it. May import `domain`, `service::authn`,
//! `service::store` and the parent.

use std::sync::Arc;

use moka::sync::Cache;

use super::LoadedIdentity;
use crate::domain::credential::Session;
use crate::domain::ids::{AccessKeyId, AccountId, Partition, UniqueId};
use crate::service::authn::{Caller, Identity};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::{EntityReader, StoreGeneration};

/// Identities kept when no size is configured.
pub(crate) const DEFAULT_CAPACITY: u64 = 10_000;

/// Who an entry is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdentityKey {
    Root(AccountId),
    User(AccountId, UniqueId),
    Session(AccessKeyId, u64),
}

/// One loaded identity and the store stamp it was loaded at.
#[derive(Debug)]
struct Entry {
    stamp: u64,
    /// The session it was loaded for (compared on a hit).
    session: Option<Arc<Session>>,
    identity: Arc<LoadedIdentity>,
}

/// Loaded identities by caller, invalidated by any store change.
#[derive(Debug)]
pub struct IdentityCache {
    entries: Cache<IdentityKey, Arc<Entry>>,
}

// === impl IdentityCache ===

impl IdentityCache {
    /// An empty cache of at most `capacity` identities.
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// `caller`'s identity: the cached one while the store is unchanged
    /// since it was loaded, otherwise loaded from `store` (and kept).
    ///
    /// # Errors
    ///
    /// As [`LoadedIdentity::load`]; failures are not kept.
    pub async fn load(
        &self,
        store: &(impl EntityReader + StoreGeneration + ?Sized),
        partition: &Partition,
        caller: &Caller,
    ) -> Result<Arc<LoadedIdentity>, ServiceError> {
        let key = match &caller.identity {
            Identity::Root => IdentityKey::Root(caller.account),
            Identity::User { unique_id, .. } => {
                IdentityKey::User(caller.account, unique_id.clone())
            }
            Identity::Session(s) => IdentityKey::Session(s.access_key_id.clone(), s.issued_at),
        };
        let stamp = store.changes_seen();
        let cached = self
            .entries
            .get(&key)
            .filter(|e| same_session(e.session.as_ref(), caller));
        let fresh = cached.as_ref().filter(|e| e.stamp == stamp);
        crate::telemetry::metrics::metrics().cache(
            crate::telemetry::metrics::Cache::Identities,
            fresh.is_some(),
        );
        if let Some(entry) = fresh {
            return Ok(Arc::clone(&entry.identity));
        }
        let identity = match LoadedIdentity::load(store, partition, caller).await {
            Ok(loaded) => Arc::new(loaded),
            // The store unreachable: a session's identity as last loaded
            // goes on. Bounded: session authentication fails closed once
            // the revocation rules could not be refreshed for the grace
            // (`Revocations`). Long-term identities have no such bound
            // and are not served stale.
            Err(e)
                if e.code() == ErrorCode::ServiceUnavailable
                    && matches!(key, IdentityKey::Session(..)) =>
            {
                return cached.map(|e| Arc::clone(&e.identity)).ok_or(e);
            }
            Err(e) => {
                self.entries.invalidate(&key);
                return Err(e);
            }
        };
        let session = match &caller.identity {
            Identity::Session(s) => Some(Arc::clone(s)),
            Identity::Root | Identity::User { .. } => None,
        };
        let entry = Entry {
            stamp,
            session,
            identity: Arc::clone(&identity),
        };
        self.entries.insert(key, Arc::new(entry));
        Ok(identity)
    }
}

impl Default for IdentityCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// Whether an entry loaded for `cached` serves `caller`: the same session
/// (the same allocation when both came from the session cache, otherwise
/// equal), or no session on either side.
fn same_session(cached: Option<&Arc<Session>>, caller: &Caller) -> bool {
    match (cached, &caller.identity) {
        (None, Identity::Root | Identity::User { .. }) => true,
        (Some(a), Identity::Session(b)) => Arc::ptr_eq(a, b) || **a == **b,
        _ => false,
    }
}
