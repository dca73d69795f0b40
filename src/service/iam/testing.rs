//! Test fixtures for the IAM operations: an in-memory store with one
//! account, a fixed clock, and callers (root, or a user with policies).

use std::sync::Arc;

use super::Iam;
use crate::adapters::memory::MemoryStore;
use crate::domain::clock::FixedClock;
use crate::domain::ids::{AccountId, UserName};
use crate::domain::seal::{MasterKey, SealKeyId};
use crate::service::authn::{Caller, Identity};
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::store::model::{AccountRecord, UserRecord};
use crate::service::store::{AccountDirectory, Key, Timestamp, Transaction, fetch};

pub(crate) const T0: i64 = 1_740_824_100; // 2025-03-01T10:15:00Z

pub(crate) fn account() -> AccountId {
    "123456789012".parse().unwrap()
}

/// A fresh service over an empty store holding the account.
pub(crate) async fn iam() -> (Iam, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::at_secs(T0));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    store
        .ensure_account(AccountRecord {
            id: account(),
            alias: None,
            root_access_keys: vec![],
            root_mfa_devices: vec![],
            create_date: Timestamp::from_unix_secs(1),
        })
        .await
        .unwrap();
    let iam = Iam {
        store,
        clock: clock.clone(),
        partition: "aws".parse().unwrap(),
        entropy: Arc::new(ring::rand::SystemRandom::new()),
        master_key: Arc::new(MasterKey::from_bytes(
            SealKeyId::new("k1").unwrap(),
            [7; 32],
        )),
        identities: Arc::default(),
    };
    (iam, clock)
}

/// The account's root.
pub(crate) async fn root(iam: &Iam) -> AuthzCaller {
    let caller = Caller {
        account: account(),
        identity: Identity::Root,
        access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
        region: None,
    };
    AuthzCaller::load(
        &*iam.store,
        &*iam.clock,
        &iam.partition,
        &caller,
        &Transport::default(),
    )
    .await
    .unwrap()
}

/// User `name` (which must exist), after giving it the inline policy
/// `doc` when one is given.
pub(crate) async fn user(iam: &Iam, name: &str, doc: Option<&str>) -> AuthzCaller {
    let name: UserName = name.parse().unwrap();
    let key = Key::user(account(), &name);
    let found = fetch::<UserRecord>(&*iam.store, &key)
        .await
        .unwrap()
        .unwrap();
    if let Some(doc) = doc {
        let mut u = found.record.clone();
        u.inline_policies.insert("p".parse().unwrap(), doc.into());
        let mut txn = Transaction::new();
        txn.require_unchanged(&found).put(u);
        iam.store.commit(txn).await.unwrap();
    }
    let caller = Caller {
        account: account(),
        identity: Identity::User {
            name,
            unique_id: found.record.id.clone(),
            path: found.record.path.clone(),
        },
        access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
        region: None,
    };
    AuthzCaller::load(
        &*iam.store,
        &*iam.clock,
        &iam.partition,
        &caller,
        &Transport::default(),
    )
    .await
    .unwrap()
}
