//! Decoded records, kept between commits.
//!
//! Owns: [`RecordCache`], the records this process read since the last
//! commit, by key (and the access-key index, by key id). Only this process
//! writes the file (redb locks it), so a record read after the last commit
//! is current until the next one: every commit empties the cache. A read
//! that raced with a commit is not kept: each read notes the commit
//! generation before reading and keeps its result only if no commit ended
//! since. Bounded: emptied when full. May import `service::store`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::domain::ids::AccessKeyId;
use crate::service::store::{Key, Record, Versioned};

/// Entries kept before the cache is emptied.
const CAPACITY: usize = 16_384;

/// What a lookup found: a record, or that there is none.
type Found = Option<Versioned<Record>>;

#[derive(Debug, Default)]
pub(super) struct RecordCache {
    /// Commits ended by this process.
    generation: AtomicU64,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Key, Found>,
    by_key_id: HashMap<AccessKeyId, Found>,
}

impl RecordCache {
    /// The generation to pass to `keep*` after reading.
    pub(super) fn begin(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(super) fn get(&self, key: &Key) -> Option<Found> {
        self.entries.lock().by_key.get(key).cloned()
    }

    /// Whether a record is under `key`, if the cache knows, without
    /// copying it.
    pub(super) fn exists(&self, key: &Key) -> Option<bool> {
        self.entries.lock().by_key.get(key).map(Option::is_some)
    }

    pub(super) fn get_key_id(&self, id: &AccessKeyId) -> Option<Found> {
        self.entries.lock().by_key_id.get(id).cloned()
    }

    /// Keeps what a read that began at `generation` found under `key`.
    pub(super) fn keep(&self, generation: u64, key: &Key, found: &Found) {
        let mut e = self.entries.lock();
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if e.by_key.len() >= CAPACITY {
            e.by_key.clear();
        }
        e.by_key.insert(key.clone(), found.clone());
    }

    /// Keeps what a read that began at `generation` found for key id `id`.
    pub(super) fn keep_key_id(&self, generation: u64, id: &AccessKeyId, found: &Found) {
        let mut e = self.entries.lock();
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if e.by_key_id.len() >= CAPACITY {
            e.by_key_id.clear();
        }
        e.by_key_id.insert(id.clone(), found.clone());
    }

    /// A commit ended (or failed: it may have written nothing, but
    /// forgetting is always safe): everything read before is stale.
    pub(super) fn committed(&self) {
        let mut e = self.entries.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        e.by_key.clear();
        e.by_key_id.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::store::Revision;
    use crate::service::store::conformance::{account, role};

    fn found(name: &str, rev: u64) -> Found {
        Some(Versioned {
            revision: Revision::new(rev),
            record: Record::Role(role(account(1), name, "/")),
        })
    }

    #[test]
    fn a_commit_empties_it_and_a_read_that_raced_a_commit_is_not_kept() {
        let c = RecordCache::default();
        let key = Key::role(account(1), &"r".parse().unwrap());
        let g = c.begin();
        c.keep(g, &key, &found("r", 1));
        assert_eq!(c.get(&key), Some(found("r", 1)));
        c.committed();
        assert_eq!(c.get(&key), None);
        // Began before a commit ended: its result may be stale.
        let g = c.begin();
        c.committed();
        c.keep(g, &key, &found("r", 1));
        assert_eq!(c.get(&key), None);
        // "Nothing there" is kept too.
        let g = c.begin();
        c.keep(g, &key, &None);
        assert_eq!(c.get(&key), Some(None));
    }
}
