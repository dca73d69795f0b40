//! The session ports: revocation rules and the issued-session log.
//!
//! Owns: [`RevocationStore`], [`IssuedSessionLog`] and [`SessionPage`].
//! May import `domain::sessions` and the parent. Both are shaped for a
//! shared Redis store too (issue 7): plain keyed rows with an expiry time
//! each (`SET … PXAT`, or a hash plus a sorted set by expiry), one
//! counter (`INCR`) for revocations, and no transaction spanning the two.

use async_trait::async_trait;

use super::{StoreError, Timestamp};
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationRule, SessionFilter};

/// The largest page [`IssuedSessionLog::list_sessions`] returns.
pub const MAX_SESSION_PAGE: usize = 1_000;

/// Revocation rules, each kept until [`RevocationRule::retain_until`].
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Keeps `rule` (by its id; a second put of the same id replaces it)
    /// and increases the revocation counter. Durable when it returns.
    /// Returns the counter after the put.
    async fn put_revocation(&self, rule: &RevocationRule) -> Result<u64, StoreError>;

    /// Every kept rule (purged ones not, expired-but-unpurged ones maybe),
    /// with the counter as of the read: a later put makes
    /// [`RevocationStore::revocation_counter`] larger than it.
    async fn revocations(&self) -> Result<(u64, Vec<RevocationRule>), StoreError>;

    /// The revocation counter alone: cheap, read to know whether the
    /// rules changed. Purges do not change it.
    async fn revocation_counter(&self) -> Result<u64, StoreError>;

    /// Removes the rules whose `retain_until` is before `now`; returns how
    /// many.
    async fn purge_revocations(&self, now: Timestamp) -> Result<usize, StoreError>;

    /// Resolves when this process learns that the rules may have changed
    /// elsewhere (another replica's put, seen through a shared store's
    /// notifications), so the revocation set can reload at once instead
    /// of at its next poll. Stores only this process writes never resolve
    /// it.
    async fn revocations_changed(&self) {
        std::future::pending::<()>().await;
    }
}

/// A page of issued sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPage {
    /// The sessions, in access key id order.
    pub items: Vec<IssuedSession>,
    /// Where the next page starts after, `None` on the last page.
    pub next: Option<AccessKeyId>,
}

/// The record of every issued session, kept until it expires.
#[async_trait]
pub trait IssuedSessionLog: Send + Sync {
    /// Records every session of `batch`, durably, in one write when the
    /// backend can (group commit: the caller batches concurrent mints).
    /// On error none may be assumed recorded.
    async fn record_sessions(&self, batch: &[IssuedSession]) -> Result<(), StoreError>;

    /// Records `batch` without waiting for the disk: on a crash it may be
    /// lost until the next [`IssuedSessionLog::sync_sessions`] (the
    /// `relaxed` issued-session log). Backends without the distinction
    /// record durably.
    async fn record_sessions_relaxed(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        self.record_sessions(batch).await
    }

    /// Makes every record written so far durable.
    async fn sync_sessions(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The record of the session of key `id`, while it is live at `now`.
    async fn issued_session(
        &self,
        id: &AccessKeyId,
        now: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError>;

    /// The sessions of `account` live at `now` (`expires_at` after it)
    /// that `filter` selects, in access key id order after `after`, at
    /// most `limit` (clamped to 1..=[`MAX_SESSION_PAGE`]).
    async fn list_sessions(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: Timestamp,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> Result<SessionPage, StoreError>;

    /// Removes at most `max` sessions expired at `now`, earliest expiry
    /// first; returns how many.
    async fn purge_sessions(&self, now: Timestamp, max: usize) -> Result<usize, StoreError>;
}

/// `limit` within 1..=[`MAX_SESSION_PAGE`].
pub fn clamp_session_page(limit: usize) -> usize {
    limit.clamp(1, MAX_SESSION_PAGE)
}
