//! Conformance: the access-key index, one-time identifiers and usage.

use std::sync::Arc;

use super::{access_key, account, account_alias, account_record, ok, role, t0, user};
use crate::domain::ids::{AccessKeyId, AccountAlias, RoleName};
use crate::service::store::model::{AccessKeyStatus, AccountAliasRecord, CredentialOwner};
use crate::service::store::{
    IamStore, Key, LastUsed, MAX_REPLAY_ID_LEN, ReplayScope, StoreError, Timestamp, Transaction,
    fetch,
};

fn key_id(text: &str) -> AccessKeyId {
    ok(text.parse(), "access key id")
}

fn later() -> Timestamp {
    // Far enough ahead of any clock a suite runs with.
    Timestamp::from_unix_secs(4_000_000_000)
}

/// The index finds a key by ID alone, and follows puts and deletes in the
/// same commit as the record.
pub async fn access_key_index_follows_commits(store: &dyn IamStore) {
    let a = account(301);
    let id = key_id("AKIAIOSFODNN7EXAMPL2");
    let owner = CredentialOwner::User(ok("frank".parse(), "name"));
    let mut frank = user(a, "frank", "/");
    frank.access_keys.push(id.clone());
    let mut txn = Transaction::new();
    let record = access_key(a, id.as_str(), owner.clone());
    txn.require_absent(Key::access_key(a, &id))
        .put(frank)
        .put(record.clone());
    let revision = ok(store.commit(txn).await, "create key");
    let found = ok(store.access_key(&id).await, "lookup");
    let found = ok(found.ok_or("missing"), "indexed key");
    assert_eq!(found.revision, revision);
    assert_eq!(found.record, record);

    let mut inactive = record.clone();
    inactive.status = AccessKeyStatus::Inactive;
    let mut txn = Transaction::new();
    txn.require_unchanged(&found).put(inactive);
    ok(store.commit(txn).await, "deactivate");
    let found = ok(
        ok(store.access_key(&id).await, "lookup").ok_or("missing"),
        "key",
    );
    assert_eq!(found.record.status, AccessKeyStatus::Inactive);

    let mut txn = Transaction::new();
    txn.require_unchanged(&found)
        .delete(Key::access_key(a, &id));
    ok(store.commit(txn).await, "delete key");
    assert!(ok(store.access_key(&id).await, "lookup").is_none());
    assert!(
        ok(
            store.access_key(&key_id("AKIAIOSFODNN7NOWHERE")).await,
            "lookup"
        )
        .is_none()
    );
}

/// An access key ID belongs to one account: another account can neither
/// pass an absent check on it nor put it.
pub async fn access_key_ids_are_global(store: &dyn IamStore) {
    let (a, b) = (account(302), account(303));
    let id = key_id("AKIAIOSFODNN7EXAMPL3");
    let mut txn = Transaction::new();
    txn.require_absent(Key::access_key(a, &id)).put(access_key(
        a,
        id.as_str(),
        CredentialOwner::Root,
    ));
    ok(store.commit(txn).await, "root key of a");

    let mut absent = Transaction::new();
    absent
        .require_absent(Key::access_key(b, &id))
        .put(role(b, "unrelated", "/"));
    let err = store.commit(absent).await;
    assert!(
        matches!(err, Err(StoreError::DuplicateKey { .. })),
        "{err:?}"
    );
    let mut steal = Transaction::new();
    steal.put(access_key(b, id.as_str(), CredentialOwner::Root));
    let err = store.commit(steal).await;
    assert!(
        matches!(err, Err(StoreError::DuplicateKey { .. })),
        "{err:?}"
    );
    assert!(
        ok(
            store
                .get(&Key::role(b, &ok("unrelated".parse(), "n")))
                .await,
            "get"
        )
        .is_none()
    );
    let found = ok(
        ok(store.access_key(&id).await, "lookup").ok_or("missing"),
        "key",
    );
    assert_eq!(found.record.account, a, "the first owner keeps it");
}

