//! The embedded store: every port of `service::store` over one redb file,
//! `stsd.redb`, in the data directory. The default backend: `stsd serve`
//! needs nothing else.
//!
//! Owns: [`EmbeddedStore`] and the file's life cycle; the layout and the
//! operations are in `tables`. May import `service::store`, `domain`,
//! redb and tokio; never `api`.
//!
//! Durability: every commit and every `use_once` is a redb write
//! transaction with redb's default `Durability::Immediate`, so it is on
//! disk (fsync) before the call returns: nothing acknowledged is lost, even
//! to SIGKILL or power loss, and redb recovers the file by itself on the
//! next open. Only last-used data ([`UsageLog`]) is written non-durably,
//! and behind: at most once a second, and at shutdown (`usage`).
//!
//! Blocking: redb writes block on I/O and wait for the one writer slot, and
//! listings may read many pages, so those run on tokio's blocking pool
//! through `spawn_blocking`. Point reads (an entity, an access key, a last
//! use) are MVCC snapshots that never wait for the writer and run inline;
//! the decoded records are kept until the next commit (`cache`). A relaxed
//! append to the issued-session log (one `write` to the page cache) runs
//! inline too; a durable one, or one that closes a segment, does not.

mod cache;
mod issued;
mod sessions;
mod tables;
pub(in crate::adapters) mod usage;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::Database;

use crate::domain::clock::Clock;
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationRule, SessionFilter};
use crate::service::store::model::AccessKeyRecord;
use crate::service::store::{
    AccessKeyIndex, AccountDirectory, EntityReader, EntityWriter, IssuedSessionLog, Key, Kind,
    LastUsed, ListQuery, Page, Record, ReplayGuard, ReplayScope, Revision, RevocationStore,
    SessionPage, StoreError, StoreGeneration, Timestamp, Transaction, UsageLog, Versioned,
    check_replay_id,
};

/// The file name of the store inside the data directory.
pub const FILE_NAME: &str = "stsd.redb";

/// The embedded store. Holds the redb database open (and locked against
/// other processes) until dropped.
#[derive(Debug, Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    usage: Arc<usage::UsageBuffer>,
    records: Arc<cache::RecordCache>,
    issued: Arc<issued::SessionLog>,
}

// === impl EmbeddedStore ===

impl EmbeddedStore {
    /// Opens (or creates) `stsd.redb` in `data_dir`, creating the directory
    /// (mode 0700) and the file (mode 0600) if needed; recovers the file if
    /// the last process died mid-write. Blocking: call it at start-up,
    /// before serving. `clock` decides when one-time entries expire.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(FILE_NAME);
        create_private_file(&path)?;
        let db = Database::create(&path).map_err(tables::backend)?;
        tables::init(&db)?;
        sessions::init(&db)?;
        let now = Timestamp::now(clock.as_ref());
        let issued = issued::SessionLog::open(data_dir, now.as_unix_secs())?;
        let earlier = sessions::take_issued(&db, now)?;
        issued.record(earlier, now.as_unix_secs(), true)?;
        sessions::drop_issued(&db)?;
        let usage = Arc::new(usage::UsageBuffer::new(clock.now()));
        Ok(Self {
            db: Arc::new(db),
            clock,
            path,
            usage,
            records: Arc::default(),
            issued: Arc::new(issued),
        })
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a point read inline: a redb read transaction is an MVCC
    /// snapshot that never waits for the writer, and the pages a point read
    /// touches are almost always cached, so the hop to the blocking pool
    /// would cost more than the read.
    fn read<T>(
        &self,
        op: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        op(&self.db)
    }

    /// Writes `batch` of uses in the background (best effort, logged).
    fn write_uses(&self, batch: Vec<(Key, LastUsed)>) {
        if batch.is_empty() {
            return;
        }
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = tables::record_uses(&db, &batch) {
                tracing::warn!(error = %e, "cannot write last-used data");
            }
        });
    }

    /// Appends `batch` to the issued-session log: on the blocking pool
    /// when durable (it waits for `fdatasync`) or when a segment is to be
    /// closed, else inline (one `write`).
    async fn append_sessions(
        &self,
        batch: &[IssuedSession],
        durable: bool,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now(self.clock.as_ref()).as_unix_secs();
        // A relaxed append is one write to the page cache: inline, unless
        // it would close (and so fsync) a segment.
        if !durable && self.issued.record_relaxed_inline(batch, now)? {
            return Ok(());
        }
        let (log, batch) = (Arc::clone(&self.issued), batch.to_vec());
        self.run(move |_| log.record(batch, now, durable)).await
    }

    /// Runs `op` on the blocking pool.
    async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || op(&db))
            .await
            .map_err(StoreError::failure)?
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(StoreError::unavailable(e)),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(StoreError::unavailable)
}

/// Creates the file with mode 0600 before redb opens it, so the sealed
/// secrets and IAM data are never readable by others, not even briefly.
#[cfg(unix)]
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(StoreError::unavailable)
}

