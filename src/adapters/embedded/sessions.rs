//! The redb layout and operations of the session ports.
//!
//! Owns: the tables of revocation rules and issued sessions, and one
//! blocking function per operation of `RevocationStore` and
//! `IssuedSessionLog`, each a single redb transaction. Layout:
//! - `revocation`: rule id → JSON rule; `revocation_expiry`:
//!   `(retain-until secs, id)` → `()`; `session_meta`: `revocations` (the
//!   counter);
//! - `issued_session`: `"<account>/<key id>"` → JSON record;
//!   `issued_session_expiry`: `(expires-at secs, "<account>/<key id>")` →
//!   `()`, to purge in expiry order.
//!
//! Called from `spawn_blocking` (writes, listings) or inline (point
//! reads), as the parent module says.

use std::ops::Bound;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::tables::backend;
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationRule, SessionFilter};
use crate::service::store::{SessionPage, StoreError, Timestamp, clamp_session_page};

/// Expired sessions purged by each batch of recorded sessions at most.
const PURGE_WITH_RECORD: usize = 256;

const REVOCATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("revocation");
const REVOCATION_EXPIRY: TableDefinition<(u64, &str), ()> =
    TableDefinition::new("revocation_expiry");
const META: TableDefinition<&str, u64> = TableDefinition::new("session_meta");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("issued_session");
const SESSION_EXPIRY: TableDefinition<(u64, &str), ()> =
    TableDefinition::new("issued_session_expiry");

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRecord {
        detail: format!("{what}: {e}"),
    }
}

fn session_key(account: AccountId, id: &AccessKeyId) -> String {
    format!("{account}/{id}")
}

fn decode_session(bytes: &[u8]) -> Result<IssuedSession, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt("undecodable issued session", e))
}

/// Creates the tables.
pub(super) fn init(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    txn.open_table(REVOCATIONS).map_err(backend)?;
    txn.open_table(REVOCATION_EXPIRY).map_err(backend)?;
    txn.open_table(META).map_err(backend)?;
    txn.open_table(SESSIONS).map_err(backend)?;
    txn.open_table(SESSION_EXPIRY).map_err(backend)?;
    txn.commit().map_err(backend)
}

pub(super) fn put_revocation(db: &Database, rule: &RevocationRule) -> Result<u64, StoreError> {
    let bytes = serde_json::to_vec(rule).map_err(StoreError::failure)?;
    let id = rule.id.as_str();
    let txn = db.begin_write().map_err(backend)?;
    let counter = {
        let mut rules = txn.open_table(REVOCATIONS).map_err(backend)?;
        let mut expiry = txn.open_table(REVOCATION_EXPIRY).map_err(backend)?;
        let old = rules
            .insert(id, bytes.as_slice())
            .map_err(backend)?
            .map(|v| serde_json::from_slice::<RevocationRule>(v.value()));
        if let Some(Ok(old)) = old {
            expiry.remove((old.retain_until(), id)).map_err(backend)?;
        }
        expiry
            .insert((rule.retain_until(), id), ())
            .map_err(backend)?;
        let mut meta = txn.open_table(META).map_err(backend)?;
        let counter = meta
            .get("revocations")
            .map_err(backend)?
            .map_or(0, |v| v.value())
            + 1;
        meta.insert("revocations", counter).map_err(backend)?;
        counter
    };
    txn.commit().map_err(backend)?;
    Ok(counter)
}

pub(super) fn revocation_counter(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let meta = txn.open_table(META).map_err(backend)?;
    let value = meta.get("revocations").map_err(backend)?;
    Ok(value.map_or(0, |v| v.value()))
}

pub(super) fn revocations(db: &Database) -> Result<(u64, Vec<RevocationRule>), StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let counter = {
        let meta = txn.open_table(META).map_err(backend)?;
        let value = meta.get("revocations").map_err(backend)?;
        value.map_or(0, |v| v.value())
    };
    let table = txn.open_table(REVOCATIONS).map_err(backend)?;
    let mut rules = Vec::new();
    for entry in table.iter().map_err(backend)? {
        let (_, value) = entry.map_err(backend)?;
        rules.push(
            serde_json::from_slice(value.value())
                .map_err(|e| corrupt("undecodable revocation", e))?,
        );
    }
    Ok((counter, rules))
}

