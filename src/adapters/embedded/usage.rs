//! Write-behind for last-used data.
//!
//! Owns: [`UsageBuffer`], which keeps the latest use of each key in memory
//! and writes them to the file in one non-durable transaction at most once
//! per [`FLUSH_EVERY`] (and when the store flushes at shutdown), so a
//! signed request costs no write transaction and never queues behind the
//! one redb writer. Last-used data is best effort by contract
//! ([`crate::service::store::UsageLog`]); AWS itself reports it hours late.
//! A pending use is visible to `last_used` at once; a commit that deletes a
//! key drops its pending use. The Redis adapter holds its uses back the
//! same way. May import `service::store` and std.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;

use crate::service::store::{Key, LastUsed};

/// How often pending uses are written at most.
pub(in crate::adapters) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Pending uses and when they were last written.
#[derive(Debug)]
pub(in crate::adapters) struct UsageBuffer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    pending: HashMap<Key, LastUsed, foldhash::fast::RandomState>,
    /// Clock time of the last write.
    last_flush: Duration,
}

impl UsageBuffer {
    /// An empty buffer; `now` is the store clock's time.
    pub(in crate::adapters) fn new(now: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                pending: HashMap::default(),
                last_flush: now,
            }),
        }
    }

    /// Keeps `used` as the latest use of `key`; returns the batch to write
    /// when the last write is [`FLUSH_EVERY`] or more before `now`.
    pub(in crate::adapters) fn record(
        &self,
        key: Key,
        used: LastUsed,
        now: Duration,
    ) -> Option<Vec<(Key, LastUsed)>> {
        let mut s = self.state.lock();
        s.pending.insert(key, used);
        if now.saturating_sub(s.last_flush) < FLUSH_EVERY {
            return None;
        }
        s.last_flush = now;
        Some(s.pending.drain().collect())
    }

    /// The pending use of `key`, if any.
    pub(in crate::adapters) fn get(&self, key: &Key) -> Option<LastUsed> {
        self.state.lock().pending.get(key).cloned()
    }

    /// Drops the pending uses of `keys` (their records are being deleted).
    pub(in crate::adapters) fn forget<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) {
        let mut s = self.state.lock();
        for k in keys {
            s.pending.remove(k);
        }
    }

    /// Everything pending, to write now.
    pub(in crate::adapters) fn take(&self) -> Vec<(Key, LastUsed)> {
        self.state.lock().pending.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::AccountId;
    use crate::service::store::Timestamp;

    fn key(name: &str) -> Key {
        let account: AccountId = "123456789012".parse().unwrap();
        Key::role(account, &name.parse().unwrap())
    }

    fn used(secs: u64) -> LastUsed {
        LastUsed {
            date: Timestamp::from_unix_secs(secs),
            service: None,
            region: None,
        }
    }

    #[test]
    fn writes_at_most_once_per_interval_keeping_the_latest_use() {
        let t0 = Duration::from_secs(1_000);
        let b = UsageBuffer::new(t0);
        assert!(b.record(key("a"), used(1), t0).is_none());
        assert!(b.record(key("a"), used(2), t0 + FLUSH_EVERY / 2).is_none());
        assert_eq!(b.get(&key("a")), Some(used(2)));
        let batch = b.record(key("b"), used(3), t0 + FLUSH_EVERY).unwrap();
        let mut got: Vec<_> = batch
            .iter()
            .map(|(k, u)| (k.name().to_owned(), u.clone()))
            .collect();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(got, [("a".to_owned(), used(2)), ("b".to_owned(), used(3))]);
        assert_eq!(b.get(&key("a")), None);
        // The interval restarts at the write.
        assert!(
            b.record(key("a"), used(4), t0 + FLUSH_EVERY + FLUSH_EVERY / 2)
                .is_none()
        );
        b.forget([&key("a")]);
        assert!(b.take().is_empty());
    }
}
