//! Conformance: optimistic concurrency, atomicity and the generation.

use std::sync::Arc;

use super::{account, group, ok, role, user};
use crate::service::store::model::RoleRecord;
use crate::service::store::{
    IamStore, Key, Kind, ListQuery, Record, StoreError, Transaction, Versioned, commit_with_retry,
    fetch,
};

async fn read_role(store: &dyn IamStore, key: &Key) -> Versioned<RoleRecord> {
    let read = ok(fetch::<RoleRecord>(store, key).await, "fetch role");
    ok(read.ok_or("missing"), "role")
}

fn role_key(n: u64, name: &str) -> Key {
    Key::role(account(n), &ok(name.parse(), "role name"))
}

/// A commit that requires a revision fails once the record moved on, and
/// reports the kind of failure.
pub async fn stale_revisions_conflict(store: &dyn IamStore) {
    let a = account(201);
    let key = role_key(201, "app");
    let mut create = Transaction::new();
    create.require_absent(key.clone()).put(role(a, "app", "/"));
    let first = ok(store.commit(create).await, "create");
    let read = read_role(store, &key).await;
    assert_eq!(read.revision, first);

    let mut update = read.record.clone();
    update.description = Some("one".into());
    let mut txn = Transaction::new();
    txn.require_unchanged(&read).put(update);
    let second = ok(store.commit(txn).await, "update");
    assert!(second > first);

    let mut stale = read.record.clone();
    stale.description = Some("two".into());
    let mut txn = Transaction::new();
    txn.require_unchanged(&read).put(stale);
    match store.commit(txn).await {
        Err(e @ StoreError::StaleRevision { .. }) => {
            assert!(e.is_precondition_failure());
            let StoreError::StaleRevision {
                expected, found, ..
            } = e
            else {
                return;
            };
            assert_eq!((expected, found), (first, second));
        }
        other => panic_on(other, "a stale revision must conflict"),
    }
    let now = read_role(store, &key).await;
    assert_eq!(now.record.description.as_deref(), Some("one"));
    assert_eq!(now.revision, second);
}

#[expect(
    clippy::panic,
    reason = "a test suite reports a broken rule by panicking"
)]
fn panic_on<T: std::fmt::Debug>(got: T, rule: &str) {
    panic!("{rule}, got {got:?}");
}

/// Two read-modify-writes from the same read, committed concurrently:
/// exactly one wins, the other applies nothing.
pub async fn concurrent_writers_exactly_one_wins(store: &dyn IamStore) {
    let a = account(202);
    let key = role_key(202, "race");
    let mut create = Transaction::new();
    create.put(role(a, "race", "/"));
    ok(store.commit(create).await, "create");
    for round in 0..10 {
        let read = read_role(store, &key).await;
        let txn = |who: &str| {
            let mut record = read.record.clone();
            record.description = Some(format!("{who}{round}"));
            let mut txn = Transaction::new();
            txn.require_unchanged(&read).put(record);
            txn
        };
        let (left, right) = tokio::join!(store.commit(txn("left")), store.commit(txn("right")));
        let winner = match (&left, &right) {
            (Ok(_), Err(e)) if e.is_precondition_failure() => "left",
            (Err(e), Ok(_)) if e.is_precondition_failure() => "right",
            _ => {
                panic_on((left, right), "exactly one concurrent writer must win");
                return;
            }
        };
        let now = read_role(store, &key).await;
        assert_eq!(now.record.description, Some(format!("{winner}{round}")));
    }
}

/// Any failed precondition leaves every key of the transaction as it was,
/// and does not advance the generation.
pub async fn failed_precondition_applies_nothing(store: &dyn IamStore) {
    let a = account(203);
    let mut seed = Transaction::new();
    seed.put(user(a, "keep", "/")).put(group(a, "team"));
    let seeded = ok(store.commit(seed).await, "seed");
    let keep = Key::user(a, &ok("keep".parse(), "n"));
    let team = Key::group(a, &ok("team".parse(), "n"));
    let fresh = Key::user(a, &ok("fresh".parse(), "n"));
    let before = ok(
        store.list(a, Kind::User, &ListQuery::first(100)).await,
        "before",
    );

    let failing: [fn(&mut Transaction, &Key, &Key, crate::service::store::Revision); 3] = [
        |t, keep, _, _| {
            t.require_absent(keep.clone());
        },
        |t, _, team, rev| {
            t.require_revision(
                team.clone(),
                crate::service::store::Revision::new(rev.get() + 1000),
            );
        },
        |t, keep, _, rev| {
            t.require_revision(keep.clone(), rev)
                .require_revision(Key::role(keep.account_id(), &ok("ghost".parse(), "n")), rev);
        },
    ];
    for (i, precondition) in failing.into_iter().enumerate() {
        let generation = ok(store.generation().await, "generation");
        let mut txn = Transaction::new();
        txn.put(user(a, "fresh", "/"));
        let mut changed = user(a, "keep", "/changed/");
        changed.tags.clear();
        txn.put(changed).delete(team.clone());
        precondition(&mut txn, &keep, &team, seeded);
        let result = store.commit(txn).await;
        assert!(
            result
                .as_ref()
                .is_err_and(StoreError::is_precondition_failure),
            "case {i}: {result:?}"
        );
        assert!(
            ok(store.get(&fresh).await, "get").is_none(),
            "case {i}: put applied"
        );
        assert!(
            ok(store.get(&team).await, "get").is_some(),
            "case {i}: delete applied"
        );
        let after = ok(
            store.list(a, Kind::User, &ListQuery::first(100)).await,
            "after",
        );
        assert_eq!(after, before, "case {i}: update applied");
        assert_eq!(
            ok(store.generation().await, "generation"),
            generation,
            "case {i}"
        );
    }
}