pub(super) fn purge_revocations(db: &Database, now: Timestamp) -> Result<usize, StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    let purged = {
        let mut expiry = txn.open_table(REVOCATION_EXPIRY).map_err(backend)?;
        let mut rules = txn.open_table(REVOCATIONS).map_err(backend)?;
        let mut expired = Vec::new();
        for entry in expiry
            .range::<(u64, &str)>(..(now.as_unix_secs(), ""))
            .map_err(backend)?
        {
            let (key, _) = entry.map_err(backend)?;
            let (at, id) = key.value();
            expired.push((at, id.to_owned()));
        }
        for (at, id) in &expired {
            expiry.remove((*at, id.as_str())).map_err(backend)?;
            rules.remove(id.as_str()).map_err(backend)?;
        }
        expired.len()
    };
    txn.commit().map_err(backend)?;
    Ok(purged)
}

/// Records `batch` in one durable transaction, purging a few expired
/// sessions on the way.
pub(super) fn record_sessions(
    db: &Database,
    batch: &[IssuedSession],
    now: Timestamp,
    durable: bool,
) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(backend)?;
    if !durable {
        txn.set_durability(redb::Durability::None)
            .map_err(StoreError::failure)?;
    }
    purge_sessions_in(&txn, now, PURGE_WITH_RECORD)?;
    {
        let mut sessions = txn.open_table(SESSIONS).map_err(backend)?;
        let mut expiry = txn.open_table(SESSION_EXPIRY).map_err(backend)?;
        for s in batch {
            let key = session_key(s.account, &s.access_key_id);
            let bytes = serde_json::to_vec(s).map_err(StoreError::failure)?;
            sessions
                .insert(key.as_str(), bytes.as_slice())
                .map_err(backend)?;
            expiry
                .insert((s.expires_at, key.as_str()), ())
                .map_err(backend)?;
        }
    }
    txn.commit().map_err(backend)
}

/// A durable commit of nothing, which makes every earlier non-durable
/// commit durable.
pub(super) fn sync(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    txn.commit().map_err(backend)
}

pub(super) fn issued_session(
    db: &Database,
    id: &AccessKeyId,
    now: Timestamp,
) -> Result<Option<IssuedSession>, StoreError> {
    let Some(account) = id.account() else {
        return Ok(None);
    };
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(SESSIONS).map_err(backend)?;
    let value = table
        .get(session_key(account, id).as_str())
        .map_err(backend)?;
    let found = value.map(|v| decode_session(v.value())).transpose()?;
    Ok(found.filter(|s| s.is_live(now.as_unix_secs())))
}

pub(super) fn list_sessions(
    db: &Database,
    account: AccountId,
    filter: &SessionFilter,
    now: Timestamp,
    after: Option<&AccessKeyId>,
    limit: usize,
) -> Result<SessionPage, StoreError> {
    let limit = clamp_session_page(limit);
    let now = now.as_unix_secs();
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(SESSIONS).map_err(backend)?;
    let start = match after {
        Some(id) => Bound::Excluded(session_key(account, id)),
        None => Bound::Included(format!("{account}/")),
    };
    let end = Bound::Excluded(format!("{account}0"));
    let range = (
        start.as_ref().map(String::as_str),
        end.as_ref().map(String::as_str),
    );
    let mut items = Vec::new();
    let mut next = None;
    for entry in table.range::<&str>(range).map_err(backend)? {
        let (_, value) = entry.map_err(backend)?;
        let s = decode_session(value.value())?;
        if !s.is_live(now) || !filter.matches(&s) {
            continue;
        }
        if items.len() == limit {
            next = items
                .last()
                .map(|v: &IssuedSession| v.access_key_id.clone());
            break;
        }
        items.push(s);
    }
    Ok(SessionPage { items, next })
}

pub(super) fn purge_sessions(
    db: &Database,
    now: Timestamp,
    max: usize,
) -> Result<usize, StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    let purged = purge_sessions_in(&txn, now, max)?;
    txn.commit().map_err(backend)?;
    Ok(purged)
}

/// Removes up to `max` sessions expired at `now` (expiry at or before it).
fn purge_sessions_in(
    txn: &WriteTransaction,
    now: Timestamp,
    max: usize,
) -> Result<usize, StoreError> {
    let mut expiry = txn.open_table(SESSION_EXPIRY).map_err(backend)?;
    let mut sessions = txn.open_table(SESSIONS).map_err(backend)?;
    let mut expired = Vec::new();
    for entry in expiry
        .range::<(u64, &str)>(..=(now.as_unix_secs(), "\u{10ffff}"))
        .map_err(backend)?
    {
        if expired.len() == max {
            break;
        }
        let (key, _) = entry.map_err(backend)?;
        let (at, name) = key.value();
        expired.push((at, name.to_owned()));
    }
    for (at, key) in &expired {
        expiry.remove((*at, key.as_str())).map_err(backend)?;
        sessions.remove(key.as_str()).map_err(backend)?;
    }
    Ok(expired.len())
}
