//! The in-memory store: every port of `service::store` over maps behind one
//! lock, for tests and development. Nothing survives the process.
//!
//! Owns: [`MemoryStore`]. May import `service::store` and `domain`. The
//! `parking_lot` lock is held only inside synchronous sections, never
//! across an `.await` (house style 25).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::domain::clock::Clock;
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationId, RevocationRule, SessionFilter};
use crate::service::store::model::AccessKeyRecord;
use crate::service::store::{
    AccessKeyIndex, AccountDirectory, EntityReader, EntityWriter, IssuedSessionLog, Key, Kind,
    LastUsed, ListQuery, Page, Precondition, Record, ReplayGuard, ReplayScope, Revision,
    RevocationStore, SessionPage, StoreError, StoreGeneration, Timestamp, Transaction, UsageLog,
    Versioned, check_replay_id, clamp_session_page,
};

/// How many `use_once` calls pass between two purges of expired entries.
const PURGE_EVERY: u64 = 1024;

/// The in-memory store. Cheap to clone handles through `Arc`.
#[derive(Debug)]
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entities: BTreeMap<Key, Versioned<Record>>,
    /// (kind, name) → owning account, for the kinds unique across
    /// accounts (`Kind::is_global`: access key IDs, account aliases).
    global: HashMap<(Kind, String), AccountId>,
    /// (scope, id) → not_after.
    replay: HashMap<(ReplayScope, String), Timestamp>,
    replay_calls: u64,
    usage: HashMap<Key, LastUsed>,
    /// The last revision handed out; the generation.
    generation: u64,
    revocations: HashMap<RevocationId, RevocationRule>,
    revocation_counter: u64,
    /// Issued sessions by account and key id.
    sessions: BTreeMap<(AccountId, AccessKeyId), IssuedSession>,
}

// === impl MemoryStore ===

impl MemoryStore {
    /// An empty store; `clock` decides when one-time entries expire.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }
}

impl State {
    fn check(&self, precondition: &Precondition) -> Result<(), StoreError> {
        match precondition {
            Precondition::Absent(key) => {
                let indexed = key.kind().is_global() && self.global.contains_key(&global_name(key));
                if indexed || self.entities.contains_key(key) {
                    return Err(StoreError::DuplicateKey { key: key.clone() });
                }
            }
            Precondition::At(key, expected) => match self.entities.get(key) {
                None => return Err(StoreError::MissingKey { key: key.clone() }),
                Some(found) if found.revision != *expected => {
                    return Err(StoreError::StaleRevision {
                        key: key.clone(),
                        expected: *expected,
                        found: found.revision,
                    });
                }
                Some(_) => {}
            },
        }
        Ok(())
    }

    fn commit(&mut self, txn: Transaction) -> Result<Revision, StoreError> {
        txn.validate()?;
        for precondition in txn.preconditions() {
            self.check(precondition)?;
        }
        for record in txn.puts() {
            let key = record.key();
            if key.kind().is_global()
                && self
                    .global
                    .get(&global_name(&key))
                    .is_some_and(|owner| *owner != key.account_id())
            {
                return Err(StoreError::DuplicateKey { key });
            }
        }
        if txn.is_read_only() {
            return Ok(Revision::new(self.generation));
        }
        self.generation += 1;
        let revision = Revision::new(self.generation);
        for key in txn.deletes() {
            if self.entities.remove(key).is_some() && key.kind().is_global() {
                self.global.remove(&global_name(key));
            }
            self.usage.remove(key);
        }
        for record in txn.puts() {
            let key = record.key();
            if key.kind().is_global() {
                self.global.insert(global_name(&key), key.account_id());
            }
            self.entities.insert(
                key,
                Versioned {
                    revision,
                    record: record.clone(),
                },
            );
        }
        Ok(revision)
    }

