//! The embedded store's issued-session log: append-only segment files in
//! `<data_dir>/sessions/` and an in-memory index of the live sessions.
//!
//! Owns: [`SessionLog`]. Every mint is recorded, so this is on the
//! `AssumeRole*` path: a batch of records (the recorder's group commit)
//! costs one `write(2)` at the end of the active segment and, when
//! durable, one `fdatasync` — no B-tree pages, no random writes. The
//! index (every live session by account and key id, and by expiry) is
//! rebuilt from the segments at open and serves the point reads and the
//! listings, which therefore never touch the disk; it costs a few hundred
//! bytes per live session.
//!
//! Segments: a new one is started after [`ROLL_BYTES`], after
//! [`ROLL_SECS`] of the clock, after a failed write, and at every open
//! (the previous process's segments are only read). A segment is deleted
//! once every session it holds has expired. A torn tail (a crash in the
//! middle of a write) is cut off at open with a warning: it was never
//! acknowledged; a whole frame that does not decode stops the open
//! (`CorruptRecord`) rather than being cut. A segment is made durable
//! before the next one starts; one left behind by a failed write or sync
//! is synced by the next sync.
//!
//! Sessions recorded in the redb file by earlier versions are moved here
//! at open (`migrate`). May import `service::store`, `domain`, std I/O.

mod index;
mod segment;

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use index::Index;

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::store::{SessionPage, StoreError};

/// The directory of the segments inside the data directory.
pub(super) const DIR_NAME: &str = "sessions";
/// A segment past this size is closed.
pub(super) const ROLL_BYTES: u64 = 64 * 1024 * 1024;
/// A segment older than this (by the injected clock) is closed.
pub(super) const ROLL_SECS: u64 = 3_600;

/// The issued-session log.
#[derive(Debug)]
pub(super) struct SessionLog {
    dir: PathBuf,
    writer: Mutex<Writer>,
    index: RwLock<Index>,
}

/// The files: held under the writer lock.
#[derive(Debug, Default)]
struct Writer {
    active: Option<Active>,
    next_seq: u64,
    /// Every segment on disk with the latest expiry it holds (0: none).
    segments: BTreeMap<u64, u64>,
    /// Closed segments whose relaxed records are not known durable yet
    /// (a failed write or sync left them behind); the next sync syncs
    /// them.
    unsynced: Vec<Arc<File>>,
    buf: Vec<u8>,
}

/// The segment being appended to.
#[derive(Debug)]
struct Active {
    seq: u64,
    file: Arc<File>,
    opened_at: u64,
    len: u64,
    dirty: bool,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::unavailable(e)
}

// === impl SessionLog ===

impl SessionLog {
    /// Opens the log in `data_dir` (creating its directory, mode 0700)
    /// and rebuilds the index of the sessions live at `now` (unix secs).
    /// Blocking.
    pub(super) fn open(data_dir: &Path, now: u64) -> Result<Self, StoreError> {
        let dir = data_dir.join(DIR_NAME);
        super::create_private_dir(&dir)?;
        segment::sync_dir(data_dir).map_err(io)?;
        let mut writer = Writer::default();
        let mut index = Index::default();
        for seq in segment::list(&dir).map_err(io)? {
            let path = segment::path(&dir, seq);
            let contents = segment::read(&path).map_err(io)?;
            if let Some(at) = contents.undecodable_at {
                return Err(StoreError::CorruptRecord {
                    detail: format!(
                        "{}: a whole frame at byte {at} is not an issued session",
                        path.display()
                    ),
                });
            }
            if contents.valid_len < contents.file_len {
                tracing::warn!(
                    path = %path.display(),
                    kept = contents.valid_len,
                    dropped = contents.file_len - contents.valid_len,
                    "cutting the torn tail of an issued-session segment"
                );
                segment::truncate(&path, contents.valid_len).map_err(io)?;
            }
            let latest = contents.records.iter().map(|r| r.expires_at).max();
            writer.segments.insert(seq, latest.unwrap_or(0));
            writer.next_seq = seq + 1;
            for record in contents.records.into_iter().filter(|r| r.is_live(now)) {
                index.insert(record);
            }
        }
        writer.remove_expired(&dir, now)?;
        Ok(Self {
            dir,
            writer: Mutex::new(writer),
            index: RwLock::new(index),
        })
    }

    /// Appends `batch`, durably when `durable`, then indexes it. On error
    /// nothing is indexed (and nothing acknowledged).
    pub(super) fn record(
        &self,
        batch: Vec<IssuedSession>,
        now: u64,
        durable: bool,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer();
        writer.append(&self.dir, &batch, now, durable)?;
        self.index_mut().insert_batch(now, batch);
        Ok(())
    }

    /// Appends `batch` without waiting for the disk, unless that would
    /// block: when the active segment is due to be closed (closing makes
    /// it durable first) or missing, or the log's locks are held (by the
    /// maintenance purge, a listing), nothing is done and `Ok(false)`
    /// returned, for the caller to [`record`](Self::record) on the
    /// blocking pool. Otherwise one `write` to the page cache, then the
    /// index, under the same lock as [`record`](Self::record): cheap
    /// enough to run on an async worker, which saves a hop to the
    /// blocking pool (and a thread wake-up) per batch.
    pub(super) fn record_relaxed_inline(
        &self,
        batch: &[IssuedSession],
        now: u64,
    ) -> Result<bool, StoreError> {
        if batch.is_empty() {
            return Ok(true);
        }
        // Never wait on an async worker: the maintenance purge holds
        // these locks while it deletes segments and drops index entries.
        let Some(mut writer) = self.writer.try_lock() else {
            return Ok(false);
        };
        if writer.rotation_due(now) {
            return Ok(false);
        }
        // Taken before the write (same order as `record`: writer, then
        // index), so a batch once written is always indexed.
        let Some(mut index) = self.index.try_write() else {
            return Ok(false);
        };
        writer.append(&self.dir, batch, now, false)?;
        index.insert_batch(now, batch.iter().cloned());
        Ok(true)
    }

