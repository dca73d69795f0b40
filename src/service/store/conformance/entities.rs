//! Conformance: reading, listing, uniqueness, deletes and accounts.

use super::{
    access_key, account, account_alias, account_record, group, login_profile, managed_policy,
    mfa_device, oidc_provider, ok, password_policy, role, saml_provider, user,
};
use crate::service::store::model::{CredentialOwner, LoginProfileRecord, UserRecord};
use crate::service::store::{
    Entity, IamStore, Key, Kind, ListQuery, Page, Record, StoreError, Transaction, fetch,
};

/// Puts `record` alone, requiring it absent; returns the revision.
async fn create(
    store: &dyn IamStore,
    record: impl Into<Record>,
) -> crate::service::store::Revision {
    let record = record.into();
    let mut txn = Transaction::new();
    txn.require_absent(record.key()).put(record);
    ok(store.commit(txn).await, "create")
}

/// Every kind is stored under its key and read back unchanged, typed.
pub async fn put_get_every_kind(store: &dyn IamStore) {
    let a = account(101);
    let records: Vec<Record> = vec![
        account_record(a).into(),
        user(a, "Alice", "/eng/").into(),
        group(a, "Admins").into(),
        role(a, "Deploy", "/ci/").into(),
        managed_policy(a, "ReadOnly").into(),
        access_key(
            a,
            "AKIAIOSFODNN7EXAMPL1",
            CredentialOwner::User(ok("Alice".parse(), "name")),
        )
        .into(),
        mfa_device(a, "alice-phone").into(),
        saml_provider(a, "Okta").into(),
        oidc_provider(a, "https://token.actions.githubusercontent.com").into(),
        login_profile(a, "Alice").into(),
        password_policy(a).into(),
        account_alias(a, "conformance-101").into(),
    ];
    let mut kinds: Vec<Kind> = records.iter().map(Record::kind).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), Kind::ALL.len(), "fixtures cover every kind");
    for record in records {
        let revision = create(store, record.clone()).await;
        let read = ok(store.get(&record.key()).await, "get");
        let read = ok(read.ok_or("missing"), "record just written");
        assert_eq!(read.revision, revision);
        assert_eq!(read.record, record);
    }
    let alice = ok(
        fetch::<UserRecord>(store, &Key::user(a, &ok("ALICE".parse(), "n"))).await,
        "fetch",
    );
    let alice = ok(alice.ok_or("missing"), "typed read");
    assert_eq!(alice.record.name.as_str(), "Alice", "case is preserved");
    let profile = ok(
        fetch::<LoginProfileRecord>(store, &Key::login_profile(a, &ok("ALICE".parse(), "n"))).await,
        "fetch",
    );
    let profile = ok(profile.ok_or("missing"), "login profile by any case");
    assert_eq!(profile.record.user.as_str(), "Alice");
    let wrong = fetch::<UserRecord>(store, &Key::group(a, &ok("Admins".parse(), "n"))).await;
    assert!(
        matches!(wrong, Err(StoreError::CorruptRecord { .. })),
        "typed read of another kind"
    );
    assert!(
        ok(
            store.get(&Key::user(a, &ok("bob".parse(), "n"))).await,
            "get"
        )
        .is_none()
    );
}

fn names(page: &Page<Record>) -> Vec<String> {
    page.items
        .iter()
        .map(|v| v.record.key().name().to_owned())
        .collect()
}

