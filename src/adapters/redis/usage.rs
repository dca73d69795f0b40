//! Last-used data and one-time identifiers on Redis.
//!
//! Owns: `UsageLog` and `ReplayGuard` over Redis. Uses are held back in
//! the embedded adapter's write-behind buffer and written at most once a
//! second (and at shutdown) in one pipeline of `RECORD_USE` scripts, each
//! of which writes only if the record still exists, so recording a use
//! costs no round trip on the request path. Whether the record exists is
//! known without a round trip once this process has read it (`seen`; a
//! record deleted by another replica since may get one use recorded
//! here, which the script then drops). A one-time identifier is `SET <p>once:<scope>:<id> 1
//! NX PXAT <not_after + slack>`: atomic across replicas; the slack keeps
//! the entry a little longer than required, against clock skew between
//! replicas and Redis. May import the parent's modules, `redis`,
//! parking_lot and `service::store`.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use redis::AsyncCommands;

use super::RedisStore;
use super::scripts::RECORD_USE;
use crate::domain::ids::AccountId;
use crate::service::store::{Key, LastUsed, ReplayScope, StoreError, Timestamp, check_replay_id};

/// How long past its `not_after` a one-time identifier is kept.
const ONCE_SLACK: Duration = Duration::from_secs(300);
/// Entries of [`Seen`] kept before it is emptied.
const SEEN_CAPACITY: usize = 16_384;

/// Records known to exist, with the change stamp they were read at.
#[derive(Debug, Default)]
pub(super) struct Seen(Mutex<HashMap<Key, u64>>);

impl Seen {
    pub(super) fn note(&self, key: &Key, stamp: u64) {
        let mut map = self.0.lock();
        if map.len() >= SEEN_CAPACITY {
            map.clear();
        }
        map.insert(key.clone(), stamp);
    }

    /// Whether `key` was read as existing: at `stamp` (`Some(true)`),
    /// before a later change (`Some(false)`), or never (`None`).
    fn known(&self, key: &Key, stamp: u64) -> Option<bool> {
        self.0.lock().get(key).map(|&at| at == stamp)
    }

    /// Forgets `keys` (deleted by this process).
    pub(super) fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) {
        let mut map = self.0.lock();
        for key in keys {
            map.remove(key);
        }
    }
}

// === impl RedisStore ===

impl RedisStore {
    /// Notes that `key` exists, as read when the change stamp was `stamp`.
    pub(super) fn note_exists(&self, key: &Key, stamp: u64) {
        if self.changes().seen() == stamp {
            self.seen().note(key, stamp);
        }
    }

    pub(super) async fn once(
        &self,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> Result<bool, StoreError> {
        check_replay_id(id)?;
        let name = self.names().once(scope, id);
        let at = not_after
            .as_unix_millis()
            .saturating_add(u64::try_from(ONCE_SLACK.as_millis()).unwrap_or(u64::MAX));
        let set: Option<String> = self
            .conn()
            .bounded(async |c| {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(1)
                    .arg("NX")
                    .arg("PXAT")
                    .arg(at)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }

    pub(super) async fn use_recorded(&self, key: &Key, used: LastUsed) -> Result<bool, StoreError> {
        let stamp = self.changes().seen();
        // A record read before the last change is taken to still exist:
        // the write script checks again, off the request path, so a
        // request never waits on Redis to record a use (and Authorize
        // goes on through an outage). Only a record never read here is
        // looked up first.
        if self.seen().known(key, stamp).is_none() {
            let name = self.names().record(key);
            let exists: bool = self.conn().bounded(async |c| c.exists(&name).await).await?;
            if !exists {
                return Ok(false);
            }
            self.note_exists(key, stamp);
        }
        if let Some(batch) = self.usage().record(key.clone(), used, self.clock_now()) {
            let (conn, pipes) = (self.conn().clone(), self.use_pipelines(&batch)?);
            tokio::spawn(async move {
                if let Err(e) = conn.run_all(pipes).await {
                    tracing::warn!(error = %e, "cannot write last-used data");
                }
            });
        }
        Ok(true)
    }

    pub(super) async fn read_last_used(&self, key: &Key) -> Result<Option<LastUsed>, StoreError> {
        if let Some(used) = self.usage().get(key) {
            return Ok(Some(used));
        }
        let name = self.names().usage(key);
        let json: Option<String> = self.conn().bounded(async |c| c.get(&name).await).await?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::CorruptRecord {
                detail: format!("undecodable usage: {e}"),
            })
        })
        .transpose()
    }

    pub(super) async fn flush_uses(&self) -> Result<(), StoreError> {
        let batch = self.usage().take();
        if batch.is_empty() {
            return Ok(());
        }
        self.conn().run_all(self.use_pipelines(&batch)?).await
    }

    /// One `RECORD_USE` per use, as plain `EVAL`s so the pipelines need
    /// no loaded script (Redis caches the compiled script anyway), in one
    /// pipeline per account slot.
    fn use_pipelines(&self, batch: &[(Key, LastUsed)]) -> Result<Vec<redis::Pipeline>, StoreError> {
        let mut by_account: HashMap<AccountId, redis::Pipeline> = HashMap::new();
        for (key, used) in batch {
            let json = serde_json::to_string(used).map_err(StoreError::failure)?;
            by_account
                .entry(key.account_id())
                .or_insert_with(redis::pipe)
                .cmd("EVAL")
                .arg(RECORD_USE)
                .arg(2)
                .arg(self.names().record(key))
                .arg(self.names().usage(key))
                .arg(json)
                .ignore();
        }
        Ok(by_account.into_values().collect())
    }
}