/// Every writing commit advances the generation; reads and check-only
/// commits do not.
pub async fn generation_increases_with_writes(store: &dyn IamStore) {
    let a = account(204);
    let g0 = ok(store.generation().await, "generation");
    let mut txn = Transaction::new();
    txn.put(role(a, "g", "/"));
    let revision = ok(store.commit(txn).await, "write");
    let g1 = ok(store.generation().await, "generation");
    assert!(g1 > g0);
    let key = role_key(204, "g");
    ok(store.get(&key).await, "read");
    let mut check = Transaction::new();
    check.require_revision(key.clone(), revision);
    ok(store.commit(check).await, "check-only commit");
    assert_eq!(ok(store.generation().await, "generation"), g1);
    let mut delete = Transaction::new();
    delete.delete(key);
    ok(store.commit(delete).await, "delete");
    assert!(ok(store.generation().await, "generation") > g1);
}

/// Transactions that break the commit rules are refused whole.
pub async fn invalid_transactions_are_refused(store: &dyn IamStore) {
    let a = account(205);
    let mut twice = Transaction::new();
    twice.put(role(a, "dup", "/")).put(role(a, "DUP", "/"));
    let err = store.commit(twice).await;
    assert!(
        matches!(err, Err(StoreError::InvalidTransaction { .. })),
        "{err:?}"
    );
    let mut put_and_delete = Transaction::new();
    put_and_delete
        .put(role(a, "pd", "/"))
        .delete(role_key(205, "pd"));
    let err = store.commit(put_and_delete).await;
    assert!(
        matches!(err, Err(StoreError::InvalidTransaction { .. })),
        "{err:?}"
    );
    let mut huge = Transaction::new();
    for i in 0..=crate::service::store::MAX_WRITES {
        huge.delete(role_key(205, &format!("r{i}")));
    }
    let err = store.commit(huge).await;
    assert!(
        matches!(err, Err(StoreError::TransactionTooLarge { .. })),
        "{err:?}"
    );
    assert!(ok(store.get(&role_key(205, "dup")).await, "get").is_none());
}

/// Concurrent read-modify-writes through `commit_with_retry` all land:
/// a counter incremented by every task ends at the number of tasks.
pub async fn retries_serialize_concurrent_updates(store: Arc<dyn IamStore>) {
    const TASKS: u32 = 6;
    let a = account(206);
    let key = role_key(206, "counter");
    let mut create = Transaction::new();
    create.put(Record::from(role(a, "counter", "/")));
    ok(store.commit(create).await, "create");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (store, key) = (Arc::clone(&store), key.clone());
        tasks.spawn(async move {
            let (store, key) = (store.as_ref(), &key);
            commit_with_retry(store, move || async move {
                let read = ok(
                    fetch::<RoleRecord>(store, key).await?.ok_or("missing"),
                    "role",
                );
                let mut record = read.record.clone();
                record.max_session_duration_secs += 1;
                let mut txn = Transaction::new();
                txn.require_unchanged(&read).put(record);
                Ok::<_, StoreError>((txn, ()))
            })
            .await
        });
    }
    let mut landed = 0;
    while let Some(joined) = tasks.join_next().await {
        match ok(joined, "task") {
            Ok(_) => landed += 1,
            Err(e) => assert!(e.is_precondition_failure(), "{e:?}"),
        }
    }
    let now = read_role(store.as_ref(), &key).await;
    assert_eq!(
        now.record.max_session_duration_secs,
        3600 + landed,
        "no lost update"
    );
    assert!(landed >= 1);
}
