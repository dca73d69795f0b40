//! The Redis store: every port of `service::store` over Redis (standalone,
//! Sentinel or Cluster), so that several stsd replicas act as one broker.
//!
//! Owns: [`RedisStore`] and its life cycle (connecting, the background
//! invalidation tasks); the key layout is in `keys`, the Lua scripts in
//! `scripts`, the connections in `conn`, the operations in `entities`,
//! `claims`, `sessions` and `usage`, cache coherence in `invalidation`. May import
//! `service::store`, `domain`, `redis`, tokio and parking_lot; never
//! `api`.
//!
//! # Atomicity
//!
//! Every key of an account carries the hash tag `{<account>}`, so one
//! account lives in one Cluster slot, and a transaction (one account)
//! commits with one Lua script that checks every precondition against the
//! stored revisions, then writes, or writes nothing and names the failed
//! precondition. IAM's rules (at most 2 access keys per user, unique
//! names, policy version limits) are decided in the service layer through
//! those preconditions, so they hold across replicas. Access key ids are
//! unique across accounts through claims taken before the script (see
//! `entities`). One-time identifiers (TOTP steps, SAML assertion ids, JWT
//! `jti`s) are `SET NX`.
//!
//! # Round trips
//!
//! A read is one round trip; an access key lookup one (two for a key id
//! that does not name its account, such as an operator-supplied root
//! key); a commit one (two on Cluster, where the generation lives in
//! another slot; one more per access key put or deleted, for its claim);
//! recording a batch of issued sessions one pipeline; recording a use
//! none (written behind, once a second). Request-path caches of the
//! service layer key on [`StoreGeneration::changes_seen`], which costs
//! nothing.
//!
//! # Cache coherence
//!
//! Each commit and revocation publishes on `<prefix>invalidate`; every
//! replica subscribes and bumps `changes_seen` on each message, and wakes
//! its revocation refresh on a revocation. A lost message is caught by a
//! poll of the generation and the revocation counter every
//! `invalidation_poll` (N, default 1000 ms): a replica trusts a stale
//! cached read at most N ms after another replica's commit.
//!
//! # Redis unreachable
//!
//! Every call waits at most the connect plus the response timeout and then
//! fails with `BackendUnavailable` (`ServiceUnavailable` on the wire);
//! nothing is retried behind the caller's back, and a write returns
//! success only once Redis has applied it. Cached reads of the service
//! layer go on: a call that failed for want of Redis bumps nothing, so
//! the identity and key caches keep what they loaded (a session's
//! identity is even served as last loaded while a reload cannot reach
//! Redis, within the revocation grace). The connection reconnects by itself and the subscriber
//! re-subscribes. Durability across a Redis restart is Redis's: run it
//! with `appendonly yes` and `appendfsync always` (nothing acknowledged
//! lost) or `everysec` (up to a second of acknowledged writes lost on a
//! crash of the Redis host).

mod claims;
mod conn;
mod entities;
mod invalidation;
mod keys;
mod scripts;
mod sessions;
mod usage;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use conn::{RedisMode, RedisSettings};

use super::embedded::usage::UsageBuffer;
use crate::domain::clock::Clock;
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationRule, SessionFilter};
use crate::service::store::model::AccessKeyRecord;
use crate::service::store::{
    AccessKeyIndex, AccountDirectory, EntityReader, EntityWriter, IssuedSessionLog, Key, Kind,
    LastUsed, ListQuery, Page, Record, ReplayGuard, ReplayScope, Revision, RevocationStore,
    SessionPage, StoreError, StoreGeneration, Timestamp, Transaction, UsageLog, Versioned,
};

/// The Redis store. Clones share the connection and background tasks,
/// which stop when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RedisStore {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    conn: conn::Conn,
    names: keys::KeyNames,
    clock: Arc<dyn Clock>,
    changes: Arc<invalidation::Changes>,
    usage: UsageBuffer,
    seen: usage::Seen,
    /// Where the store connects, without credentials, for logs.
    target: String,
    _tasks: invalidation::Tasks,
}

// === impl RedisStore ===

impl RedisStore {
    /// Connects as `settings` say and starts the invalidation subscriber
    /// and poller. Fails when Redis cannot be reached within the timeouts.
    /// `clock` decides which sessions are live when purging, and when
    /// last-used data is written.
    pub async fn open(settings: &RedisSettings, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let conn = conn::Conn::open(settings).await?;
        let names = keys::KeyNames::new(&settings.prefix);
        let changes = Arc::new(invalidation::Changes::default());
        let tasks = invalidation::start(&conn, &names, &changes, settings.invalidation_poll);
        let usage = UsageBuffer::new(clock.now());
        Ok(Self {
            shared: Arc::new(Shared {
                conn,
                names,
                clock,
                changes,
                usage,
                seen: usage::Seen::default(),
                target: target(&settings.mode),
                _tasks: tasks,
            }),
        })
    }

