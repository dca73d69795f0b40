//! The store conformance suite against the Redis adapter, on a standalone
//! server and on a 3-master Cluster (real servers, see `redis_server`),
//! and the adapter's behaviour across replicas and outages.

use std::sync::Arc;
use std::time::Duration;

use stsd::adapters::redis::{RedisMode, RedisSettings, RedisStore};
use stsd::domain::clock::FixedClock;
use stsd::domain::secret::SecretUrl;
use stsd::service::error::{ErrorCode, ServiceError};
use stsd::service::sessions::Revocations;
use stsd::service::store::conformance::{self, account, role};
use stsd::service::store::{
    EntityReader, EntityWriter, Key, ReplayGuard, ReplayScope, StoreGeneration, Timestamp,
    Transaction,
};

use crate::redis_server::{RedisCluster, RedisSentinel, RedisServer, available};

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_secs(1_700_000_000))
}

/// Settings for `mode` with a prefix of its own and short timeouts.
pub(crate) fn settings(mode: RedisMode, prefix: &str) -> RedisSettings {
    RedisSettings {
        mode,
        prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(1000),
        invalidation_poll: Duration::from_millis(200),
        ca_pem: None,
    }
}

/// Standalone settings for `url`.
pub(crate) fn standalone(url: &str, prefix: &str) -> RedisSettings {
    settings(
        RedisMode::Standalone {
            url: SecretUrl::new(url.to_owned()),
        },
        prefix,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_conforms_on_standalone() {
    if !available() {
        return;
    }
    let server = RedisServer::start();
    let store = RedisStore::open(&standalone(&server.url(), "conf:"), clock())
        .await
        .unwrap();
    conformance::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_conforms_on_a_cluster() {
    if !available() {
        return;
    }
    let cluster = RedisCluster::start();
    let seeds = cluster.urls().into_iter().map(SecretUrl::new).collect();
    let store = RedisStore::open(&settings(RedisMode::Cluster { seeds }, "conf:"), clock())
        .await
        .unwrap();
    conformance::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_conforms_through_sentinel() {
    if !available() {
        return;
    }
    let master = RedisServer::start();
    let sentinel = RedisSentinel::start(master.port());
    let mode = RedisMode::Sentinel {
        sentinels: vec![SecretUrl::new(sentinel.url())],
        master: "mymaster".to_owned(),
        url: None,
    };
    let store = RedisStore::open(&settings(mode, "conf:"), clock())
        .await
        .unwrap();
    conformance::run_all(Arc::new(store)).await;
}

/// `rediss://` through rustls, trusting a private CA (`ca_file`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_speaks_tls_with_a_private_ca() {
    if !available() {
        return;
    }
    let (server, ca) = RedisServer::start_tls();
    let url = format!("rediss://127.0.0.1:{}", server.port());
    // Without the CA the server's certificate is refused.
    let mut untrusted = standalone(&url, "tls:");
    untrusted.connect_timeout = Duration::from_secs(2);
    assert!(RedisStore::open(&untrusted, clock()).await.is_err());
    let mut trusted = standalone(&url, "tls:");
    trusted.ca_pem = Some(ca);
    let store = RedisStore::open(&trusted, clock()).await.unwrap();
    let mut txn = Transaction::new();
    txn.put(role(account(3), "tls", "/"));
    store.commit(txn).await.unwrap();
    let key = Key::role(account(3), &"tls".parse().unwrap());
    assert!(store.get(&key).await.unwrap().is_some());
}

/// A commit on one replica is seen by another's `changes_seen` through
/// pub/sub, well before its poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_invalidates_other_replicas() {
    if !available() {
        return;
    }
    let server = RedisServer::start();
    let mut slow = standalone(&server.url(), "inv:");
    slow.invalidation_poll = Duration::from_secs(3600);
    let a = RedisStore::open(&slow, clock()).await.unwrap();
    let b = RedisStore::open(&slow, clock()).await.unwrap();
    // Let b's subscription settle.
    wait_until(|| b.changes_seen() > 0).await;
    let before = b.changes_seen();
    let mut txn = Transaction::new();
    txn.put(role(account(1), "shared", "/"));
    a.commit(txn).await.unwrap();
    wait_until(|| b.changes_seen() > before).await;
    let key = Key::role(account(1), &"shared".parse().unwrap());
    assert!(b.get(&key).await.unwrap().is_some());
}

/// A revocation on one replica wakes the revocation refresh of another
/// through pub/sub, well before its poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_wakes_other_replicas() {
    use stsd::domain::sessions::{RevocationId, RevocationRule, RevocationTarget};
    use stsd::service::store::RevocationStore;

    if !available() {
        return;
    }
    let server = RedisServer::start();
    let mut slow = standalone(&server.url(), "rev:");
    slow.invalidation_poll = Duration::from_secs(3600);
    let a = RedisStore::open(&slow, clock()).await.unwrap();
    let b = RedisStore::open(&slow, clock()).await.unwrap();
    wait_until(|| b.changes_seen() > 0).await;
    // The wake-up of b's own (re)subscription.
    tokio::time::timeout(Duration::from_secs(5), b.revocations_changed())
        .await
        .unwrap();
    let rule = RevocationRule {
        id: RevocationId::from_random([9; 16]),
        account: account(4),
        target: RevocationTarget::Account,
        issued_before: 1_700_000_000,
        created_at: 1_700_000_000,
    };
    let counter = a.put_revocation(&rule).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), b.revocations_changed())
        .await
        .expect("b hears of the revocation");
    assert_eq!(b.revocation_counter().await.unwrap(), counter);
}