    /// Makes every record appended before the call durable: the active
    /// segment if it is dirty, and any segment a failed write or sync
    /// left behind. The `fdatasync`s run outside the writer lock, so
    /// appends go on meanwhile.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let files = {
            let mut writer = self.writer();
            let mut files = std::mem::take(&mut writer.unsynced);
            if let Some(active) = writer.active.as_mut().filter(|a| a.dirty) {
                active.dirty = false;
                files.push(Arc::clone(&active.file));
            }
            files
        };
        let mut failed = None;
        for (i, file) in files.iter().enumerate() {
            if let Err(e) = file.sync_data() {
                // Kept for the next sync, wherever the writer is now.
                self.writer().unsynced.extend(files.iter().skip(i).cloned());
                failed = Some(e);
                break;
            }
        }
        failed.map_or(Ok(()), |e| Err(io(e)))
    }

    /// The record of `id`, live at `now`.
    pub(super) fn get(&self, id: &AccessKeyId, now: u64) -> Option<IssuedSession> {
        self.index().get(id, now)
    }

    /// A page of `account`'s live sessions that `filter` selects.
    pub(super) fn list(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: u64,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> SessionPage {
        self.index().list(account, filter, now, after, limit)
    }

    /// Drops at most `max` sessions expired at `now` from the index, and
    /// deletes the segments whose sessions have all expired. Returns how
    /// many sessions were dropped.
    pub(super) fn purge(&self, now: u64, max: usize) -> Result<usize, StoreError> {
        let purged = self.index_mut().purge(now, max);
        self.writer().remove_expired(&self.dir, now)?;
        Ok(purged)
    }

    /// How many sessions the index holds (live or not yet purged).
    #[cfg(test)]
    pub(super) fn indexed(&self) -> usize {
        self.index().len()
    }

    /// The segments on disk.
    #[cfg(test)]
    pub(super) fn segments(&self) -> Vec<u64> {
        self.writer().segments.keys().copied().collect()
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock()
    }

    fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read()
    }

    fn index_mut(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write()
    }
}

// === impl Writer ===

impl Writer {
    /// Appends the frames of `batch` to the active segment, starting a
    /// new one first when due.
    fn append(
        &mut self,
        dir: &Path,
        batch: &[IssuedSession],
        now: u64,
        durable: bool,
    ) -> Result<(), StoreError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for record in batch {
            segment::encode(record, &mut buf).map_err(StoreError::failure)?;
        }
        let result = self.append_bytes(dir, &buf, now, durable);
        self.buf = buf;
        let latest = batch.iter().map(|r| r.expires_at).max().unwrap_or(0);
        let seq = result?;
        let slot = self.segments.entry(seq).or_insert(0);
        *slot = (*slot).max(latest);
        Ok(())
    }

    /// Appends `bytes` to the active segment; returns its sequence number.
    fn append_bytes(
        &mut self,
        dir: &Path,
        bytes: &[u8],
        now: u64,
        durable: bool,
    ) -> Result<u64, StoreError> {
        let active = self.active(dir, now)?;
        let written = segment::append(&active.file, bytes).and_then(|()| {
            if durable {
                active.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // A partial frame or an unknown page state: never append after
            // it. The next batch starts a new segment; the records this
            // one holds are synced by the next sync.
            let _ = active.file.set_len(active.len);
            if let Some(old) = self.active.take() {
                self.unsynced.push(old.file);
            }
            return Err(io(e));
        }
        active.len += bytes.len() as u64;
        active.dirty = !durable;
        Ok(active.seq)
    }

    /// Whether the next append starts a new segment: none is open, or
    /// the open one is full or old.
    fn rotation_due(&self, now: u64) -> bool {
        self.active
            .as_ref()
            .is_none_or(|a| a.len >= ROLL_BYTES || now >= a.opened_at.saturating_add(ROLL_SECS))
    }

    /// The segment to append to: the current one, or a new one when it is
    /// missing, full or old (the old one made durable first).
    fn active(&mut self, dir: &Path, now: u64) -> Result<&mut Active, StoreError> {
        if self.rotation_due(now) {
            if let Some(old) = self.active.take().filter(|a| a.dirty)
                && let Err(e) = old.file.sync_data()
            {
                self.unsynced.push(old.file);
                return Err(io(e));
            }
            let seq = self.next_seq;
            let file = segment::create(dir, seq).map_err(io)?;
            self.next_seq = seq + 1;
            self.segments.insert(seq, 0);
            self.active = Some(Active {
                seq,
                file: Arc::new(file),
                opened_at: now,
                len: 0,
                dirty: false,
            });
        }
        self.active
            .as_mut()
            .ok_or_else(|| StoreError::failure("no active issued-session segment"))
    }

    /// Deletes every closed segment whose sessions have all expired at
    /// `now`.
    fn remove_expired(&mut self, dir: &Path, now: u64) -> Result<(), StoreError> {
        let active = self.active.as_ref().map(|a| a.seq);
        let expired: Vec<u64> = self
            .segments
            .iter()
            .filter(|&(seq, latest)| Some(*seq) != active && *latest <= now)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in expired {
            segment::remove(dir, seq).map_err(io)?;
            self.segments.remove(&seq);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
