//! The store conformance suite against every adapter, and the embedded
//! store's durability under SIGKILL.
//!
//! The durability test re-runs this test binary as a child process
//! (`durability_child` with `STSD_DURABILITY_CHILD_DIR` set), which commits
//! records and prints `ACK <n>` after each commit returns. The parent kills
//! it with SIGKILL mid-stream, reopens the file, and checks that every
//! acknowledged write is there and the file passes redb's integrity check.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use stsd::adapters::embedded::{EmbeddedStore, FILE_NAME};
use stsd::adapters::memory::MemoryStore;
use stsd::domain::clock::{FixedClock, SystemClock};
use stsd::service::store::conformance::{self, account, user};
use stsd::service::store::{
    EntityReader, EntityWriter, Key, ReplayGuard, ReplayScope, Timestamp, Transaction,
};

const CHILD_ENV: &str = "STSD_DURABILITY_CHILD_DIR";
/// Acknowledgements the parent waits for before each kill.
const ACKS_BEFORE_KILL: usize = 150;
const ROUNDS: usize = 3;

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_secs(1_700_000_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conformance::run_all(Arc::new(MemoryStore::new(clock()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    conformance::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_conforms_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    drop(EmbeddedStore::open(dir.path(), clock()).unwrap());
    let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
    conformance::run_all(Arc::new(store)).await;
}

fn user_name(n: usize) -> String {
    format!("durable-{n:06}")
}

fn jti(n: usize) -> String {
    format!("jti-{n}")
}

fn spends_jti(n: usize) -> bool {
    n.is_multiple_of(10)
}

fn far_future() -> Timestamp {
    Timestamp::from_unix_secs(4_000_000_000)
}

/// The child half of `acknowledged_writes_survive_sigkill`; does nothing
/// unless the parent set `STSD_DURABILITY_CHILD_DIR`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let start: usize = std::env::var("STSD_DURABILITY_START")
        .unwrap()
        .parse()
        .unwrap();
    let store = EmbeddedStore::open(Path::new(&dir), Arc::new(SystemClock)).unwrap();
    for n in start.. {
        let mut txn = Transaction::new();
        let record = user(account(42), &user_name(n), "/durable/");
        txn.require_absent(Key::user(account(42), &record.name))
            .put(record);
        store.commit(txn).await.unwrap();
        assert!(
            store
                .use_once(ReplayScope::JwtId, &jti(n), far_future())
                .await
                .unwrap()
        );
        println!("ACK {n}");
    }
}

type Failure = Box<dyn std::error::Error>;

/// Runs one child from `start`, kills it after enough acknowledgements,
/// and returns every index it acknowledged.
fn run_and_kill(dir: &Path, start: usize) -> Result<Vec<usize>, Failure> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "durability_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .env("STSD_DURABILITY_START", start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print `test durability_child ... ` before the
            // first line of output, on the same line.
            if let Some((_, n)) = line.split_once("ACK ")
                && tx.send(n.parse::<usize>()).is_err()
            {
                break;
            }
        }
    });
    let mut acked = Vec::new();
    while acked.len() < ACKS_BEFORE_KILL {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(n) => acked.push(n?),
            Err(e) => {
                child.kill()?;
                return Err(format!("child stalled after {} acks: {e}", acked.len()).into());
            }
        }
    }
    // SIGKILL while the child is still writing.
    child.kill()?;
    let status = child.wait()?;
    if status.success() {
        return Err("the child exited by itself".into());
    }
    // Lines already in the pipe were acknowledged before the kill.
    for n in rx.iter() {
        acked.push(n?);
    }
    reader.join().map_err(|_| "reader thread panicked")?;
    Ok(acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut start = 0;
    for round in 0..ROUNDS {
        let acked = run_and_kill(dir.path(), start).unwrap();
        assert_eq!(acked.first(), Some(&start), "round {round}");
        let last = *acked.last().unwrap();
        assert_eq!(acked, (start..=last).collect::<Vec<_>>());

        let store = EmbeddedStore::open(dir.path(), clock()).unwrap();
        for n in 0..=last {
            let key = Key::user(account(42), &user_name(n).parse().unwrap());
            assert!(
                store.get(&key).await.unwrap().is_some(),
                "round {round}: user {n} lost"
            );
            assert!(
                !store
                    .use_once(ReplayScope::JwtId, &jti(n), far_future())
                    .await
                    .unwrap(),
                "round {round}: one-time id {n} forgotten"
            );
        }
        // The commit in flight at the kill either landed whole or not at all.
        let next = Key::user(account(42), &user_name(last + 1).parse().unwrap());
        start = if store.get(&next).await.unwrap().is_some() {
            last + 2
        } else {
            last + 1
        };
        if start == last + 2 && spends_jti(last + 1) {
            // Its one-time id may or may not have been spent; spend it now.
            store
                .use_once(ReplayScope::JwtId, &jti(last + 1), far_future())
                .await
                .unwrap();
        }
        // Writes go on after recovery.
        let mut txn = Transaction::new();
        txn.put(user(account(43), &format!("after-{round}"), "/"));
        store.commit(txn).await.unwrap();
        drop(store);

        let mut db = redb::Database::open(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            db.check_integrity().unwrap(),
            "round {round}: file needed repair"
        );
    }
}
