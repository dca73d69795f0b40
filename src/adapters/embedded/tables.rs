//! The redb layout of the embedded store and the synchronous operations
//! on it.
//!
//! Owns: the table definitions, how keys are spelled in them, and one
//! blocking function per port operation, each a single redb transaction.
//! Called only from `spawn_blocking` (see the parent module).
//!
//! Layout:
//! - `entity.<kind>`: `"<account>/<name>"` → JSON `{revision, record}`;
//!   accounts are 12 digits, so `/` always ends the account and
//!   `"<account>0"` bounds its range;
//! - `access_key_index`: key ID → account, and `account_alias_index`:
//!   alias → account (the kinds unique across accounts, `Kind::is_global`);
//! - `replay`: `"<scope>/<id>"` → not-after (ms), and `replay_expiry`:
//!   `(not-after, "<scope>/<id>")` → `()` to purge in expiry order;
//! - `usage`: `"<kind>/<account>/<name>"` → JSON last-used;
//! - `meta`: `generation` (the last revision handed out), `schema`.

use std::ops::Bound;

use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::service::store::{
    Key, Kind, LastUsed, ListQuery, Page, Precondition, Record, ReplayScope, Revision, StoreError,
    Timestamp, Transaction, Versioned,
};

/// The layout version this module writes.
const SCHEMA: u64 = 1;
/// Expired one-time entries purged per `use_once` at most.
const PURGE_BATCH: usize = 64;

type Entities = TableDefinition<'static, &'static str, &'static [u8]>;

const ACCOUNTS: Entities = TableDefinition::new("entity.account");
const USERS: Entities = TableDefinition::new("entity.user");
const GROUPS: Entities = TableDefinition::new("entity.group");
const ROLES: Entities = TableDefinition::new("entity.role");
const POLICIES: Entities = TableDefinition::new("entity.policy");
const ACCESS_KEYS: Entities = TableDefinition::new("entity.access-key");
const MFA_DEVICES: Entities = TableDefinition::new("entity.mfa-device");
const SAML_PROVIDERS: Entities = TableDefinition::new("entity.saml-provider");
const OIDC_PROVIDERS: Entities = TableDefinition::new("entity.oidc-provider");
const LOGIN_PROFILES: Entities = TableDefinition::new("entity.login-profile");
const PASSWORD_POLICIES: Entities = TableDefinition::new("entity.password-policy");
const ACCOUNT_ALIASES: Entities = TableDefinition::new("entity.account-alias");
type GlobalIndex = TableDefinition<'static, &'static str, &'static str>;
const KEY_INDEX: GlobalIndex = TableDefinition::new("access_key_index");
const ALIAS_INDEX: GlobalIndex = TableDefinition::new("account_alias_index");
const REPLAY: TableDefinition<&str, u64> = TableDefinition::new("replay");
const REPLAY_EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("replay_expiry");
const USAGE: TableDefinition<&str, &[u8]> = TableDefinition::new("usage");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn entities(kind: Kind) -> Entities {
    match kind {
        Kind::Account => ACCOUNTS,
        Kind::User => USERS,
        Kind::Group => GROUPS,
        Kind::Role => ROLES,
        Kind::ManagedPolicy => POLICIES,
        Kind::AccessKey => ACCESS_KEYS,
        Kind::MfaDevice => MFA_DEVICES,
        Kind::SamlProvider => SAML_PROVIDERS,
        Kind::OidcProvider => OIDC_PROVIDERS,
        Kind::LoginProfile => LOGIN_PROFILES,
        Kind::PasswordPolicy => PASSWORD_POLICIES,
        Kind::AccountAlias => ACCOUNT_ALIASES,
    }
}

/// The name → account index of a kind unique across accounts.
fn global_index(kind: Kind) -> Option<GlobalIndex> {
    match kind {
        Kind::AccessKey => Some(KEY_INDEX),
        Kind::AccountAlias => Some(ALIAS_INDEX),
        _ => None,
    }
}

/// A redb error as a store error: I/O trouble is retryable, the rest is not.
pub(super) fn backend(e: impl Into<redb::Error>) -> StoreError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed => {
            StoreError::unavailable(e)
        }
        _ => StoreError::failure(e),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRecord {
        detail: format!("{what}: {e}"),
    }
}

fn entity_key(key: &Key) -> String {
    format!("{}/{}", key.account_id(), key.name())
}

fn usage_key(key: &Key) -> String {
    format!("{}/{}/{}", key.kind(), key.account_id(), key.name())
}

fn replay_key(scope: ReplayScope, id: &str) -> String {
    format!("{}/{id}", scope.as_str())
}

fn decode(bytes: &[u8]) -> Result<Versioned<Record>, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt("undecodable record", e))
}

