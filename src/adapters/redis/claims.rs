//! Claims: what makes access key ids and account aliases unique across
//! accounts (the kinds of `Kind::is_global`).
//!
//! Owns: claiming the globally unique names a transaction puts before its
//! commit script runs, checking the absent ones it requires, and releasing
//! claims.
//!
//! Why claims: such a name must be unique across accounts, and on Cluster
//! the index of all names cannot share a slot with every account, so no
//! single script can check it. A claim taken first acts as a lock on the
//! name: once an account holds it, no other account's commit can pass an
//! absent check on the name or put it, whatever happens between the claim
//! and the account's script.
//!
//! Before the script, each such record the transaction puts is claimed
//! (`<p>akid:<id>` or `<p>alias:<alias>` → account, set if absent by the
//! `CLAIM` script); a claim held by another account fails the commit with
//! `DuplicateKey`, and a claim made for a commit whose precondition then
//! fails is released. A delete releases the claim after the script. A
//! process that dies between claim and script leaves a claim that its
//! account alone can still use (key ids are random, so no one else asks
//! for them; an alias stays taken until its account creates and deletes it
//! again).
//!
//! May import the parent's modules, `redis` and `service::store`.

use redis::AsyncCommands;

use super::RedisStore;
use super::scripts::{CLAIM, RELEASE};
use crate::domain::ids::AccountId;
use crate::service::store::{Key, Precondition, StoreError, Transaction};

// === impl RedisStore ===

impl RedisStore {
    /// Claims every globally unique name `txn` puts and checks the absent
    /// ones it requires; returns the claims made now.
    pub(super) async fn claim_keys(
        &self,
        account: AccountId,
        txn: &Transaction,
    ) -> Result<Vec<Key>, StoreError> {
        let mut claimed = Vec::new();
        let puts: Vec<Key> = txn
            .puts()
            .iter()
            .map(|r| r.key())
            .filter(|k| k.kind().is_global())
            .collect();
        for key in &puts {
            let Some(claim) = self.names().claim(key) else {
                continue;
            };
            let reply: redis::Value = self
                .conn()
                .bounded(async |c| {
                    CLAIM
                        .key(&claim)
                        .arg(account.as_str())
                        .invoke_async(c)
                        .await
                })
                .await?;
            match reply {
                redis::Value::Int(1) => claimed.push(key.clone()),
                redis::Value::Int(0) => {}
                _ => {
                    self.release_claims(account, &claimed).await;
                    return Err(StoreError::DuplicateKey { key: key.clone() });
                }
            }
        }
        for p in txn.preconditions() {
            let Precondition::Absent(key) = p else {
                continue;
            };
            if !key.kind().is_global() || puts.contains(key) {
                continue;
            }
            let Some(claim) = self.names().claim(key) else {
                continue;
            };
            let owner: Option<String> = self.conn().bounded(async |c| c.get(&claim).await).await?;
            if owner.is_some_and(|o| o != account.as_str()) {
                self.release_claims(account, &claimed).await;
                return Err(StoreError::DuplicateKey { key: key.clone() });
            }
        }
        Ok(claimed)
    }

    /// Releases the claims of `keys` if `account` still holds them (best
    /// effort: a claim left behind only keeps the name for its account).
    pub(super) async fn release_claims(&self, account: AccountId, keys: &[Key]) {
        for key in keys {
            let Some(claim) = self.names().claim(key) else {
                continue;
            };
            let released: Result<i64, _> = self
                .conn()
                .bounded(async |c| {
                    RELEASE
                        .key(&claim)
                        .arg(account.as_str())
                        .invoke_async(c)
                        .await
                })
                .await;
            if let Err(e) = released {
                tracing::warn!(error = %e, kind = %key.kind(), "cannot release a claim");
            }
        }
    }
}
