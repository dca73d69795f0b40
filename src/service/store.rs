//! The identity store: the ports the IAM and STS operations need from
//! storage, and the record model they exchange.
//!
//! Owns: the port traits below, the records ([`model`]), keys and pages
//! ([`Key`], [`ListQuery`], [`Page`]), [`Transaction`], [`StoreError`],
//! the session ports ([`RevocationStore`], [`IssuedSessionLog`]),
//! the [`commit_with_retry`] helper and the adapter [`conformance`] suite.
//! May import `domain` and `service::error`; never an adapter or a storage
//! crate. Adapters (`adapters::memory`, `adapters::embedded`, later Redis)
//! implement every port and pass [`conformance::run_all`].
//!
//! # How writes work
//!
//! Every record carries a [`Revision`]. An operation reads what it needs,
//! decides, and commits one [`Transaction`] whose preconditions pin what it
//! read (`require_unchanged`, `require_absent`). If anything changed in
//! between, the commit applies nothing and fails with a precondition
//! failure ([`StoreError::is_precondition_failure`]); the operation reads
//! again and re-decides ([`commit_with_retry`]). IAM's rules — unique
//! names, at most 2 access keys per user, at most 5 policy versions,
//! membership on both sides — are decided that way inside one commit,
//! never by blind writes, so they hold across replicas of a shared store.
//!
//! ```
//! use stsd::domain::ids::{AccountId, UserName};
//! use stsd::service::error::{ErrorCode, ServiceError};
//! use stsd::service::store::model::{AccessKeyRecord, UserRecord};
//! use stsd::service::store::{IamStore, Key, StoreError, Transaction, commit_with_retry, fetch};
//!
//! /// CreateAccessKey's rule: at most two keys per user, under races too.
//! async fn add_key(
//!     store: &dyn IamStore,
//!     account: AccountId,
//!     name: &UserName,
//!     new_key: AccessKeyRecord,
//! ) -> Result<(), ServiceError> {
//!     let (user_key, new_key) = (&Key::user(account, name), &new_key);
//!     commit_with_retry(store, move || async move {
//!         let user = fetch::<UserRecord>(store, user_key)
//!             .await?
//!             .ok_or_else(|| ServiceError::no_such_entity("user", name.as_str()))?;
//!         if user.record.access_keys.len() >= 2 {
//!             return Err(ServiceError::new(ErrorCode::LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2"));
//!         }
//!         let mut updated = user.record.clone();
//!         updated.access_keys.push(new_key.id.clone());
//!         let mut txn = Transaction::new();
//!         txn.require_unchanged(&user)
//!             .require_absent(Key::access_key(account, &new_key.id))
//!             .put(updated)
//!             .put(new_key.clone());
//!         Ok((txn, ()))
//!     })
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Notes for other adapters (Redis, issue 7)
//!
//! A transaction touches one account, so an adapter may keep an account in
//! one Redis Cluster hash slot (`{<account>}` in every key name) and commit
//! with one Lua script: compare stored revisions, then write, or return the
//! failed precondition. Revisions need only increase per key (a per-account
//! counter does); the generation may be a separate counter bumped after
//! the commit. `use_once` is `SET NX` with an expiry at `not_after`. Access
//! key IDs minted by stsd carry their account (`AccessKeyId::account`), so
//! the index can live in the account's slot; only IDs that do not (an
//! operator-supplied root key) need a global index entry.
//!
//! Spec: DESIGN.md "State"; reference sections 10 and 12.

pub mod conformance;
mod error;
mod key;
pub mod model;
mod sessions;
mod transaction;

use async_trait::async_trait;

pub use error::StoreError;
pub use key::{
    Key, Kind, ListQuery, MAX_PAGE, MAX_REPLAY_ID_LEN, Page, ReplayScope, Revision, Versioned,
};
pub use model::{Entity, LastUsed, Record, Tag, Timestamp};
pub use sessions::{
    IssuedSessionLog, MAX_SESSION_PAGE, RevocationStore, SessionPage, clamp_session_page,
};
pub use transaction::{MAX_WRITES, Precondition, Transaction};