/// An account alias belongs to one account: another account can neither
/// pass an absent check on it nor put it until its owner deletes it, a
/// commit that fails after claiming it leaves it free, and
/// `account_by_alias` finds the owner.
pub async fn account_aliases_are_global(store: &dyn IamStore) {
    let (a, b, c, d) = (account(304), account(305), account(306), account(307));
    for acct in [a, b, c, d] {
        ok(store.ensure_account(account_record(acct)).await, "account");
    }
    let alias: AccountAlias = ok("shared-name".parse(), "alias");
    let mut txn = Transaction::new();
    txn.require_absent(Key::account_alias(a, &alias))
        .put(account_alias(a, "shared-name"));
    ok(store.commit(txn).await, "alias of a");
    assert_eq!(ok(store.account_by_alias(&alias).await, "lookup"), Some(a));

    let unrelated: RoleName = ok("unrelated-alias".parse(), "role name");
    let mut absent = Transaction::new();
    absent
        .require_absent(Key::account_alias(b, &alias))
        .put(role(b, unrelated.as_str(), "/"));
    let err = store.commit(absent).await;
    assert!(
        matches!(err, Err(StoreError::DuplicateKey { .. })),
        "{err:?}"
    );
    let mut steal = Transaction::new();
    steal.put(account_alias(b, "shared-name"));
    let err = store.commit(steal).await;
    assert!(
        matches!(err, Err(StoreError::DuplicateKey { .. })),
        "{err:?}"
    );
    assert!(ok(store.get(&Key::role(b, &unrelated)).await, "get").is_none());
    assert!(
        ok(store.get(&Key::account_alias(b, &alias)).await, "get").is_none(),
        "nothing of a failed commit is applied"
    );
    assert_eq!(ok(store.account_by_alias(&alias).await, "lookup"), Some(a));

    let found = ok(
        fetch::<AccountAliasRecord>(store, &Key::account_alias(a, &alias)).await,
        "fetch",
    );
    let found = ok(found.ok_or("missing"), "alias of a");
    let mut rewrite = Transaction::new();
    rewrite
        .require_unchanged(&found)
        .put(account_alias(a, "shared-name"));
    ok(store.commit(rewrite).await, "the owner writes it again");
    let found = ok(
        ok(
            fetch::<AccountAliasRecord>(store, &Key::account_alias(a, &alias)).await,
            "fetch",
        )
        .ok_or("missing"),
        "alias of a",
    );
    let mut delete = Transaction::new();
    delete
        .require_unchanged(&found)
        .delete(Key::account_alias(a, &alias));
    ok(store.commit(delete).await, "a deletes its alias");
    assert_eq!(ok(store.account_by_alias(&alias).await, "lookup"), None);
    let mut take = Transaction::new();
    take.require_absent(Key::account_alias(b, &alias))
        .put(account_alias(b, "shared-name"));
    ok(store.commit(take).await, "b takes the freed alias");
    assert_eq!(ok(store.account_by_alias(&alias).await, "lookup"), Some(b));

    // A commit that fails on another precondition must not keep the alias.
    let released: AccountAlias = ok("released-name".parse(), "alias");
    let mut failing = Transaction::new();
    failing
        .require_revision(
            Key::role(c, &unrelated),
            crate::service::store::Revision::new(1),
        )
        .put(account_alias(c, released.as_str()));
    let err = store.commit(failing).await;
    assert!(matches!(err, Err(StoreError::MissingKey { .. })), "{err:?}");
    let mut other = Transaction::new();
    other
        .require_absent(Key::account_alias(d, &released))
        .put(account_alias(d, released.as_str()));
    ok(
        store.commit(other).await,
        "the alias a failed commit claimed is free",
    );
    assert_eq!(
        ok(store.account_by_alias(&released).await, "lookup"),
        Some(d)
    );
}

/// `use_once` is true once per (scope, id), whatever the scope of others.
pub async fn use_once_is_once(store: &dyn IamStore) {
    let id = "arn:aws:iam::000000000304:mfa/dev#56666667";
    assert!(ok(
        store.use_once(ReplayScope::TotpStep, id, later()).await,
        "first"
    ));
    assert!(!ok(
        store.use_once(ReplayScope::TotpStep, id, later()).await,
        "second"
    ));
    assert!(!ok(
        store.use_once(ReplayScope::TotpStep, id, later()).await,
        "third"
    ));
    assert!(ok(
        store.use_once(ReplayScope::JwtId, id, later()).await,
        "other scope"
    ));
    assert!(ok(
        store
            .use_once(ReplayScope::SamlAssertion, id, later())
            .await,
        "third scope"
    ));
    let next = "arn:aws:iam::000000000304:mfa/dev#56666668";
    assert!(ok(
        store.use_once(ReplayScope::TotpStep, next, later()).await,
        "next step"
    ));
    let long = "x".repeat(MAX_REPLAY_ID_LEN);
    assert!(ok(
        store.use_once(ReplayScope::JwtId, &long, later()).await,
        "longest id"
    ));
    for bad in [String::new(), "x".repeat(MAX_REPLAY_ID_LEN + 1)] {
        let err = store.use_once(ReplayScope::JwtId, &bad, later()).await;
        assert!(
            matches!(err, Err(StoreError::ReplayIdLength { .. })),
            "{err:?}"
        );
    }
}

/// Of many concurrent `use_once` calls for one id, exactly one is true.
pub async fn use_once_is_once_under_concurrency(store: Arc<dyn IamStore>) {
    for round in 0..4 {
        let id = format!("https://issuer.example/#jti-{round}");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (store, id) = (Arc::clone(&store), id.clone());
            tasks.spawn(async move { store.use_once(ReplayScope::JwtId, &id, later()).await });
        }
        let mut firsts = 0;
        while let Some(joined) = tasks.join_next().await {
            if ok(ok(joined, "task"), "use_once") {
                firsts += 1;
            }
        }
        assert_eq!(firsts, 1, "round {round}");
    }
}

/// Usage is recorded only for existing records, changes no revision or
/// generation, and goes away with the record.
pub async fn usage_is_kept_beside_records(store: &dyn IamStore) {
    let a = account(305);
    let key = Key::role(a, &ok("used".parse(), "n"));
    let used = LastUsed {
        date: t0(),
        service: Some("sts".into()),
        region: Some(ok("us-east-1".parse(), "region")),
    };
    assert!(!ok(store.record_use(&key, used.clone()).await, "absent"));
    assert!(ok(store.last_used(&key).await, "read").is_none());

    let mut txn = Transaction::new();
    txn.put(role(a, "used", "/"));
    let revision = ok(store.commit(txn).await, "create");
    let generation = ok(store.generation().await, "generation");
    assert!(ok(store.record_use(&key, used.clone()).await, "present"));
    assert_eq!(ok(store.last_used(&key).await, "read"), Some(used.clone()));
    let read = ok(ok(store.get(&key).await, "get").ok_or("missing"), "role");
    assert_eq!(
        read.revision, revision,
        "a use is not a write of the record"
    );
    assert_eq!(ok(store.generation().await, "generation"), generation);

    let mut delete = Transaction::new();
    delete.delete(key.clone());
    ok(store.commit(delete).await, "delete");
    assert!(
        ok(store.last_used(&key).await, "read").is_none(),
        "usage goes with the record"
    );
    let mut again = Transaction::new();
    again.put(role(a, "used", "/"));
    ok(store.commit(again).await, "re-create");
    assert!(
        ok(store.last_used(&key).await, "read").is_none(),
        "a new role starts unused"
    );
}
