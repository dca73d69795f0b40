use std::time::Duration;

use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};

use super::*;
use crate::domain::clock::FixedClock;
use crate::service::store::conformance::{self, account, role};

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_secs(1_700_000_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    conformance::run_all(Arc::new(store)).await;
}

#[tokio::test]
async fn records_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::role(account(1), &"kept".parse().unwrap());
    let revision = {
        let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
        let mut txn = Transaction::new();
        txn.put(role(account(1), "kept", "/"));
        store.commit(txn).await.unwrap()
    };
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    let read = store.get(&key).await.unwrap().unwrap();
    assert_eq!(read.revision, revision);
    assert_eq!(store.generation().await.unwrap(), revision.get());
    let mut txn = Transaction::new();
    txn.put(role(account(1), "next", "/"));
    assert!(
        store.commit(txn).await.unwrap() > revision,
        "revisions continue after reopening"
    );
}

#[tokio::test]
async fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = EmbeddedStore::open(dir.path(), clock()).unwrap();
    assert!(EmbeddedStore::open(dir.path(), clock()).is_err());
}

#[cfg(unix)]
#[tokio::test]
async fn data_dir_and_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let store = EmbeddedStore::open(&dir, clock()).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(store.path(), dir.join(FILE_NAME));
}

#[tokio::test]
async fn expired_replay_entries_are_purged() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = EmbeddedStore::open(dir.path(), clock.clone()).unwrap();
    let soon = Timestamp::from_unix_secs(1_700_000_060);
    for i in 0..10 {
        assert!(
            store
                .use_once(ReplayScope::SamlAssertion, &format!("a{i}"), soon)
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .use_once(ReplayScope::SamlAssertion, "a0", soon)
            .await
            .unwrap()
    );
    clock.advance(Duration::from_secs(61));
    // The next call purges the expired batch; a0 is then forgotten (its
    // validity ended, so callers refuse it by its own expiry).
    store
        .use_once(ReplayScope::SamlAssertion, "b", soon)
        .await
        .unwrap();
    let left = {
        let txn = store.db.begin_read().unwrap();
        let table = txn
            .open_table(TableDefinition::<&str, u64>::new("replay"))
            .unwrap();
        table.len().unwrap()
    };
    assert_eq!(left, 1, "only the entry written after the purge is left");
}

#[tokio::test]
async fn uses_are_held_back_visible_at_once_and_written_by_flush() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::role(account(1), &"used".parse().unwrap());
    let used = LastUsed {
        date: Timestamp::from_unix_secs(1_700_000_000),
        service: Some("sts".into()),
        region: None,
    };
    {
        let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
        let mut txn = Transaction::new();
        txn.put(role(account(1), "used", "/"));
        store.commit(txn).await.unwrap();
        assert!(store.record_use(&key, used.clone()).await.unwrap());
        // Pending, not yet in the file, but already visible.
        assert_eq!(store.last_used(&key).await.unwrap(), Some(used.clone()));
        assert_eq!(tables::last_used(&store.db, &key).unwrap(), None);
        store.flush().await.unwrap();
        assert_eq!(
            tables::last_used(&store.db, &key).unwrap(),
            Some(used.clone())
        );
    }
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    assert_eq!(store.last_used(&key).await.unwrap(), Some(used.clone()));

    // A pending use of a record deleted before the flush is dropped.
    assert!(store.record_use(&key, used.clone()).await.unwrap());
    let mut txn = Transaction::new();
    txn.delete(key.clone());
    store.commit(txn).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(store.last_used(&key).await.unwrap(), None);
    // No record, nothing kept.
    assert!(!store.record_use(&key, used).await.unwrap());
    assert_eq!(store.last_used(&key).await.unwrap(), None);
}

#[tokio::test]
async fn sessions_kept_in_the_redb_file_by_earlier_versions_move_to_the_log() {
    use crate::service::store::conformance::sessions::issued;
    const OLD: TableDefinition<&str, &[u8]> = TableDefinition::new("issued_session");
    const OLD_EXPIRY: TableDefinition<(u64, &str), ()> =
        TableDefinition::new("issued_session_expiry");
    let dir = tempfile::tempdir().unwrap();
    let now = clock().now().as_secs();
    let now: u64 = now;
    let (live, gone) = (
        issued(account(9), 1, "app", now + 600),
        issued(account(9), 2, "app", now - 1),
    );
    drop(EmbeddedStore::open(dir.path(), clock()).unwrap());
    {
        let db = redb::Database::open(dir.path().join(FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut rows = txn.open_table(OLD).unwrap();
            let mut expiry = txn.open_table(OLD_EXPIRY).unwrap();
            for s in [&live, &gone] {
                let key = format!("{}/{}", s.account, s.access_key_id);
                let json = serde_json::to_vec(s).unwrap();
                rows.insert(key.as_str(), json.as_slice()).unwrap();
                expiry.insert((s.expires_at, key.as_str()), ()).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let at = Timestamp::from_unix_secs(now);
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    assert_eq!(
        store.issued_session(&live.access_key_id, at).await.unwrap(),
        Some(live.clone())
    );
    drop(store);
    let db = redb::Database::open(dir.path().join(FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    assert!(txn.open_table(OLD).is_err(), "the old table is dropped");
    drop(txn);
    drop(db);
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    assert_eq!(
        store.issued_session(&live.access_key_id, at).await.unwrap(),
        Some(live),
        "and the session is kept in the log"
    );
}