    fn list(&self, account: AccountId, kind: Kind, query: &ListQuery) -> Page<Record> {
        let start = match &query.after {
            Some(after) => Bound::Excluded(bound_key(account, kind, after)),
            None => Bound::Included(bound_key(account, kind, "")),
        };
        let limit = query.clamped_limit();
        let mut matching = self
            .entities
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.account_id() == account && k.kind() == kind)
            .filter(|(_, v)| query.matches_path(v.record.path()));
        let items: Vec<Versioned<Record>> = matching
            .by_ref()
            .take(limit)
            .map(|(_, v)| v.clone())
            .collect();
        let next = if matching.next().is_some() {
            items.last().map(|v| v.record.key().name().to_owned())
        } else {
            None
        };
        Page { items, next }
    }

    fn use_once(
        &mut self,
        now: Timestamp,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> bool {
        self.replay_calls += 1;
        if self.replay_calls.is_multiple_of(PURGE_EVERY) {
            self.replay.retain(|_, expiry| *expiry >= now);
        }
        let entry = (scope, id.to_owned());
        if self.replay.contains_key(&entry) {
            return false;
        }
        self.replay.insert(entry, not_after);
        true
    }
}

/// The entry of `key` in the index of names unique across accounts.
fn global_name(key: &Key) -> (Kind, String) {
    (key.kind(), key.name().to_owned())
}

/// A key of `kind` in `account` named `name`, for range bounds. Names from
/// a marker are used as given: they are already normalized.
fn bound_key(account: AccountId, kind: Kind, name: &str) -> Key {
    Key::raw(account, kind, name)
}

#[async_trait]
impl EntityReader for MemoryStore {
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(self.state.lock().entities.get(key).cloned())
    }

    async fn list(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError> {
        Ok(self.state.lock().list(account, kind, query))
    }
}

#[async_trait]
impl EntityWriter for MemoryStore {
    async fn commit(&self, txn: Transaction) -> Result<Revision, StoreError> {
        self.state.lock().commit(txn)
    }
}

#[async_trait]
impl AccessKeyIndex for MemoryStore {
    async fn access_key(
        &self,
        id: &AccessKeyId,
    ) -> Result<Option<Versioned<AccessKeyRecord>>, StoreError> {
        let found = {
            let state = self.state.lock();
            state
                .global
                .get(&(Kind::AccessKey, id.as_str().to_owned()))
                .and_then(|account| state.entities.get(&Key::access_key(*account, id)))
                .cloned()
        };
        found.map(Versioned::downcast).transpose()
    }
}

#[async_trait]
impl ReplayGuard for MemoryStore {
    async fn use_once(
        &self,
        scope: ReplayScope,
        id: &str,
        not_after: Timestamp,
    ) -> Result<bool, StoreError> {
        check_replay_id(id)?;
        let now = Timestamp::now(self.clock.as_ref());
        Ok(self.state.lock().use_once(now, scope, id, not_after))
    }
}

#[async_trait]
impl UsageLog for MemoryStore {
    async fn record_use(&self, key: &Key, used: LastUsed) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        if !state.entities.contains_key(key) {
            return Ok(false);
        }
        state.usage.insert(key.clone(), used);
        Ok(true)
    }

    async fn last_used(&self, key: &Key) -> Result<Option<LastUsed>, StoreError> {
        Ok(self.state.lock().usage.get(key).cloned())
    }
}

#[async_trait]
impl StoreGeneration for MemoryStore {
    async fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.state.lock().generation)
    }

    fn changes_seen(&self) -> u64 {
        self.state.lock().generation
    }
}