use crate::domain::ids::{AccessKeyId, AccountAlias, AccountId};
use model::{AccessKeyRecord, AccountRecord};

/// Reads records by key, and lists them in name order.
#[async_trait]
pub trait EntityReader: Send + Sync {
    /// The record under `key`, with its revision.
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError>;

    /// Records of `kind` in `account`, in order of [`Key::name`], after
    /// `query.after`, filtered by path prefix, at most `query.limit`.
    async fn list(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError>;
}

/// Commits transactions atomically.
#[async_trait]
pub trait EntityWriter: Send + Sync {
    /// Checks every precondition of `txn`, then applies all its writes, or
    /// nothing (see [`Transaction`] for the rules). Returns the revision the
    /// put records now carry.
    async fn commit(&self, txn: Transaction) -> Result<Revision, StoreError>;
}

/// Finds an access key by its ID alone: the SigV4 hot path.
///
/// Access key IDs are unique across accounts: a commit that puts an access
/// key whose ID another account holds fails with
/// [`StoreError::DuplicateKey`], and `Precondition::Absent` on an access key
/// checks every account.
#[async_trait]
pub trait AccessKeyIndex: Send + Sync {
    /// The access key `id`, whichever account owns it.
    async fn access_key(
        &self,
        id: &AccessKeyId,
    ) -> Result<Option<Versioned<AccessKeyRecord>>, StoreError>;
}

/// Accepts each one-time identifier once: TOTP steps per device, SAML
/// assertion IDs, JWT `jti`s.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// True the first time `(scope, id)` is offered, false ever after, even
    /// under concurrent calls (exactly one of them gets true). The entry
    /// may be purged once `not_after` has passed, so the caller must refuse
    /// anything whose validity ends at or before `not_after` by itself.
    async fn use_once(
        &self,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// Last-used data of access keys, roles and users, kept beside the records
/// so that recording a use changes no revision and no generation. Best
/// effort: the latest use may be lost in a crash.
#[async_trait]
pub trait UsageLog: Send + Sync {
    /// Records a use of the entity under `key`; false (and nothing kept)
    /// when no record is there. Deleting the record drops its usage.
    async fn record_use(&self, key: &Key, used: LastUsed) -> Result<bool, StoreError>;

    /// The last recorded use of the entity under `key`.
    async fn last_used(&self, key: &Key) -> Result<Option<LastUsed>, StoreError>;

    /// Writes out uses an adapter holds back (at shutdown).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A counter that increases with every commit that writes: caches compare
/// it to know whether anything may have changed.
#[async_trait]
pub trait StoreGeneration: Send + Sync {
    /// The current generation. A commit that returned before this call is
    /// reflected in it: a later call returns a larger number.
    async fn generation(&self) -> Result<u64, StoreError>;

    /// A number that increases whenever this process learns that the
    /// store changed: after each of its own commits (embedded, memory),
    /// or an invalidation from another replica (shared stores). Cheap and
    /// synchronous: request-path caches ([`crate::service::authz`]'s
    /// loaded identities) note it before loading and trust an entry only
    /// while it is unchanged. A commit's change is counted before the
    /// commit returns.
    fn changes_seen(&self) -> u64;
}

/// The accounts the store knows.
#[async_trait]
pub trait AccountDirectory: EntityReader + EntityWriter {
    /// Every account, in ID order.
    async fn accounts(&self) -> Result<Vec<AccountId>, StoreError>;

    /// Creates `record`'s account unless it exists; returns the stored one
    /// either way, so bootstrap is idempotent.
    async fn ensure_account(
        &self,
        record: AccountRecord,
    ) -> Result<Versioned<AccountRecord>, StoreError> {
        ensure_account(self, record).await
    }

    /// The account whose alias is `alias` (what a sign-in with an alias
    /// resolves), if any. Aliases are unique across accounts
    /// ([`Kind::is_global`]); this default reads the alias record of each
    /// account, which suits the few, operator-configured accounts of a
    /// deployment.
    async fn account_by_alias(
        &self,
        alias: &AccountAlias,
    ) -> Result<Option<AccountId>, StoreError> {
        for account in self.accounts().await? {
            if self
                .get(&Key::account_alias(account, alias))
                .await?
                .is_some()
            {
                return Ok(Some(account));
            }
        }
        Ok(None)
    }
}

/// Every port: what the composition root holds as `Arc<dyn IamStore>`.
/// Operations should take the narrowest port they need.
pub trait IamStore:
    EntityReader
    + EntityWriter
    + AccessKeyIndex
    + ReplayGuard
    + UsageLog
    + StoreGeneration
    + AccountDirectory
    + RevocationStore
    + IssuedSessionLog
    + std::fmt::Debug
{
}

impl<T> IamStore for T where
    T: EntityReader
        + EntityWriter
        + AccessKeyIndex
        + ReplayGuard
        + UsageLog
        + StoreGeneration
        + AccountDirectory
        + RevocationStore
        + IssuedSessionLog
        + std::fmt::Debug
{
}

/// How many times [`commit_with_retry`] tries.
pub const MAX_COMMIT_ATTEMPTS: usize = 8;

/// Runs a read-modify-write until its commit goes through.
///
/// `attempt` reads what it needs and returns the transaction to commit and
/// the value to return on success (or its own error, which ends the loop).
/// On a precondition failure it runs again from the start, at most
/// [`MAX_COMMIT_ATTEMPTS`] times; then the last failure is returned (as
/// `ConcurrentModification`, `EntityAlreadyExists` or `NoSuchEntity` once
/// converted into a `ServiceError`).
///
/// `attempt` is a closure returning a future rather than an async closure
/// so that the whole call stays `Send` for axum and tonic handlers; let it
/// capture references by copy: `let key = &key; move || async move { … }`.
pub async fn commit_with_retry<T, E, F, Fut>(
    store: &(impl EntityWriter + ?Sized),
    mut attempt: F,
) -> Result<(T, Revision), E>
where
    E: From<StoreError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Transaction, T), E>>,
{
    let mut tries = 1;
    loop {
        let (txn, value) = attempt().await?;
        let started = tokio::time::Instant::now();
        let committed = store.commit(txn).await;
        crate::telemetry::metrics::metrics().store(
            crate::telemetry::metrics::StoreOp::Commit,
            started.elapsed(),
            committed
                .as_ref()
                .map_or_else(StoreError::is_precondition_failure, |_| true),
        );
        match committed {
            Ok(revision) => return Ok((value, revision)),
            Err(e) if e.is_precondition_failure() && tries < MAX_COMMIT_ATTEMPTS => tries += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Checks a one-time identifier for [`ReplayGuard::use_once`]: 1 to
/// [`MAX_REPLAY_ID_LEN`] bytes. Every adapter calls it first.
pub fn check_replay_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > MAX_REPLAY_ID_LEN {
        return Err(StoreError::ReplayIdLength {
            len: id.len(),
            max: MAX_REPLAY_ID_LEN,
        });
    }
    Ok(())
}

/// Reads the record under `key` as a `T`.
pub async fn fetch<T: Entity>(
    store: &(impl EntityReader + ?Sized),
    key: &Key,
) -> Result<Option<Versioned<T>>, StoreError> {
    store.get(key).await?.map(Versioned::downcast).transpose()
}

/// Creates the account unless it exists; the stored record either way.
async fn ensure_account<S: EntityReader + EntityWriter + ?Sized>(
    store: &S,
    record: AccountRecord,
) -> Result<Versioned<AccountRecord>, StoreError> {
    let key = Key::account(record.id);
    let mut txn = Transaction::new();
    txn.require_absent(key.clone()).put(record.clone());
    match store.commit(txn).await {
        Ok(revision) => Ok(Versioned { revision, record }),
        Err(StoreError::DuplicateKey { .. }) => fetch(store, &key)
            .await?
            .ok_or(StoreError::MissingKey { key }),
        Err(e) => Err(e),
    }
}