/// Creates the tables and checks the layout version.
pub(super) fn init(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    {
        for kind in Kind::ALL {
            txn.open_table(entities(kind)).map_err(backend)?;
        }
        txn.open_table(KEY_INDEX).map_err(backend)?;
        txn.open_table(ALIAS_INDEX).map_err(backend)?;
        txn.open_table(REPLAY).map_err(backend)?;
        txn.open_table(REPLAY_EXPIRY).map_err(backend)?;
        txn.open_table(USAGE).map_err(backend)?;
        let mut meta = txn.open_table(META).map_err(backend)?;
        let schema = meta.get("schema").map_err(backend)?.map(|v| v.value());
        match schema {
            None => {
                meta.insert("schema", SCHEMA).map_err(backend)?;
            }
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(corrupt("unsupported layout version", other));
            }
        }
    }
    txn.commit().map_err(backend)
}

fn read_entity(txn: &ReadTransaction, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
    let table = txn.open_table(entities(key.kind())).map_err(backend)?;
    let value = table.get(entity_key(key).as_str()).map_err(backend)?;
    value.map(|v| decode(v.value())).transpose()
}

pub(super) fn get(db: &Database, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
    read_entity(&db.begin_read().map_err(backend)?, key)
}

pub(super) fn list(
    db: &Database,
    account: AccountId,
    kind: Kind,
    query: &ListQuery,
) -> Result<Page<Record>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(entities(kind)).map_err(backend)?;
    let start = match &query.after {
        Some(after) => Bound::Excluded(format!("{account}/{after}")),
        None => Bound::Included(format!("{account}/")),
    };
    let end = Bound::Excluded(format!("{account}0"));
    let range = (
        start.as_ref().map(String::as_str),
        end.as_ref().map(String::as_str),
    );
    let limit = query.clamped_limit();
    let mut items = Vec::new();
    let mut next = None;
    for entry in table.range::<&str>(range).map_err(backend)? {
        let (_, value) = entry.map_err(backend)?;
        let record = decode(value.value())?;
        if !query.matches_path(record.record.path()) {
            continue;
        }
        if items.len() == limit {
            next = items
                .last()
                .map(|v: &Versioned<Record>| v.record.key().name().to_owned());
            break;
        }
        items.push(record);
    }
    Ok(Page { items, next })
}

pub(super) fn access_key(
    db: &Database,
    id: &AccessKeyId,
) -> Result<Option<Versioned<Record>>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let account = {
        let index = txn.open_table(KEY_INDEX).map_err(backend)?;
        let value = index.get(id.as_str()).map_err(backend)?;
        value.map(|v| v.value().parse::<AccountId>()).transpose()
    };
    match account.map_err(|e| corrupt("bad access key index entry", e))? {
        Some(account) => read_entity(&txn, &Key::access_key(account, id)),
        None => Ok(None),
    }
}

fn check(txn: &WriteTransaction, precondition: &Precondition) -> Result<(), StoreError> {
    let key = precondition.key();
    let stored = {
        let table = txn.open_table(entities(key.kind())).map_err(backend)?;
        let value = table.get(entity_key(key).as_str()).map_err(backend)?;
        value.map(|v| decode(v.value())).transpose()?
    };
    match (precondition, stored) {
        (Precondition::Absent(_), Some(_)) => Err(StoreError::DuplicateKey { key: key.clone() }),
        (Precondition::Absent(_), None) if key.kind().is_global() => {
            let Some(def) = global_index(key.kind()) else {
                return Ok(());
            };
            let index = txn.open_table(def).map_err(backend)?;
            if index.get(key.name()).map_err(backend)?.is_some() {
                return Err(StoreError::DuplicateKey { key: key.clone() });
            }
            Ok(())
        }
        (Precondition::Absent(_), None) => Ok(()),
        (Precondition::At(..), None) => Err(StoreError::MissingKey { key: key.clone() }),
        (Precondition::At(_, expected), Some(found)) if found.revision != *expected => {
            Err(StoreError::StaleRevision {
                key: key.clone(),
                expected: *expected,
                found: found.revision,
            })
        }
        (Precondition::At(..), Some(_)) => Ok(()),
    }
}

