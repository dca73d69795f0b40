//! The session ports on Redis: revocation rules and issued sessions.
//!
//! Owns: the operations of `RevocationStore` and `IssuedSessionLog`.
//! Layout (see `keys`): the rules are a hash by id in the
//! `{revocations}` slot with a sorted set by retention end and the
//! counter, all written by one script that also publishes `r` on the
//! invalidation channel; an issued session is a field of its account's
//! hash (`<p>{A}:sessions`, JSON) with its key id in the account's id
//! index (listing order) and `<account>/<key id>` in the global expiry
//! set that the purge walks. Sessions are purged by the maintenance task
//! rather than by Redis expiry, so the store's clock decides liveness.
//! May import the parent's modules, `redis` and `service::store`.

use std::collections::HashMap;

use redis::AsyncCommands;

use super::RedisStore;
use super::scripts::{PURGE_REVOCATIONS, PUT_REVOCATION};
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, RevocationRule, SessionFilter};
use crate::service::store::{SessionPage, StoreError, Timestamp, clamp_session_page};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRecord {
        detail: format!("{what}: {e}"),
    }
}

fn decode_session(json: &str) -> Result<IssuedSession, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("undecodable issued session", e))
}

// === impl RedisStore ===

impl RedisStore {
    pub(super) async fn put_rule(&self, rule: &RevocationRule) -> Result<u64, StoreError> {
        let json = serde_json::to_string(rule).map_err(StoreError::failure)?;
        let names = self.names();
        let mut inv = PUT_REVOCATION.prepare_invoke();
        inv.key(names.revocation_rules())
            .key(names.revocation_expiry())
            .key(names.revocation_counter())
            .arg(json)
            .arg(rule.id.as_str())
            .arg(rule.retain_until())
            .arg(names.channel())
            .arg("r");
        let counter = self
            .conn()
            .bounded(async |c| inv.invoke_async(c).await)
            .await;
        // Only a rule known to be kept changes anything here; one that
        // went through unanswered is seen by the poller.
        if counter.is_ok() {
            self.changes().bump();
        }
        counter
    }

    pub(super) async fn read_rules(&self) -> Result<(u64, Vec<RevocationRule>), StoreError> {
        let names = self.names();
        let (counter, rules): (Option<u64>, Vec<String>) = self
            .conn()
            .bounded(async |c| {
                redis::pipe()
                    .get(names.revocation_counter())
                    .hvals(names.revocation_rules())
                    .query_async(c)
                    .await
            })
            .await?;
        let rules = rules
            .iter()
            .map(|r| serde_json::from_str(r).map_err(|e| corrupt("undecodable revocation", e)))
            .collect::<Result<_, _>>()?;
        Ok((counter.unwrap_or(0), rules))
    }

    pub(super) async fn read_rule_counter(&self) -> Result<u64, StoreError> {
        let name = self.names().revocation_counter();
        let counter: Option<u64> = self.conn().bounded(async |c| c.get(&name).await).await?;
        Ok(counter.unwrap_or(0))
    }

    pub(super) async fn purge_rules(&self, now: Timestamp) -> Result<usize, StoreError> {
        let names = self.names();
        let mut inv = PURGE_REVOCATIONS.prepare_invoke();
        inv.key(names.revocation_rules())
            .key(names.revocation_expiry())
            .arg(now.as_unix_secs());
        self.conn()
            .bounded(async |c| inv.invoke_async(c).await)
            .await
    }

