//! The redb layout and operations of the session ports.
//!
//! Owns: the tables of revocation rules and issued sessions, and one
//! blocking function per operation of `RevocationStore` and
//! the migration of issued sessions out of this file, each a single redb
//! transaction. Layout:
//! - `revocation`: rule id → JSON rule; `revocation_expiry`:
//!   `(retain-until secs, id)` → `()`; `session_meta`: `revocations` (the
//!   counter);
//! - `issued_session` / `issued_session_expiry`: where versions before
//!   the append-only log (`issued`) kept issued sessions; read once at
//!   open, moved to the log, and dropped.
//!
//! Called from `spawn_blocking` (writes, listings) or inline (point
//! reads), as the parent module says.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::tables::backend;
use crate::domain::sessions::{IssuedSession, RevocationRule};
use crate::service::store::{StoreError, Timestamp};

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

fn decode_session(bytes: &[u8]) -> Result<IssuedSession, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt("undecodable issued session", e))
}

/// Creates the tables.
pub(super) fn init(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    txn.open_table(REVOCATIONS).map_err(backend)?;
    txn.open_table(REVOCATION_EXPIRY).map_err(backend)?;
    txn.open_table(META).map_err(backend)?;
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

/// Takes the issued sessions that earlier versions kept in this file
/// (live at `now`) and drops their tables; the caller has appended them
/// to the log first (`issued`). Returns them; nothing when already done.
pub(super) fn take_issued(db: &Database, now: Timestamp) -> Result<Vec<IssuedSession>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = match txn.open_table(SESSIONS) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(backend(e)),
    };
    let mut live = Vec::new();
    for entry in table.iter().map_err(backend)? {
        let (_, value) = entry.map_err(backend)?;
        let s = decode_session(value.value())?;
        if s.is_live(now.as_unix_secs()) {
            live.push(s);
        }
    }
    Ok(live)
}

/// Drops the tables of [`take_issued`].
pub(super) fn drop_issued(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    txn.delete_table(SESSIONS).map_err(backend)?;
    txn.delete_table(SESSION_EXPIRY).map_err(backend)?;
    txn.commit().map_err(backend)
}
