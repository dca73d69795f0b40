//! Records, the access-key index, the generation and the account set on
//! Redis.
//!
//! Owns: reading, listing and committing records, finding access keys by
//! id alone, the store generation and the accounts. May import the
//! parent's modules, `redis` and `service::store`.
//!
//! A commit is one `COMMIT` script in the account's slot: it compares
//! every precondition with the stored revision (the number before the
//! first space of a record value), then writes, bumps the account's
//! revision counter and publishes an invalidation, or writes nothing and
//! names the failed precondition. Outside Cluster the same script also
//! bumps the generation and the account set (one server holds every key);
//! in Cluster those live in another slot and follow in a second round
//! trip.
//!
//! Access key ids and account aliases are unique across accounts through
//! claims (`claims`).

use redis::AsyncCommands;

use super::RedisStore;
use super::conn::Conn;
use super::scripts::COMMIT;
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::service::store::{
    Key, Kind, ListQuery, Page, Precondition, Record, Revision, StoreError, Transaction, Versioned,
};

/// Names fetched per round trip of a listing at least.
const LIST_BATCH: usize = 100;

/// A record as the JSON after the revision of its stored value
/// (`"<revision> <json>"`, written by the commit script).
fn to_json(record: &Record) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(StoreError::failure)
}

/// A stored record value back into a record.
pub(super) fn decode(value: &str) -> Result<Versioned<Record>, StoreError> {
    let corrupt = |detail: String| StoreError::CorruptRecord { detail };
    let (revision, json) = value
        .split_once(' ')
        .ok_or_else(|| corrupt("record without revision".to_owned()))?;
    let revision = revision
        .parse()
        .map_err(|e| corrupt(format!("bad revision: {e}")))?;
    let record =
        serde_json::from_str(json).map_err(|e| corrupt(format!("undecodable record: {e}")))?;
    Ok(Versioned {
        revision: Revision::new(revision),
        record,
    })
}

// === impl RedisStore ===

impl RedisStore {
    pub(super) async fn get_record(
        &self,
        key: &Key,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        let name = self.names().record(key);
        let stamp = self.changes().seen();
        let value: Option<String> = self.conn().bounded(async |c| c.get(&name).await).await?;
        let found = value.as_deref().map(decode).transpose()?;
        if found.is_some() {
            self.note_exists(key, stamp);
        }
        Ok(found)
    }