    /// Where the store connects (no credentials): for logs.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    fn conn(&self) -> &conn::Conn {
        &self.shared.conn
    }

    fn names(&self) -> &keys::KeyNames {
        &self.shared.names
    }

    fn changes(&self) -> &invalidation::Changes {
        &self.shared.changes
    }

    fn usage(&self) -> &UsageBuffer {
        &self.shared.usage
    }

    fn seen(&self) -> &usage::Seen {
        &self.shared.seen
    }

    fn clock_now(&self) -> Duration {
        self.shared.clock.now()
    }
}

impl std::fmt::Debug for conn::Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

/// The mode and addresses of `mode`, without credentials.
fn target(mode: &RedisMode) -> String {
    let list = |urls: &[crate::domain::secret::SecretUrl]| {
        urls.iter()
            .map(crate::domain::secret::SecretUrl::redacted)
            .collect::<Vec<_>>()
            .join(",")
    };
    match mode {
        RedisMode::Standalone { url } => url.redacted(),
        RedisMode::Sentinel {
            sentinels, master, ..
        } => format!("sentinel {master} via {}", list(sentinels)),
        RedisMode::Cluster { seeds } => format!("cluster via {}", list(seeds)),
    }
}

#[async_trait]
impl EntityReader for RedisStore {
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        self.get_record(key).await
    }

    async fn list(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError> {
        self.list_records(account, kind, query).await
    }
}

#[async_trait]
impl EntityWriter for RedisStore {
    async fn commit(&self, txn: Transaction) -> Result<Revision, StoreError> {
        self.commit_txn(txn).await
    }
}

#[async_trait]
impl AccessKeyIndex for RedisStore {
    async fn access_key(
        &self,
        id: &AccessKeyId,
    ) -> Result<Option<Versioned<AccessKeyRecord>>, StoreError> {
        self.find_access_key(id)
            .await?
            .map(Versioned::downcast)
            .transpose()
    }
}

#[async_trait]
impl ReplayGuard for RedisStore {
    async fn use_once(
        &self,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> Result<bool, StoreError> {
        self.once(scope, id, not_after).await
    }
}

#[async_trait]
impl UsageLog for RedisStore {
    async fn record_use(&self, key: &Key, used: LastUsed) -> Result<bool, StoreError> {
        self.use_recorded(key, used).await
    }

    async fn last_used(&self, key: &Key) -> Result<Option<LastUsed>, StoreError> {
        self.read_last_used(key).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.flush_uses().await
    }
}

#[async_trait]
impl StoreGeneration for RedisStore {
    async fn generation(&self) -> Result<u64, StoreError> {
        self.read_generation().await
    }

    fn changes_seen(&self) -> u64 {
        self.changes().seen()
    }
}

#[async_trait]
impl AccountDirectory for RedisStore {
    async fn accounts(&self) -> Result<Vec<AccountId>, StoreError> {
        self.list_accounts().await
    }
}

#[async_trait]
impl RevocationStore for RedisStore {
    async fn put_revocation(&self, rule: &RevocationRule) -> Result<u64, StoreError> {
        self.put_rule(rule).await
    }

    async fn revocations(&self) -> Result<(u64, Vec<RevocationRule>), StoreError> {
        self.read_rules().await
    }

    async fn revocation_counter(&self) -> Result<u64, StoreError> {
        self.read_rule_counter().await
    }

    async fn purge_revocations(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.purge_rules(now).await
    }

    async fn revocations_changed(&self) {
        self.changes().revocations_changed().await;
    }
}

#[async_trait]
impl IssuedSessionLog for RedisStore {
    async fn record_sessions(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        self.record(batch).await
    }

    async fn issued_session(
        &self,
        id: &AccessKeyId,
        now: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError> {
        self.session(id, now).await
    }

    async fn list_sessions(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: Timestamp,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> Result<SessionPage, StoreError> {
        self.sessions_page(account, filter, now, after, limit).await
    }

    async fn purge_sessions(&self, now: Timestamp, max: usize) -> Result<usize, StoreError> {
        self.purge(now, max).await
    }
}