#[cfg(not(unix))]
fn create_private_file(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

#[async_trait]
impl EntityReader for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        if let Some(found) = self.records.get(key) {
            return Ok(found);
        }
        let generation = self.records.begin();
        let found = self.read(|db| tables::get(db, key))?;
        self.records.keep(generation, key, &found);
        Ok(found)
    }

    async fn list(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError> {
        let query = query.clone();
        self.run(move |db| tables::list(db, account, kind, &query))
            .await
    }
}

#[async_trait]
impl EntityWriter for EmbeddedStore {
    async fn commit(&self, txn: Transaction) -> Result<Revision, StoreError> {
        self.usage.forget(txn.deletes());
        let records = Arc::clone(&self.records);
        // Forgotten on the blocking thread, right after the write: the
        // caller's future may be dropped (a request timeout) while the
        // commit still completes, and the cache must not outlive it.
        self.run(move |db| {
            let result = tables::commit(db, &txn);
            records.committed();
            result
        })
        .await
    }
}

#[async_trait]
impl AccessKeyIndex for EmbeddedStore {
    async fn access_key(
        &self,
        id: &AccessKeyId,
    ) -> Result<Option<Versioned<AccessKeyRecord>>, StoreError> {
        let found = match self.records.get_key_id(id) {
            Some(found) => found,
            None => {
                let generation = self.records.begin();
                let found = self.read(|db| tables::access_key(db, id))?;
                self.records.keep_key_id(generation, id, &found);
                found
            }
        };
        found.map(Versioned::downcast).transpose()
    }
}

#[async_trait]
impl ReplayGuard for EmbeddedStore {
    async fn use_once(
        &self,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> Result<bool, StoreError> {
        check_replay_id(id)?;
        let id = id.to_owned();
        let now = Timestamp::now(self.clock.as_ref());
        self.run(move |db| tables::use_once(db, now, scope, &id, not_after))
            .await
    }
}

#[async_trait]
impl UsageLog for EmbeddedStore {
    async fn record_use(&self, key: &Key, used: LastUsed) -> Result<bool, StoreError> {
        // The record only has to exist: asked of the cache first, which
        // does not copy it (a use is recorded on every signed request).
        let exists = match self.records.exists(key) {
            Some(exists) => exists,
            None => self.get(key).await?.is_some(),
        };
        if !exists {
            return Ok(false);
        }
        if let Some(batch) = self.usage.record(key.clone(), used, self.clock.now()) {
            self.write_uses(batch);
        }
        Ok(true)
    }

    async fn last_used(&self, key: &Key) -> Result<Option<LastUsed>, StoreError> {
        if let Some(used) = self.usage.get(key) {
            return Ok(Some(used));
        }
        self.read(|db| tables::last_used(db, key))
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let batch = self.usage.take();
        if batch.is_empty() {
            return Ok(());
        }
        self.run(move |db| tables::record_uses(db, &batch)).await
    }
}

#[async_trait]
impl StoreGeneration for EmbeddedStore {
    async fn generation(&self) -> Result<u64, StoreError> {
        self.run(tables::generation).await
    }

    fn changes_seen(&self) -> u64 {
        // Only this process writes the file; the record cache counts
        // every commit it ends.
        self.records.begin()
    }
}

#[async_trait]
impl AccountDirectory for EmbeddedStore {
    async fn accounts(&self) -> Result<Vec<AccountId>, StoreError> {
        self.run(tables::accounts).await
    }
}

#[async_trait]
impl RevocationStore for EmbeddedStore {
    async fn put_revocation(&self, rule: &RevocationRule) -> Result<u64, StoreError> {
        let rule = rule.clone();
        self.run(move |db| sessions::put_revocation(db, &rule))
            .await
    }

    async fn revocations(&self) -> Result<(u64, Vec<RevocationRule>), StoreError> {
        self.run(sessions::revocations).await
    }

    async fn revocation_counter(&self) -> Result<u64, StoreError> {
        self.read(sessions::revocation_counter)
    }

    async fn purge_revocations(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.run(move |db| sessions::purge_revocations(db, now))
            .await
    }
}

#[async_trait]
impl IssuedSessionLog for EmbeddedStore {
    async fn record_sessions(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        self.append_sessions(batch, true).await
    }

    async fn record_sessions_relaxed(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        self.append_sessions(batch, false).await
    }

    async fn sync_sessions(&self) -> Result<(), StoreError> {
        let log = Arc::clone(&self.issued);
        self.run(move |_| log.sync()).await
    }

    async fn issued_session(
        &self,
        id: &AccessKeyId,
        now: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError> {
        Ok(self.issued.get(id, now.as_unix_secs()))
    }

    async fn list_sessions(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: Timestamp,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> Result<SessionPage, StoreError> {
        Ok(self
            .issued
            .list(account, filter, now.as_unix_secs(), after, limit))
    }

    async fn purge_sessions(&self, now: Timestamp, max: usize) -> Result<usize, StoreError> {
        let log = Arc::clone(&self.issued);
        self.run(move |_| log.purge(now.as_unix_secs(), max)).await
    }
}

#[cfg(test)]
mod tests;
