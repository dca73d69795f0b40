//! The in-memory index of live issued sessions.
//!
//! Owns: [`Index`], every recorded session not yet purged, by account and
//! key id (point reads, listings in key order) and by expiry (purges,
//! earliest first). Rebuilt from the segments at open. Pure data; the
//! caller holds the lock.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::store::{SessionPage, clamp_session_page};

/// Live sessions, two ways.
#[derive(Debug, Default)]
pub(super) struct Index {
    by_account: BTreeMap<AccountId, BTreeMap<AccessKeyId, IssuedSession>>,
    by_expiry: BTreeSet<(u64, AccountId, AccessKeyId)>,
}

impl Index {
    /// Adds (or replaces) `record`.
    pub(super) fn insert(&mut self, record: IssuedSession) {
        let (account, id, expires) = (
            record.account,
            record.access_key_id.clone(),
            record.expires_at,
        );
        let sessions = self.by_account.entry(account).or_default();
        if let Some(old) = sessions.insert(id.clone(), record) {
            self.by_expiry
                .remove(&(old.expires_at, account, old.access_key_id));
        }
        self.by_expiry.insert((expires, account, id));
    }

    /// The record of `id`, live at `now`.
    pub(super) fn get(&self, id: &AccessKeyId, now: u64) -> Option<IssuedSession> {
        let account = id.account()?;
        self.by_account
            .get(&account)?
            .get(id)
            .filter(|s| s.is_live(now))
            .cloned()
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
        let start = after.map_or(Bound::Unbounded, |id| Bound::Excluded(id.clone()));
        let in_account = sessions
            .range((start, Bound::Unbounded))
            .map(|(_, s)| s)
            .filter(|s| s.is_live(now) && filter.matches(s));
        for s in in_account {
            if page.items.len() == limit {
                page.next = page.items.last().map(|v| v.access_key_id.clone());
                break;
            }
            page.items.push(s.clone());
        }
        page
    }

    /// Removes at most `max` sessions expired at `now` (expiry at or
    /// before it), earliest first; returns how many.
    pub(super) fn purge(&mut self, now: u64, max: usize) -> usize {
        let mut purged = 0;
        while purged < max {
            let Some(first) = self.by_expiry.first() else {
                break;
            };
            if first.0 > now {
                break;
            }
            if let Some((_, account, id)) = self.by_expiry.pop_first() {
                if let Some(sessions) = self.by_account.get_mut(&account) {
                    sessions.remove(&id);
                    if sessions.is_empty() {
                        self.by_account.remove(&account);
                    }
                }
                purged += 1;
            }
        }
        purged
    }

    /// How many sessions are indexed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_expiry.len()
    }
}
