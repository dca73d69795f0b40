//! The group-commit writer (batching and failure) and the revocation
//! set's grace while the store is unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::{RecorderSettings, SessionRecorder};
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::error::ErrorCode;
use crate::service::store::conformance::{account, sessions::issued};
use crate::service::store::{IssuedSessionLog, SessionPage, StoreError, Timestamp};

/// Counts commits and records; fails when told to.
#[derive(Default)]
struct Log {
    commits: AtomicUsize,
    records: AtomicUsize,
    relaxed: AtomicUsize,
    syncs: AtomicUsize,
    fail: bool,
    /// Syncs never finish (a stuck disk).
    stuck_sync: bool,
}

#[async_trait]
impl IssuedSessionLog for Log {
    async fn record_sessions(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        // A slow disk: the next batch gathers meanwhile.
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.commits.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(StoreError::unavailable("disk gone"));
        }
        self.records.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }

    async fn record_sessions_relaxed(&self, batch: &[IssuedSession]) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError::unavailable("disk gone"));
        }
        self.relaxed.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }

    async fn sync_sessions(&self) -> Result<(), StoreError> {
        if self.stuck_sync {
            std::future::pending::<()>().await;
        }
        self.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn issued_session(
        &self,
        _: &AccessKeyId,
        _: Timestamp,
    ) -> Result<Option<IssuedSession>, StoreError> {
        Ok(None)
    }

    async fn list_sessions(
        &self,
        _: AccountId,
        _: &SessionFilter,
        _: Timestamp,
        _: Option<&AccessKeyId>,
        _: usize,
    ) -> Result<SessionPage, StoreError> {
        Ok(SessionPage::default())
    }

    async fn purge_sessions(&self, _: Timestamp, _: usize) -> Result<usize, StoreError> {
        Ok(0)
    }
}

async fn record_many(log: Arc<Log>, n: u32) -> Vec<Result<(), ErrorCode>> {
    record_many_with(log, n, true).await
}

async fn record_many_with(log: Arc<Log>, n: u32, durable: bool) -> Vec<Result<(), ErrorCode>> {
    let recorder = SessionRecorder::spawn(
        log,
        RecorderSettings {
            queue: 8,
            max_batch: 64,
            durable,
        },
    );
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let recorder = recorder.clone();
        tasks.spawn(async move {
            recorder
                .record(issued(account(900), i, "r", 2_000_000_000))
                .await
                .map_err(|e| e.code())
        });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mints_share_commits_and_each_waits_for_its_own() {
    let log = Arc::new(Log::default());
    let results = record_many(Arc::clone(&log), 200).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(log.records.load(Ordering::SeqCst), 200);
    let commits = log.commits.load(Ordering::SeqCst);
    assert!(commits < 200, "{commits} commits for 200 records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_every_mint_of_its_batch() {
    let log = Arc::new(Log {
        fail: true,
        ..Log::default()
    });
    let results = record_many(log, 20).await;
    assert_eq!(results.len(), 20);
    assert!(
        results
            .iter()
            .all(|r| *r == Err(ErrorCode::ServiceUnavailable)),
        "{results:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relaxed_mints_wait_for_the_write_and_the_writer_syncs_within_a_second() {
    let log = Arc::new(Log::default());
    let results = record_many_with(Arc::clone(&log), 50, false).await;
    assert!(results.iter().all(Result::is_ok));
    // Every mint returned after its record was written.
    assert_eq!(log.relaxed.load(Ordering::SeqCst), 50);
    // Nothing went through the durable path.
    assert_eq!(log.records.load(Ordering::SeqCst), 0);
    // The sync comes behind, within a tick.
    for _ in 0..300 {
        if log.syncs.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(log.syncs.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relaxed_mints_never_wait_for_the_sync() {
    // A disk whose syncs never finish: relaxed mints go on, across ticks.
    let log = Arc::new(Log {
        stuck_sync: true,
        ..Log::default()
    });
    let recorder = SessionRecorder::spawn(
        Arc::clone(&log) as Arc<dyn IssuedSessionLog>,
        RecorderSettings {
            durable: false,
            ..RecorderSettings::default()
        },
    );
    for n in 0..3 {
        let results = record_many_with(Arc::clone(&log), 5, false).await;
        assert_eq!(results, vec![Ok(()); 5]);
        recorder
            .record(issued(account(1), 100 + n, "r", 9_999_999_999))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert_eq!(log.relaxed.load(Ordering::SeqCst), 18);
    assert_eq!(log.syncs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_relaxed_write_fails_its_mints() {
    let log = Arc::new(Log {
        fail: true,
        ..Log::default()
    });
    let results = record_many_with(log, 6, false).await;
    assert_eq!(results, vec![Err(ErrorCode::ServiceUnavailable); 6]);
}

/// Revocation rules that cannot be read while `down`.
#[derive(Default)]
struct Rules {
    down: std::sync::atomic::AtomicBool,
}

impl Rules {
    fn read(&self) -> Result<u64, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("redis gone"));
        }
        Ok(0)
    }
}

#[async_trait]
impl crate::service::store::RevocationStore for Rules {
    async fn put_revocation(
        &self,
        _: &crate::domain::sessions::RevocationRule,
    ) -> Result<u64, StoreError> {
        self.read()
    }

    async fn revocations(
        &self,
    ) -> Result<(u64, Vec<crate::domain::sessions::RevocationRule>), StoreError> {
        self.read().map(|c| (c, Vec::new()))
    }

    async fn revocation_counter(&self) -> Result<u64, StoreError> {
        self.read()
    }

    async fn purge_revocations(&self, _: Timestamp) -> Result<usize, StoreError> {
        Ok(0)
    }
}

#[tokio::test]
async fn revocations_fail_closed_after_the_grace_and_recover() {
    use crate::domain::clock::FixedClock;
    use crate::service::error::ServiceError;

    let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
    let store = Arc::new(Rules::default());
    let r = super::Revocations::load(store.clone(), clock.clone())
        .await
        .unwrap()
        .fail_closed_after(Duration::from_secs(30));
    r.ensure_current().unwrap();
    store.down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(20));
    assert!(r.refresh().await.is_err());
    r.ensure_current()
        .expect("within the grace the last rules serve");
    clock.advance(Duration::from_secs(11));
    let e = r.ensure_current().unwrap_err();
    assert_eq!(ServiceError::from(e).code(), ErrorCode::ServiceUnavailable);
    store.down.store(false, Ordering::SeqCst);
    r.refresh().await.unwrap();
    r.ensure_current()
        .expect("recovered once a refresh succeeds");
}