#[async_trait]
impl AccountDirectory for MemoryStore {
    async fn accounts(&self) -> Result<Vec<AccountId>, StoreError> {
        Ok(self
            .state
            .lock()
            .entities
            .keys()
            .filter(|k| k.kind() == Kind::Account)
            .map(Key::account_id)
            .collect())
    }
}

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn put_revocation(&self, rule: &RevocationRule) -> Result<u64, StoreError> {
        let mut state = self.state.lock();
        state.revocations.insert(rule.id.clone(), rule.clone());
        state.revocation_counter += 1;
        Ok(state.revocation_counter)
    }

    async fn revocations(&self) -> Result<(u64, Vec<RevocationRule>), StoreError> {
        let state = self.state.lock();
        let rules = state.revocations.values().cloned().collect();
        Ok((state.revocation_counter, rules))
    }

    async fn revocation_counter(&self) -> Result<u64, StoreError> {
        Ok(self.state.lock().revocation_counter)
    }

    async fn purge_revocations(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut state = self.state.lock();
        let before = state.revocations.len();
        let now = now.as_unix_secs();
        state.revocations.retain(|_, r| r.retain_until() >= now);
        Ok(before - state.revocations.len())
    }
}

#[async_trait]
impl IssuedSessionLog for MemoryStore {
    async fn record_sessions(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        let mut state = self.state.lock();
        for s in batch {
            state
                .sessions
                .insert((s.account, s.access_key_id.clone()), s.clone());
        }
        Ok(())
    }

    async fn issued_session(
        &self,
        id: &AccessKeyId,
        now: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError> {
        let Some(account) = id.account() else {
            return Ok(None);
        };
        let state = self.state.lock();
        Ok(state
            .sessions
            .get(&(account, id.clone()))
            .filter(|s| s.is_live(now.as_unix_secs()))
            .cloned())
    }

    async fn list_sessions(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: Timestamp,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> Result<SessionPage, StoreError> {
        let limit = clamp_session_page(limit);
        let now = now.as_unix_secs();
        let state = self.state.lock();
        let start = match after {
            Some(id) => Bound::Excluded((account, id.clone())),
            None => Bound::Unbounded,
        };
        let mut matching = state
            .sessions
            .range((start, Bound::Unbounded))
            .skip_while(|((a, _), _)| *a < account)
            .take_while(|((a, _), _)| *a == account)
            .map(|(_, s)| s)
            .filter(|s| s.is_live(now) && filter.matches(s));
        let items: Vec<IssuedSession> = matching.by_ref().take(limit).cloned().collect();
        let next = if matching.next().is_some() {
            items.last().map(|s| s.access_key_id.clone())
        } else {
            None
        };
        Ok(SessionPage { items, next })
    }

    async fn purge_sessions(&self, now: Timestamp, max: usize) -> Result<usize, StoreError> {
        let now = now.as_unix_secs();
        let mut state = self.state.lock();
        let mut expired: Vec<_> = state
            .sessions
            .iter()
            .filter(|(_, s)| !s.is_live(now))
            .map(|(k, s)| (s.expires_at, k.clone()))
            .collect();
        expired.sort();
        expired.truncate(max);
        for (_, k) in &expired {
            state.sessions.remove(k);
        }
        Ok(expired.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::FixedClock;
    use std::time::Duration;

    #[tokio::test]
    async fn conformance() {
        let store = Arc::new(MemoryStore::new(Arc::new(FixedClock::at_secs(
            1_700_000_000,
        ))));
        crate::service::store::conformance::run_all(store).await;
    }

    #[tokio::test]
    async fn expired_replay_entries_are_purged_only_after_not_after() {
        let clock = Arc::new(FixedClock::at_secs(1_000));
        let store = MemoryStore::new(clock.clone());
        let not_after = Timestamp::from_unix_secs(1_060);
        assert!(
            store
                .use_once(ReplayScope::JwtId, "a", not_after)
                .await
                .unwrap()
        );
        for i in 0..PURGE_EVERY {
            store
                .use_once(ReplayScope::JwtId, &format!("x{i}"), not_after)
                .await
                .unwrap();
        }
        assert!(
            !store
                .use_once(ReplayScope::JwtId, "a", not_after)
                .await
                .unwrap()
        );
        clock.advance(Duration::from_secs(61));
        for i in 0..PURGE_EVERY {
            store
                .use_once(ReplayScope::JwtId, &format!("y{i}"), not_after)
                .await
                .unwrap();
        }
        assert!(store.state.lock().replay.len() < usize::try_from(PURGE_EVERY).unwrap());
    }
}