/// Applies the writes of `txn` at `revision`.
fn apply(
    txn: &WriteTransaction,
    writes: &Transaction,
    revision: Revision,
) -> Result<(), StoreError> {
    let mut usage = txn.open_table(USAGE).map_err(backend)?;
    for key in writes.deletes() {
        let removed = {
            let mut table = txn.open_table(entities(key.kind())).map_err(backend)?;
            table
                .remove(entity_key(key).as_str())
                .map_err(backend)?
                .is_some()
        };
        if removed && let Some(def) = global_index(key.kind()) {
            let mut index = txn.open_table(def).map_err(backend)?;
            index.remove(key.name()).map_err(backend)?;
        }
        usage.remove(usage_key(key).as_str()).map_err(backend)?;
    }
    for record in writes.puts() {
        let key = record.key();
        if let Some(def) = global_index(key.kind()) {
            let mut index = txn.open_table(def).map_err(backend)?;
            let owner = index
                .get(key.name())
                .map_err(backend)?
                .map(|v| v.value().to_owned());
            if owner
                .as_deref()
                .is_some_and(|owner| owner != key.account_id().as_str())
            {
                return Err(StoreError::DuplicateKey { key });
            }
            index
                .insert(key.name(), key.account_id().as_str())
                .map_err(backend)?;
        }
        let stored = Versioned {
            revision,
            record: record.clone(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(StoreError::failure)?;
        let mut table = txn.open_table(entities(key.kind())).map_err(backend)?;
        table
            .insert(entity_key(&key).as_str(), bytes.as_slice())
            .map_err(backend)?;
    }
    Ok(())
}

/// Commits `writes` in one durable redb transaction. Any error drops the
/// redb transaction uncommitted, so nothing is applied.
pub(super) fn commit(db: &Database, writes: &Transaction) -> Result<Revision, StoreError> {
    writes.validate()?;
    let txn = db.begin_write().map_err(backend)?;
    for precondition in writes.preconditions() {
        check(&txn, precondition)?;
    }
    let generation = {
        let meta = txn.open_table(META).map_err(backend)?;
        let value = meta.get("generation").map_err(backend)?;
        value.map_or(0, |v| v.value())
    };
    if writes.is_read_only() {
        return Ok(Revision::new(generation));
    }
    let revision = Revision::new(generation + 1);
    apply(&txn, writes, revision)?;
    txn.open_table(META)
        .map_err(backend)?
        .insert("generation", revision.get())
        .map_err(backend)?;
    txn.commit().map_err(backend)?;
    Ok(revision)
}

pub(super) fn generation(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let meta = txn.open_table(META).map_err(backend)?;
    let value = meta.get("generation").map_err(backend)?;
    Ok(value.map_or(0, |v| v.value()))
}

/// Removes up to [`PURGE_BATCH`] entries that expired before `now`.
fn purge_replay(txn: &WriteTransaction, now: Timestamp) -> Result<(), StoreError> {
    let mut expiry = txn.open_table(REPLAY_EXPIRY).map_err(backend)?;
    let mut replay = txn.open_table(REPLAY).map_err(backend)?;
    let mut expired = Vec::new();
    for entry in expiry
        .range::<(u64, &str)>(..(now.as_unix_millis(), ""))
        .map_err(backend)?
    {
        if expired.len() == PURGE_BATCH {
            break;
        }
        let (key, _) = entry.map_err(backend)?;
        let (at, name) = key.value();
        expired.push((at, name.to_owned()));
    }
    for (at, key) in expired {
        expiry.remove((at, key.as_str())).map_err(backend)?;
        replay.remove(key.as_str()).map_err(backend)?;
    }
    Ok(())
}

pub(super) fn use_once(
    db: &Database,
    now: Timestamp,
    scope: ReplayScope,
    id: &str,
    not_after: Timestamp,
) -> Result<bool, StoreError> {
    let key = replay_key(scope, id);
    let txn = db.begin_write().map_err(backend)?;
    purge_replay(&txn, now)?;
    let fresh = {
        let mut replay = txn.open_table(REPLAY).map_err(backend)?;
        let seen = replay.get(key.as_str()).map_err(backend)?.is_some();
        if !seen {
            replay
                .insert(key.as_str(), not_after.as_unix_millis())
                .map_err(backend)?;
            let mut expiry = txn.open_table(REPLAY_EXPIRY).map_err(backend)?;
            expiry
                .insert((not_after.as_unix_millis(), key.as_str()), ())
                .map_err(backend)?;
        }
        !seen
    };
    txn.commit().map_err(backend)?;
    Ok(fresh)
}

/// Records every use of `batch` in one non-durable write transaction,
/// skipping keys whose record is gone.
pub(super) fn record_uses(db: &Database, batch: &[(Key, LastUsed)]) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(backend)?;
    txn.set_durability(Durability::None)
        .map_err(StoreError::failure)?;
    {
        let mut usage = txn.open_table(USAGE).map_err(backend)?;
        for (key, used) in batch {
            let table = txn.open_table(entities(key.kind())).map_err(backend)?;
            if table
                .get(entity_key(key).as_str())
                .map_err(backend)?
                .is_none()
            {
                continue;
            }
            let bytes = serde_json::to_vec(used).map_err(StoreError::failure)?;
            usage
                .insert(usage_key(key).as_str(), bytes.as_slice())
                .map_err(backend)?;
        }
    }
    txn.commit().map_err(backend)?;
    Ok(())
}

pub(super) fn last_used(db: &Database, key: &Key) -> Result<Option<LastUsed>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let usage = txn.open_table(USAGE).map_err(backend)?;
    let value = usage.get(usage_key(key).as_str()).map_err(backend)?;
    value
        .map(|v| serde_json::from_slice(v.value()).map_err(|e| corrupt("undecodable usage", e)))
        .transpose()
}

pub(super) fn accounts(db: &Database) -> Result<Vec<AccountId>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(ACCOUNTS).map_err(backend)?;
    let mut accounts = Vec::new();
    for entry in table.iter().map_err(backend)? {
        let (key, _) = entry.map_err(backend)?;
        let digits = key.value().split('/').next().unwrap_or_default();
        accounts.push(digits.parse().map_err(|e| corrupt("bad account key", e))?);
    }
    Ok(accounts)
}
