//! How the Redis store names its keys.
//!
//! Owns: [`KeyNames`], every key and channel name the adapter uses, all
//! under one configurable prefix. May import `service::store` and
//! `domain::ids`.
//!
//! Slot layout (Redis Cluster hashes only the part between the first `{`
//! and `}`):
//! - `{<account>}`: everything of one account — records
//!   (`<p>{A}:e:<kind>:<name>`, the value `"<revision> <json>"`), the name
//!   index of each kind (`<p>{A}:i:<kind>`, a sorted set of names at score
//!   0, listed with `ZRANGEBYLEX`), the revision counter (`<p>{A}:rev`),
//!   last-used data (`<p>{A}:u:<kind>:<name>`) and issued sessions
//!   (`<p>{A}:sessions`, a hash by key id, and `<p>{A}:sessions:ids`, the
//!   key ids at score 0). One transaction touches one account, so one
//!   script sees all its keys.
//! - `{global}`: the generation counter and the sorted set of accounts.
//! - `{revocations}`: the revocation rules (a hash by id), their
//!   retention (a sorted set) and the counter, updated by one script.
//! - `{sessions}`: every issued session by expiry (a sorted set of
//!   `<account>/<key id>`), what the purge walks.
//! - claims of the names unique across accounts (`<p>akid:<key id>` and
//!   `<p>alias:<account alias>` → owning account) and one-time
//!   identifiers (`<p>once:<scope>:<id>`) hash by their whole name, so
//!   they spread over the cluster.

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::service::store::{Key, Kind, ReplayScope};

/// The names of the adapter's keys under one prefix.
#[derive(Debug, Clone)]
pub(super) struct KeyNames {
    // INVARIANT: contains no `{` or `}` (the configuration refuses them), so
    // only the tags below decide slots.
    prefix: String,
}

// === impl KeyNames ===

impl KeyNames {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    fn account_part(&self, account: AccountId) -> String {
        format!("{}{{{account}}}", self.prefix)
    }

    /// The record under `key`.
    pub(super) fn record(&self, key: &Key) -> String {
        format!(
            "{}:e:{}:{}",
            self.account_part(key.account_id()),
            key.kind(),
            key.name()
        )
    }

    /// The name index of `kind` in `account`.
    pub(super) fn index(&self, account: AccountId, kind: Kind) -> String {
        format!("{}:i:{kind}", self.account_part(account))
    }

    /// The revision counter of `account`.
    pub(super) fn revision(&self, account: AccountId) -> String {
        format!("{}:rev", self.account_part(account))
    }

    /// The last use of the entity under `key`.
    pub(super) fn usage(&self, key: &Key) -> String {
        format!(
            "{}:u:{}:{}",
            self.account_part(key.account_id()),
            key.kind(),
            key.name()
        )
    }

    /// The issued sessions of `account`, by key id.
    pub(super) fn sessions(&self, account: AccountId) -> String {
        format!("{}:sessions", self.account_part(account))
    }

    /// The key ids of the issued sessions of `account`, in id order.
    pub(super) fn session_ids(&self, account: AccountId) -> String {
        format!("{}:sessions:ids", self.account_part(account))
    }

    /// Every issued session by expiry.
    pub(super) fn session_expiry(&self) -> String {
        format!("{}{{sessions}}:expiry", self.prefix)
    }

    /// The store generation.
    pub(super) fn generation(&self) -> String {
        format!("{}{{global}}:generation", self.prefix)
    }

    /// The accounts, in id order.
    pub(super) fn accounts(&self) -> String {
        format!("{}{{global}}:accounts", self.prefix)
    }

    /// Which account holds access key `id`.
    pub(super) fn key_claim(&self, id: &AccessKeyId) -> String {
        format!("{}akid:{id}", self.prefix)
    }

    /// The claim of a name unique across accounts (`Kind::is_global`);
    /// `None` for other kinds.
    pub(super) fn claim(&self, key: &Key) -> Option<String> {
        match key.kind() {
            Kind::AccessKey => Some(format!("{}akid:{}", self.prefix, key.name())),
            Kind::AccountAlias => Some(format!("{}alias:{}", self.prefix, key.name())),
            _ => None,
        }
    }

    /// A one-time identifier.
    pub(super) fn once(&self, scope: ReplayScope, id: &str) -> String {
        format!("{}once:{}:{id}", self.prefix, scope.as_str())
    }

    /// The revocation rules, by id.
    pub(super) fn revocation_rules(&self) -> String {
        format!("{}{{revocations}}:rules", self.prefix)
    }

    /// The revocation rules by retention end.
    pub(super) fn revocation_expiry(&self) -> String {
        format!("{}{{revocations}}:expiry", self.prefix)
    }

    /// The revocation counter.
    pub(super) fn revocation_counter(&self) -> String {
        format!("{}{{revocations}}:counter", self.prefix)
    }

    /// The pub/sub channel of cache invalidations.
    pub(super) fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_an_account_shares_its_hash_tag() {
        let names = KeyNames::new("stsd:");
        let account: AccountId = "123456789012".parse().unwrap();
        let key = Key::user(account, &"Alice".parse().unwrap());
        assert_eq!(names.record(&key), "stsd:{123456789012}:e:user:alice");
        for name in [
            names.record(&key),
            names.index(account, Kind::User),
            names.revision(account),
            names.usage(&key),
            names.sessions(account),
            names.session_ids(account),
        ] {
            assert!(name.starts_with("stsd:{123456789012}:"), "{name}");
        }
        assert_eq!(names.generation(), "stsd:{global}:generation");
        assert_eq!(names.channel(), "stsd:invalidate");
    }
}
