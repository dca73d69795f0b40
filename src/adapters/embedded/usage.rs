//! Write-behind for last-used data.
//!
//! Owns: [`UsageBuffer`], which keeps the latest use of each key in memory
//! and writes them to the file in one non-durable transaction at most once
//! per [`FLUSH_EVERY`] (and when the store flushes at shutdown), so a
//! signed request costs no write transaction and never queues behind the
//! one redb writer. Last-used data is best effort by contract
//! ([`crate::service::store::UsageLog`]); AWS itself reports it hours late.
//! A pending use is visible to `last_used` at once; a commit that deletes a
//! key drops its pending use. May import `service::store` and std.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::service::store::{Key, LastUsed};

/// How often pending uses are written at most.
pub(super) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Pending uses and when they were last written.
#[derive(Debug)]
pub(super) struct UsageBuffer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    pending: HashMap<Key, LastUsed>,
    last_flush: Instant,
}

impl UsageBuffer {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                pending: HashMap::new(),
                last_flush: Instant::now(),
            }),
        }
    }

    /// Keeps `used` as the latest use of `key`; returns the batch to write
    /// now when the last write is more than [`FLUSH_EVERY`] ago.
    pub(super) fn record(&self, key: Key, used: LastUsed) -> Option<Vec<(Key, LastUsed)>> {
        let mut s = self.state.lock();
        s.pending.insert(key, used);
        if s.last_flush.elapsed() < FLUSH_EVERY {
            return None;
        }
        s.last_flush = Instant::now();
        Some(s.pending.drain().collect())
    }

    /// The pending use of `key`, if any.
    pub(super) fn get(&self, key: &Key) -> Option<LastUsed> {
        self.state.lock().pending.get(key).cloned()
    }

    /// Drops the pending uses of `keys` (their records are being deleted).
    pub(super) fn forget<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) {
        let mut s = self.state.lock();
        for k in keys {
            s.pending.remove(k);
        }
    }

    /// Everything pending, to write now.
    pub(super) fn take(&self) -> Vec<(Key, LastUsed)> {
        let mut s = self.state.lock();
        s.last_flush = Instant::now();
        s.pending.drain().collect()
    }
}
