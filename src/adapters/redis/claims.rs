//! Access key claims: what makes access key ids unique across accounts.
//!
//! Owns: claiming the access keys a transaction puts before its commit
//! script runs, checking the absent ones it requires, and releasing
//! claims.
//!
//! Why claims: a key id must be unique across accounts, and on Cluster the
//! index of all ids cannot share a slot with every account, so no single
//! script can check it. A claim taken first acts as a lock on the id:
//! once an account holds it, no other account's commit can pass an
//! absent check on the id or put it, whatever happens between the claim
//! and the account's script.
//!
//! Access key ids are unique across accounts through claims: before the
//! script, each access key the transaction puts is claimed
//! (`<p>akid:<id>` → account, set if absent by the `CLAIM` script); a
//! claim held by another account fails the commit with `DuplicateKey`, and
//! a claim made for a commit whose precondition then fails is released. A
//! delete releases the claim after the script. A process that dies
//! between claim and script leaves a claim for a key id that its account
//! alone can still use (ids are random, so no one else asks for it).
//!
//! May import the parent's modules, `redis` and `service::store`.

use redis::AsyncCommands;

use super::RedisStore;
use super::scripts::{CLAIM, RELEASE};
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::service::store::model::AccessKeyRecord;
use crate::service::store::{Entity, Kind, Precondition, Record, StoreError, Transaction};

// === impl RedisStore ===

impl RedisStore {
    /// Claims every access key `txn` puts and checks the absent ones it
    /// requires; returns the claims made now.
    pub(super) async fn claim_keys(
        &self,
        account: AccountId,
        txn: &Transaction,
    ) -> Result<Vec<AccessKeyId>, StoreError> {
        let mut claimed = Vec::new();
        let puts: Vec<&AccessKeyRecord> = txn
            .puts()
            .iter()
            .filter_map(|r| match r {
                Record::AccessKey(k) => Some(k),
                _ => None,
            })
            .collect();
        for key in &puts {
            let claim = self.names().key_claim(&key.id);
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
                redis::Value::Int(1) => claimed.push(key.id.clone()),
                redis::Value::Int(0) => {}
                _ => {
                    self.release_claims(account, &claimed).await;
                    return Err(StoreError::DuplicateKey {
                        key: Entity::key(*key),
                    });
                }
            }
        }
        for p in txn.preconditions() {
            let Precondition::Absent(key) = p else {
                continue;
            };
            if key.kind() != Kind::AccessKey || puts.iter().any(|k| k.id.as_str() == key.name()) {
                continue;
            }
            let Ok(id) = key.name().parse::<AccessKeyId>() else {
                continue;
            };
            let claim = self.names().key_claim(&id);
            let owner: Option<String> = self.conn().bounded(async |c| c.get(&claim).await).await?;
            if owner.is_some_and(|o| o != account.as_str()) {
                self.release_claims(account, &claimed).await;
                return Err(StoreError::DuplicateKey { key: key.clone() });
            }
        }
        Ok(claimed)
    }

    /// Releases `ids` if `account` still holds them (best effort: a claim
    /// left behind only keeps the id for its account).
    pub(super) async fn release_claims(&self, account: AccountId, ids: &[AccessKeyId]) {
        for id in ids {
            let claim = self.names().key_claim(id);
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
                tracing::warn!(error = %e, "cannot release an access key claim");
            }
        }
    }
}
