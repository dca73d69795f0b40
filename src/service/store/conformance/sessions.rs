//! Conformance: revocation rules and the issued-session log.

use super::{account, ok};
use crate::domain::ids::{AccessKeyId, AccountId, Arn};
use crate::domain::sessions::{
    IssuedSession, RevocationId, RevocationRule, RevocationTarget, SessionFilter,
};
use crate::service::store::{IamStore, MAX_SESSION_PAGE, Timestamp};

const T: u64 = 1_700_000_000;

fn rule(n: u8, account: AccountId, target: RevocationTarget, issued_before: u64) -> RevocationRule {
    RevocationRule {
        id: RevocationId::from_random([n; 16]),
        account,
        target,
        issued_before,
        created_at: issued_before,
    }
}

/// A session key id of `account` numbered `n`.
fn key_id(account: AccountId, n: u32) -> AccessKeyId {
    let mut bytes = n.to_be_bytes().into_iter().cycle();
    let mut rng = |buf: &mut [u8]| buf.iter_mut().for_each(|b| *b = bytes.next().unwrap_or(0));
    crate::domain::credential::mint_keys(account, &mut rng).0
}

/// A recorded role session of `role` in `account`.
pub fn issued(account: AccountId, n: u32, role: &str, expires_at: u64) -> IssuedSession {
    let role_arn: Arn = ok(format!("arn:aws:iam::{account}:role/{role}").parse(), "arn");
    IssuedSession {
        access_key_id: key_id(account, n),
        account,
        principal_arn: ok(
            format!("arn:aws:sts::{account}:assumed-role/{role}/s{n}").parse(),
            "arn",
        ),
        role_arn: Some(role_arn),
        source_identity: n.is_multiple_of(2).then(|| "even".to_owned()),
        provider: None,
        subject: None,
        issued_at: expires_at.saturating_sub(3600),
        expires_at,
        request_id: format!("req-{n}"),
    }
}

/// Rules are kept by id, read back whole, counted, and purged only once
/// past their retention.
pub async fn revocations_are_kept_counted_and_purged(store: &dyn IamStore) {
    let a = account(701);
    let before = ok(store.revocation_counter().await, "counter");
    let role = rule(
        1,
        a,
        RevocationTarget::Role {
            role_arn: ok("arn:aws:iam::000000000701:role/r".parse(), "arn"),
        },
        T,
    );
    let all = rule(2, a, RevocationTarget::Account, T);
    let c1 = ok(store.put_revocation(&role).await, "put role rule");
    let c2 = ok(store.put_revocation(&all).await, "put account rule");
    assert!(
        c1 > before && c2 > c1,
        "the counter increases with each put"
    );
    assert_eq!(ok(store.revocation_counter().await, "counter"), c2);
    let (counter, rules) = ok(store.revocations().await, "read rules");
    assert_eq!(counter, c2);
    assert!(rules.contains(&role) && rules.contains(&all));

    // A second put of the same id replaces the rule.
    let mut later = role.clone();
    later.issued_before = T + 10;
    ok(store.put_revocation(&later).await, "replace");
    let (_, rules) = ok(store.revocations().await, "read rules");
    let mine: Vec<_> = rules.iter().filter(|r| r.account == a).collect();
    assert_eq!(mine.len(), 2);
    assert!(rules.contains(&later) && !rules.contains(&role));

    // Not purged before its retention ends; purged after.
    let counter = ok(store.revocation_counter().await, "counter");
    let at = |secs| Timestamp::from_unix_secs(secs);
    ok(
        store.purge_revocations(at(later.retain_until())).await,
        "purge",
    );
    let (_, rules) = ok(store.revocations().await, "read rules");
    assert!(rules.contains(&later) && rules.contains(&all));
    let purged = ok(
        store.purge_revocations(at(later.retain_until() + 1)).await,
        "purge",
    );
    assert!(purged >= 1);
    let (_, rules) = ok(store.revocations().await, "read rules");
    assert!(
        !rules.contains(&later),
        "the role rule is past its retention"
    );
    assert!(rules.contains(&all), "the account rule lives 36 h");
    assert_eq!(
        ok(store.revocation_counter().await, "counter"),
        counter,
        "purges leave the counter alone"
    );
    ok(
        store.purge_revocations(at(all.retain_until() + 1)).await,
        "purge",
    );
    let (_, rules) = ok(store.revocations().await, "read rules");
    assert!(!rules.iter().any(|r| r.account == a));
}

/// Sessions are recorded in batches, read by key id, listed per account
/// in key order with a filter and pages, and gone once expired.
pub async fn issued_sessions_are_listed_until_they_expire(store: &dyn IamStore) {
    let (a, b) = (account(702), account(703));
    let now = Timestamp::from_unix_secs(T);
    let mut batch: Vec<_> = (0..7).map(|n| issued(a, n, "build", T + 100)).collect();
    batch.push(issued(a, 7, "deploy", T + 100));
    batch.push(issued(a, 8, "build", T - 1));
    batch.push(issued(b, 9, "build", T + 100));
    ok(store.record_sessions(&batch).await, "record");
    ok(store.record_sessions(&[]).await, "record nothing");

    let first = ok(batch.first().ok_or("empty"), "batch");
    let found = ok(store.issued_session(&first.access_key_id, now).await, "get");
    assert_eq!(found.as_ref(), Some(first));
    let expired = ok(batch.get(8).ok_or("short"), "batch");
    assert_eq!(
        ok(
            store.issued_session(&expired.access_key_id, now).await,
            "get"
        ),
        None,
        "an expired session is not live"
    );

    let build = SessionFilter {
        role_arn: Some(ok("arn:aws:iam::000000000702:role/BUILD".parse(), "arn")),
        ..SessionFilter::default()
    };
    let mut want: Vec<_> = batch.iter().take(7).cloned().collect();
    want.sort_by(|x, y| x.access_key_id.cmp(&y.access_key_id));
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = ok(
            store.list_sessions(a, &build, now, after.as_ref(), 3).await,
            "list",
        );
        assert!(page.items.len() <= 3);
        got.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        got, want,
        "every live build session of the account, in order"
    );

    let even = SessionFilter {
        source_identity: Some("even".to_owned()),
        ..build.clone()
    };
    let page = ok(
        store
            .list_sessions(a, &even, now, None, MAX_SESSION_PAGE * 2)
            .await,
        "list",
    );
    assert_eq!(page.items.len(), 4);
    assert_eq!(page.next, None);
    let all_b = ok(
        store
            .list_sessions(b, &SessionFilter::default(), now, None, 10)
            .await,
        "list",
    );
    assert_eq!(all_b.items.len(), 1, "accounts are isolated");

    // Purging removes expired sessions only, at most `max` at a time.
    // (An adapter may already have purged the expired one while recording.)
    ok(store.purge_sessions(now, 1_000).await, "purge");
    let still = ok(store.list_sessions(a, &build, now, None, 100).await, "list");
    assert_eq!(still.items.len(), 7, "live sessions survive a purge");
    let later = Timestamp::from_unix_secs(T + 100);
    assert_eq!(ok(store.purge_sessions(later, 2).await, "purge"), 2);
    ok(store.purge_sessions(later, 1_000).await, "purge");
    let left = ok(
        store
            .list_sessions(a, &SessionFilter::default(), now, None, 100)
            .await,
        "list",
    );
    assert!(left.items.is_empty(), "purged sessions are gone");
    assert_eq!(
        ok(store.issued_session(&first.access_key_id, now).await, "get"),
        None
    );
}
