//! The in-memory index of live issued sessions.
//!
//! Owns: [`Index`], every recorded session not yet purged, by account and
//! key id (point reads, listings in key order) and by expiry second
//! (purges, earliest first). Rebuilt from the segments at open. Key ids
//! are kept inline ([`IdKey`]), so a search compares bytes inside the
//! B-tree node instead of following a pointer per key: every mint inserts
//! here. Pure data; the caller holds the lock.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::store::{SessionPage, clamp_session_page};

/// The longest key id kept inline; the broker mints 20-byte ones.
const INLINE: usize = 24;

/// Expired sessions dropped by each recorded batch at most.
const PURGE_WITH_RECORD: usize = 256;

/// Live sessions, two ways.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// Records boxed: a node then holds 11 keys and pointers (~440
    /// bytes), not 11 records of 200 bytes, and an insert at a random
    /// key (every mint) shifts and touches that much less.
    by_account: BTreeMap<AccountId, BTreeMap<IdKey, Box<IssuedSession>>>,
    by_expiry: BTreeMap<u64, Vec<(AccountId, IdKey)>>,
    len: usize,
}

/// An access key id as an index key, ordered as the id's bytes.
#[derive(Debug, Clone)]
enum IdKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl IdKey {
    fn of(id: &AccessKeyId) -> Self {
        let s = id.as_str();
        let mut bytes = [0; INLINE];
        match (bytes.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(slot), Ok(len)) => {
                slot.copy_from_slice(s.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(s.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(s) => s.as_bytes(),
        }
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for IdKey {}

impl PartialOrd for IdKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

// === impl Index ===

impl Index {
    /// Adds (or replaces) `record`.
    pub(super) fn insert(&mut self, record: IssuedSession) {
        let (account, key, expires) = (
            record.account,
            IdKey::of(&record.access_key_id),
            record.expires_at,
        );
        let sessions = self.by_account.entry(account).or_default();
        match sessions.insert(key.clone(), Box::new(record)) {
            Some(old) if old.expires_at == expires => return,
            Some(old) => {
                if let Some(bucket) = self.by_expiry.get_mut(&old.expires_at) {
                    bucket.retain(|(a, k)| (*a, k) != (account, &key));
                }
            }
            None => self.len += 1,
        }
        self.by_expiry
            .entry(expires)
            .or_default()
            .push((account, key));
    }

    /// Adds a recorded batch, first dropping up to [`PURGE_WITH_RECORD`]
    /// sessions expired at `now`, so the index sheds what it no longer
    /// needs as it grows.
    pub(super) fn insert_batch(
        &mut self,
        now: u64,
        batch: impl IntoIterator<Item = IssuedSession>,
    ) {
        self.purge(now, PURGE_WITH_RECORD);
        for record in batch {
            self.insert(record);
        }
    }

    /// The record of `id`, live at `now`.
    pub(super) fn get(&self, id: &AccessKeyId, now: u64) -> Option<IssuedSession> {
        let account = id.account()?;
        self.by_account
            .get(&account)?
            .get(&IdKey::of(id))
            .filter(|s| s.is_live(now))
            .map(|s| IssuedSession::clone(s))
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
        let limit = clamp_session_page(limit);
        let mut page = SessionPage::default();
        let Some(sessions) = self.by_account.get(&account) else {
            return page;
        };
        let start = after.map_or(Bound::Unbounded, |id| Bound::Excluded(IdKey::of(id)));
        let selected = sessions
            .range((start, Bound::Unbounded))
            .map(|(_, s)| s)
            .filter(|s| s.is_live(now) && filter.matches(s));
        for s in selected {
            if page.items.len() == limit {
                page.next = page.items.last().map(|v| v.access_key_id.clone());
                break;
            }
            page.items.push(IssuedSession::clone(s));
        }
        page
    }

    /// Removes at most `max` sessions expired at `now` (expiry at or
    /// before it), earliest first; returns how many.
    pub(super) fn purge(&mut self, now: u64, max: usize) -> usize {
        let mut purged = 0;
        while purged < max {
            let Some(mut bucket) = self.by_expiry.first_entry() else {
                break;
            };
            if *bucket.key() > now {
                break;
            }
            let Some((account, key)) = bucket.get_mut().pop() else {
                bucket.remove();
                continue;
            };
            if bucket.get().is_empty() {
                bucket.remove();
            }
            let Some(sessions) = self.by_account.get_mut(&account) else {
                continue;
            };
            if sessions.remove(&key).is_some() {
                self.len -= 1;
                purged += 1;
            }
            if sessions.is_empty() {
                self.by_account.remove(&account);
            }
        }
        purged
    }

    /// How many sessions are indexed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }
}