/// With Redis down, calls fail fast with `ServiceUnavailable` and no
/// secret in the message; the store recovers by itself when Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_fast_and_recovers() {
    if !available() {
        return;
    }
    let mut server = RedisServer::start();
    let url = format!("redis://:s3cret-pass@127.0.0.1:{}", server.port());
    // The server has no password: a password on the URL is refused, so
    // connect without one but prove the redaction on a URL that has one.
    assert!(!format!("{:?}", SecretUrl::new(url.clone())).contains("s3cret"));
    let fixed = clock();
    let store = RedisStore::open(&standalone(&server.url(), "down:"), fixed.clone())
        .await
        .unwrap();
    let store = Arc::new(store);
    let revocations = Revocations::load(store.clone(), fixed.clone())
        .await
        .unwrap()
        .fail_closed_after(Duration::from_secs(30));
    let key = Key::role(account(2), &"r".parse().unwrap());
    server.stop();
    let started = tokio::time::Instant::now();
    let mut txn = Transaction::new();
    txn.put(role(account(2), "r", "/"));
    let err = store.commit(txn).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "fails fast");
    let wire = ServiceError::from(err);
    assert_eq!(wire.code(), ErrorCode::ServiceUnavailable);
    assert!(!wire.message().contains("127.0.0.1"));
    assert!(
        store
            .use_once(
                ReplayScope::JwtId,
                "x",
                Timestamp::from_unix_secs(4_000_000_000)
            )
            .await
            .is_err()
    );

    // Revocation checks: the last rules serve for the grace, then fail
    // closed.
    assert!(revocations.refresh().await.is_err());
    revocations.ensure_current().unwrap();
    fixed.advance(Duration::from_secs(31));
    let closed = ServiceError::from(revocations.ensure_current().unwrap_err());
    assert_eq!(closed.code(), ErrorCode::ServiceUnavailable);

    server.restart();
    let mut recovered = false;
    for _ in 0..100 {
        if store.get(&key).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the store reconnects by itself");
    let mut txn = Transaction::new();
    txn.put(role(account(2), "r", "/"));
    store.commit(txn).await.unwrap();
    assert!(store.get(&key).await.unwrap().is_some());
    revocations.refresh().await.unwrap();
    revocations.ensure_current().unwrap();
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not met within 5 s");
}

/// Two `stsd serve` replicas on one Redis (`STSD_STORE_BACKEND=redis`,
/// `STSD_REDIS_URL`): a user created through one is read through the
/// other, and a user key created through one signs requests the other
/// verifies.
#[test]
fn two_replicas_share_one_redis() {
    use stsd::domain::secret::SecretAccessKey;

    use crate::client::{Creds, iam};
    use crate::daemon::{Daemon, Options};

    if !available() {
        return;
    }
    let server = RedisServer::start();
    let root: Creds = (
        "AKIAIOSFODNN7EXAMPLE".to_owned(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".parse().unwrap(),
    );
    let env = vec![
        ("STSD_STORE_BACKEND".to_owned(), "redis".to_owned()),
        ("STSD_REDIS_URL".to_owned(), server.url()),
        (
            "STSD_MASTER_KEY".to_owned(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        ),
        ("STSD_ROOT_ACCESS_KEY_ID".to_owned(), root.0.clone()),
        (
            "STSD_ROOT_SECRET_ACCESS_KEY".to_owned(),
            root.1.expose_secret().to_owned(),
        ),
    ];
    let start = || {
        Daemon::start_with(Options {
            env: env.clone(),
            ..Options::default()
        })
    };
    let (a, b) = (start(), start());
    let created = iam(&a, &root, "Action=CreateUser&UserName=alice");
    assert_eq!(created.status, 200, "{}", created.body);
    let read = iam(&b, &root, "Action=GetUser&UserName=alice");
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.body.contains("<UserName>alice</UserName>"));

    let key = iam(&a, &root, "Action=CreateAccessKey&UserName=alice");
    assert_eq!(key.status, 200, "{}", key.body);
    let alice: Creds = (
        key.xml("AccessKeyId").unwrap().to_owned(),
        key.xml("SecretAccessKey")
            .unwrap()
            .parse::<SecretAccessKey>()
            .unwrap(),
    );
    // Alice has no policy: verified by b, then denied by policy.
    let denied = iam(&b, &alice, "Action=ListUsers");
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.code(), "AccessDenied", "{}", denied.body);
    // A duplicate name through the other replica is refused.
    let again = iam(&b, &root, "Action=CreateUser&UserName=ALICE");
    assert_eq!(again.code(), "EntityAlreadyExists", "{}", again.body);
}