    /// Records `batch` in one pipelined round trip.
    pub(super) async fn record(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let names = self.names();
        // One pipeline per account slot, one for the expiry set.
        let mut by_account: HashMap<AccountId, redis::Pipeline> = HashMap::new();
        let mut expiry = redis::pipe();
        for s in batch {
            let json = serde_json::to_string(s).map_err(StoreError::failure)?;
            let id = s.access_key_id.as_str();
            by_account
                .entry(s.account)
                .or_insert_with(redis::pipe)
                .hset(names.sessions(s.account), id, json)
                .ignore()
                .zadd(names.session_ids(s.account), id, 0)
                .ignore();
            expiry
                .zadd(
                    names.session_expiry(),
                    format!("{}/{id}", s.account),
                    s.expires_at,
                )
                .ignore();
        }
        let mut pipes: Vec<_> = by_account.into_values().collect();
        pipes.push(expiry);
        self.conn().run_all(pipes).await
    }

    pub(super) async fn session(
        &self,
        id: &AccessKeyId,
        now: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError> {
        let Some(account) = id.account() else {
            return Ok(None);
        };
        let name = self.names().sessions(account);
        let json: Option<String> = self
            .conn()
            .bounded(async |c| c.hget(&name, id.as_str()).await)
            .await?;
        let found = json.as_deref().map(decode_session).transpose()?;
        Ok(found.filter(|s| s.is_live(now.as_unix_secs())))
    }

    pub(super) async fn sessions_page(
        &self,
        account: AccountId,
        filter: &SessionFilter,
        now: Timestamp,
        after: Option<&AccessKeyId>,
        limit: usize,
    ) -> Result<SessionPage, StoreError> {
        let limit = clamp_session_page(limit);
        let batch = limit + 1;
        let (ids_key, hash) = (
            self.names().session_ids(account),
            self.names().sessions(account),
        );
        let mut cursor = after.map(|a| format!("({a}"));
        let mut items: Vec<IssuedSession> = Vec::new();
        loop {
            let min = cursor.clone().unwrap_or_else(|| "-".to_owned());
            let ids: Vec<String> = self
                .conn()
                .bounded(async |c| {
                    c.zrangebylex_limit(&ids_key, &min, "+", 0, batch as isize)
                        .await
                })
                .await?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let values: Vec<Option<String>> = self
                .conn()
                .bounded(async |c| {
                    redis::cmd("HMGET")
                        .arg(&hash)
                        .arg(&ids)
                        .query_async(c)
                        .await
                })
                .await?;
            for json in values.into_iter().flatten() {
                let s = decode_session(&json)?;
                if !s.is_live(now.as_unix_secs()) || !filter.matches(&s) {
                    continue;
                }
                if items.len() == limit {
                    let next = items.last().map(|v| v.access_key_id.clone());
                    return Ok(SessionPage { items, next });
                }
                items.push(s);
            }
            if ids.len() < batch {
                break;
            }
            cursor = Some(format!("({last}"));
        }
        Ok(SessionPage { items, next: None })
    }

    /// Removes at most `max` sessions expired at `now`, earliest first.
    pub(super) async fn purge(&self, now: Timestamp, max: usize) -> Result<usize, StoreError> {
        if max == 0 {
            return Ok(0);
        }
        let expiry = self.names().session_expiry();
        let members: Vec<String> = self
            .conn()
            .bounded(async |c| {
                c.zrangebyscore_limit(&expiry, "-inf", now.as_unix_secs(), 0, max as isize)
                    .await
            })
            .await?;
        if members.is_empty() {
            return Ok(0);
        }
        let mut by_account: HashMap<AccountId, redis::Pipeline> = HashMap::new();
        for member in &members {
            let Some((account, id)) = member.split_once('/') else {
                continue;
            };
            let Ok(account) = account.parse::<AccountId>() else {
                continue;
            };
            by_account
                .entry(account)
                .or_insert_with(redis::pipe)
                .hdel(self.names().sessions(account), id)
                .ignore()
                .zrem(self.names().session_ids(account), id)
                .ignore();
        }
        self.conn()
            .run_all(by_account.into_values().collect())
            .await?;
        let removed: usize = self
            .conn()
            .bounded(async |c| c.zrem(&expiry, &members).await)
            .await?;
        Ok(removed)
    }
}