/// Listing is by lower-cased name, paged with a marker, one kind and one
/// account at a time.
pub async fn list_pages_in_name_order(store: &dyn IamStore) {
    let a = account(102);
    let mut txn = Transaction::new();
    let mut expected = Vec::new();
    for i in 0..25 {
        let name = if i % 2 == 0 {
            format!("User{i:02}")
        } else {
            format!("user{i:02}")
        };
        expected.push(name.to_ascii_lowercase());
        txn.put(user(a, &name, "/"));
    }
    txn.put(group(a, "user-group"))
        .put(role(a, "user-role", "/"));
    ok(store.commit(txn).await, "seed users");
    expected.sort();

    let mut seen = Vec::new();
    let mut query = ListQuery::first(10);
    let mut pages = 0;
    loop {
        let page = ok(store.list(a, Kind::User, &query).await, "list");
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(names(&page));
        match page.next {
            Some(marker) => query.after = Some(marker),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    let all = ok(
        store.list(a, Kind::User, &ListQuery::first(1000)).await,
        "list all",
    );
    assert_eq!(all.items.len(), 25);
    assert_eq!(all.next, None, "no marker on the last page");
    let exact = ok(
        store.list(a, Kind::User, &ListQuery::first(25)).await,
        "exact page",
    );
    assert_eq!(exact.next, None, "a full last page has no marker");
    let zero = ok(
        store.list(a, Kind::User, &ListQuery::first(0)).await,
        "limit 0",
    );
    assert_eq!(zero.items.len(), 1, "limits are clamped to at least 1");
    let groups = ok(
        store.list(a, Kind::Group, &ListQuery::first(100)).await,
        "groups",
    );
    assert_eq!(names(&groups), vec!["user-group"]);
    let empty = ok(
        store.list(a, Kind::MfaDevice, &ListQuery::first(100)).await,
        "none",
    );
    assert!(empty.items.is_empty() && empty.next.is_none());
    let after_last = ListQuery {
        after: Some("zzz".into()),
        ..ListQuery::first(10)
    };
    let tail = ok(store.list(a, Kind::User, &after_last).await, "after last");
    assert!(tail.items.is_empty());
}

/// `path_prefix` keeps records whose path starts with it, and paging still
/// counts only matching records.
pub async fn list_filters_by_path_prefix(store: &dyn IamStore) {
    let a = account(103);
    let mut txn = Transaction::new();
    for (name, path) in [
        ("a", "/eng/"),
        ("b", "/eng/web/"),
        ("c", "/ops/"),
        ("d", "/"),
        ("e", "/eng/"),
        ("f", "/engineering/"),
    ] {
        txn.put(role(a, name, path));
    }
    ok(store.commit(txn).await, "seed roles");
    let query = |prefix: &str, limit| ListQuery {
        after: None,
        limit,
        path_prefix: Some(prefix.to_owned()),
    };
    let eng = ok(store.list(a, Kind::Role, &query("/eng/", 100)).await, "eng");
    assert_eq!(names(&eng), vec!["a", "b", "e"]);
    let page = ok(
        store.list(a, Kind::Role, &query("/eng", 2)).await,
        "eng page",
    );
    assert_eq!(names(&page), vec!["a", "b"]);
    assert_eq!(page.next.as_deref(), Some("b"));
    let rest = ListQuery {
        after: page.next,
        ..query("/eng", 2)
    };
    let rest = ok(store.list(a, Kind::Role, &rest).await, "eng rest");
    assert_eq!(names(&rest), vec!["e", "f"]);
    assert_eq!(rest.next, None);
    let all = ok(
        store.list(a, Kind::Role, &query("/", 100)).await,
        "root prefix",
    );
    assert_eq!(all.items.len(), 6);
    let none = ok(
        store.list(a, Kind::Role, &query("/nope/", 100)).await,
        "no match",
    );
    assert!(none.items.is_empty() && none.next.is_none());
}

/// `Alice` and `alice` are one key: creating the second fails, and reads
/// by any case find the first with its case intact.
pub async fn names_are_unique_case_insensitively(store: &dyn IamStore) {
    let a = account(104);
    create(store, user(a, "Alice", "/")).await;
    let mut txn = Transaction::new();
    let twin = user(a, "ALICE", "/");
    txn.require_absent(twin.key()).put(twin);
    let err = store.commit(txn).await;
    assert!(
        matches!(err, Err(StoreError::DuplicateKey { .. })),
        "{err:?}"
    );
    let read = ok(
        store.get(&Key::user(a, &ok("aLiCe".parse(), "n"))).await,
        "get",
    );
    let read = ok(
        ok(read.ok_or("missing"), "read").downcast::<UserRecord>(),
        "typed",
    );
    assert_eq!(read.record.name.as_str(), "Alice");
    // The same name in another kind is another key.
    create(store, role(a, "Alice", "/")).await;
}

/// Deletes remove records; re-creating a name starts a newer revision.
pub async fn deletes_remove_records(store: &dyn IamStore) {
    let a = account(105);
    let first = create(store, user(a, "carol", "/")).await;
    let key = Key::user(a, &ok("Carol".parse(), "n"));
    let mut txn = Transaction::new();
    txn.require_revision(key.clone(), first).delete(key.clone());
    ok(store.commit(txn).await, "delete");
    assert!(ok(store.get(&key).await, "get").is_none());
    let mut again = Transaction::new();
    again
        .require_revision(key.clone(), first)
        .delete(key.clone());
    assert!(matches!(
        store.commit(again).await,
        Err(StoreError::MissingKey { .. })
    ));
    let mut blind = Transaction::new();
    blind.delete(key.clone());
    ok(
        store.commit(blind).await,
        "deleting an absent key is not an error",
    );
    let second = create(store, user(a, "carol", "/")).await;
    assert!(second > first, "revisions are never reused for a key");
}

/// Records of one account are invisible to another; accounts are listed
/// and created idempotently.
pub async fn accounts_are_isolated(store: &dyn IamStore) {
    let (a, b) = (account(106), account(107));
    create(store, user(a, "dave", "/a/")).await;
    create(store, user(b, "dave", "/b/")).await;
    let in_a = ok(
        store.list(a, Kind::User, &ListQuery::first(10)).await,
        "list a",
    );
    assert_eq!(in_a.items.len(), 1);
    let dave_b = ok(
        store.get(&Key::user(b, &ok("dave".parse(), "n"))).await,
        "get b",
    );
    let dave_b = ok(
        ok(dave_b.ok_or("missing"), "b").downcast::<UserRecord>(),
        "typed",
    );
    assert_eq!(dave_b.record.path.as_str(), "/b/");
    let mut cross = Transaction::new();
    cross.put(user(a, "erin", "/")).put(user(b, "erin", "/"));
    let err = store.commit(cross).await;
    assert!(
        matches!(err, Err(StoreError::InvalidTransaction { .. })),
        "{err:?}"
    );

    let created = ok(store.ensure_account(account_record(a)).await, "ensure");
    let mut renamed = account_record(a);
    renamed.alias = Some("ignored".into());
    let again = ok(store.ensure_account(renamed).await, "ensure again");
    assert_eq!(again, created, "an existing account is returned unchanged");
    ok(store.ensure_account(account_record(b)).await, "ensure b");
    let accounts = ok(store.accounts().await, "accounts");
    assert!(accounts.contains(&a) && accounts.contains(&b));
    assert!(
        accounts.windows(2).all(|w| w.first() < w.get(1)),
        "in order"
    );
}