    pub(super) async fn list_records(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError> {
        let limit = query.clamped_limit();
        let batch = (limit + 1).max(LIST_BATCH);
        let index = self.names().index(account, kind);
        let mut cursor = query.after.clone();
        let mut items: Vec<Versioned<Record>> = Vec::new();
        loop {
            let min = cursor.as_ref().map_or("-".to_owned(), |c| format!("({c}"));
            let names: Vec<String> = self
                .conn()
                .bounded(async |c| {
                    c.zrangebylex_limit(&index, &min, "+", 0, batch as isize)
                        .await
                })
                .await?;
            let Some(last) = names.last().cloned() else {
                break;
            };
            let keys: Vec<String> = names
                .iter()
                .map(|n| self.names().record(&Key::raw(account, kind, n)))
                .collect();
            let values: Vec<Option<String>> =
                self.conn().bounded(async |c| c.mget(&keys).await).await?;
            for value in values.into_iter().flatten() {
                let record = decode(&value)?;
                if !query.matches_path(record.record.path()) {
                    continue;
                }
                if items.len() == limit {
                    let next = items.last().map(|v| v.record.key().name().to_owned());
                    return Ok(Page { items, next });
                }
                items.push(record);
            }
            if names.len() < batch {
                break;
            }
            cursor = Some(last);
        }
        Ok(Page { items, next: None })
    }

    pub(super) async fn commit_txn(&self, txn: Transaction) -> Result<Revision, StoreError> {
        let Some(account) = txn.validate()? else {
            return self.read_generation().await.map(Revision::new);
        };
        self.usage().forget(txn.deletes());
        self.seen().forget(txn.deletes());
        let claimed = self.claim_keys(account, &txn).await?;
        let result = self.run_commit(account, &txn).await;
        // Counted before returning, and after a failed precondition too:
        // it proves this process read something stale. Not after an
        // unreachable Redis: that proves nothing, and a bump would empty
        // the caches that keep Authorize going through an outage (a write
        // that went through anyway is announced by its own publish, or
        // seen by the poller).
        let proves_change = match &result {
            Ok(_) => true,
            Err(e) => e.is_precondition_failure(),
        };
        if proves_change {
            self.changes().bump();
        }
        match result {
            Ok(revision) => {
                // The commit is applied: report it so even if the
                // bookkeeping after it (Cluster: the generation, the
                // account set) fails; the poller's next read of a moved
                // generation, or the next commit, catches up.
                if let Err(e) = self.after_commit(account, &txn).await {
                    tracing::warn!(error = %e, "a commit was applied but its generation bump failed");
                }
                self.changes().bump();
                Ok(revision)
            }
            Err(e) => {
                if e.is_precondition_failure() {
                    self.release_claims(account, &claimed).await;
                }
                Err(e)
            }
        }
    }

    /// Runs the commit script.
    async fn run_commit(
        &self,
        account: AccountId,
        txn: &Transaction,
    ) -> Result<Revision, StoreError> {
        let names = self.names();
        let global = !self.conn().is_cluster();
        let mut inv = COMMIT.prepare_invoke();
        inv.key(names.revision(account));
        for p in txn.preconditions() {
            inv.key(names.record(p.key()));
        }
        for r in txn.puts() {
            inv.key(names.record(&r.key()))
                .key(names.index(account, r.kind()));
        }
        for d in txn.deletes() {
            inv.key(names.record(d))
                .key(names.index(account, d.kind()))
                .key(names.usage(d));
        }
        if global {
            inv.key(names.generation()).key(names.accounts());
        }
        inv.arg(txn.preconditions().len())
            .arg(txn.puts().len())
            .arg(txn.deletes().len())
            .arg(if global { "1" } else { "0" })
            .arg(names.channel())
            .arg(format!("e:{account}"))
            .arg(account_op(txn))
            .arg(account.as_str());
        for p in txn.preconditions() {
            match p {
                Precondition::Absent(_) => inv.arg(""),
                Precondition::At(_, revision) => inv.arg(revision.get().to_string()),
            };
        }
        for r in txn.puts() {
            inv.arg(r.key().name()).arg(to_json(r)?);
        }
        for d in txn.deletes() {
            inv.arg(d.name());
        }
        let reply: Vec<String> = self
            .conn()
            .bounded(async |c: &mut Conn| inv.invoke_async(c).await)
            .await?;
        outcome(txn, &reply)
    }

    /// The steps after a commit that Cluster keeps out of the script, and
    /// the release of deleted keys' claims.
    async fn after_commit(&self, account: AccountId, txn: &Transaction) -> Result<(), StoreError> {
        if self.conn().is_cluster() && !txn.is_read_only() {
            let names = self.names();
            let mut pipe = redis::pipe();
            pipe.incr(names.generation(), 1).ignore();
            match account_op(txn) {
                "add" => {
                    pipe.zadd(names.accounts(), account.as_str(), 0).ignore();
                }
                "rem" => {
                    pipe.zrem(names.accounts(), account.as_str()).ignore();
                }
                _ => {}
            }
            self.conn()
                .bounded(async |c| pipe.query_async::<()>(c).await)
                .await?;
        }
        let released: Vec<Key> = txn
            .deletes()
            .iter()
            .filter(|k| k.kind().is_global())
            .cloned()
            .collect();
        self.release_claims(account, &released).await;
        Ok(())
    }

    pub(super) async fn find_access_key(
        &self,
        id: &AccessKeyId,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        let claim = self.names().key_claim(id);
        let home = id.account().map(|a| Key::access_key(a, id));
        let stamp = self.changes().seen();
        // Two slots on Cluster: two commands, sent together.
        let home_name = home.as_ref().map(|h| self.names().record(h));
        let (owner, at_home) = tokio::try_join!(
            self.conn()
                .bounded(async |c| c.get::<_, Option<String>>(&claim).await),
            async {
                match &home_name {
                    Some(name) => {
                        self.conn()
                            .bounded(async |c| c.get::<_, Option<String>>(name).await)
                            .await
                    }
                    None => Ok(None),
                }
            }
        )?;
        let found = match (at_home, owner) {
            (Some(value), _) => Some(decode(&value)?),
            (None, Some(owner))
                if home
                    .as_ref()
                    .is_none_or(|h| h.account_id().as_str() != owner) =>
            {
                let account: AccountId = owner.parse().map_err(|e| StoreError::CorruptRecord {
                    detail: format!("bad access key claim: {e}"),
                })?;
                let key = Key::access_key(account, id);
                let name = self.names().record(&key);
                let value: Option<String> =
                    self.conn().bounded(async |c| c.get(&name).await).await?;
                value.as_deref().map(decode).transpose()?
            }
            (None, _) => None,
        };
        if let Some(found) = &found {
            self.note_exists(&found.record.key(), stamp);
        }
        Ok(found)
    }

    pub(super) async fn read_generation(&self) -> Result<u64, StoreError> {
        let name = self.names().generation();
        let value: Option<u64> = self.conn().bounded(async |c| c.get(&name).await).await?;
        Ok(value.unwrap_or(0))
    }

    pub(super) async fn list_accounts(&self) -> Result<Vec<AccountId>, StoreError> {
        let name = self.names().accounts();
        let ids: Vec<String> = self
            .conn()
            .bounded(async |c| c.zrange(&name, 0, -1).await)
            .await?;
        ids.iter()
            .map(|id| {
                id.parse().map_err(|e| StoreError::CorruptRecord {
                    detail: format!("bad account id: {e}"),
                })
            })
            .collect()
    }
}

/// What a transaction does to its account's own record.
fn account_op(txn: &Transaction) -> &'static str {
    if txn.puts().iter().any(|r| r.kind() == Kind::Account) {
        "add"
    } else if txn.deletes().iter().any(|k| k.kind() == Kind::Account) {
        "rem"
    } else {
        ""
    }
}

/// The commit script's reply as a revision or a precondition failure.
fn outcome(txn: &Transaction, reply: &[String]) -> Result<Revision, StoreError> {
    let bad = || StoreError::failure("unexpected reply from the commit script");
    let field = |i: usize| reply.get(i).ok_or_else(bad);
    let precondition = || -> Result<&Precondition, StoreError> {
        let i: usize = field(1)?.parse().map_err(|_| bad())?;
        txn.preconditions().get(i.wrapping_sub(1)).ok_or_else(bad)
    };
    match field(0)?.as_str() {
        "ok" => Ok(Revision::new(field(1)?.parse().map_err(|_| bad())?)),
        "dup" => Err(StoreError::DuplicateKey {
            key: precondition()?.key().clone(),
        }),
        "missing" => Err(StoreError::MissingKey {
            key: precondition()?.key().clone(),
        }),
        "stale" => {
            let p = precondition()?;
            let Precondition::At(key, expected) = p else {
                return Err(bad());
            };
            Err(StoreError::StaleRevision {
                key: key.clone(),
                expected: *expected,
                found: Revision::new(field(2)?.parse().map_err(|_| bad())?),
            })
        }
        _ => Err(bad()),
    }
}
