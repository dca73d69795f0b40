//! Cache coherence between replicas.
//!
//! Owns: [`Changes`] (the `changes_seen` counter of this process and the
//! signal that revocation rules moved) and the two background tasks that
//! feed it:
//! - the subscriber: a dedicated pub/sub connection on the channel
//!   `<prefix>invalidate`, where every commit (`e:<account>`) and every
//!   revocation (`r`) is published by the script that writes it; each
//!   message bumps the counter, and `r` also wakes the revocation refresh.
//!   A lost connection is noticed by the stream ending or a failed `PING`
//!   (every [`PING_EVERY`]); the task then reconnects with back-off,
//!   re-subscribes and bumps the counter once, since messages may have
//!   been missed meanwhile.
//! - the poller: every `invalidation_poll` (N, default 1000 ms) it reads
//!   the generation and the revocation counter in one pipelined round
//!   trip, and bumps the counter (or wakes the refresh) when either moved.
//!   So a replica trusts a cached read at most N ms (plus one round trip)
//!   after another replica's commit even when the message is lost.
//!
//! Both tasks stop when the store's last handle is dropped ([`Tasks`]).
//! May import the parent's modules, `redis`, `futures-util` and tokio.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::conn::Conn;
use super::keys::KeyNames;

/// How often the subscriber checks that its connection is alive.
pub(super) const PING_EVERY: Duration = Duration::from_secs(5);
/// The longest pause between two subscription attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What this process knows changed.
#[derive(Debug, Default)]
pub(super) struct Changes {
    seen: AtomicU64,
    revocations: Notify,
}

// === impl Changes ===

impl Changes {
    /// The `changes_seen` counter.
    pub(super) fn seen(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    /// Something may have changed.
    pub(super) fn bump(&self) {
        self.seen.fetch_add(1, Ordering::AcqRel);
    }

    /// The revocation rules may have changed.
    pub(super) fn bump_revocations(&self) {
        self.bump();
        self.revocations.notify_one();
    }

    /// Resolves after the next [`Changes::bump_revocations`] (or at once
    /// if one came since the last wait).
    pub(super) async fn revocations_changed(&self) {
        self.revocations.notified().await;
    }
}

/// The background tasks; aborted on drop.
#[derive(Debug)]
pub(super) struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Starts the subscriber and the poller.
pub(super) fn start(
    conn: &Conn,
    names: &KeyNames,
    changes: &Arc<Changes>,
    poll: Duration,
) -> Tasks {
    let subscriber = tokio::spawn(subscribe(
        conn.clone(),
        names.channel(),
        Arc::clone(changes),
    ));
    let poller = tokio::spawn(watch(
        conn.clone(),
        names.clone(),
        Arc::clone(changes),
        poll,
    ));
    Tasks(vec![subscriber, poller])
}

/// Listens on the channel forever, reconnecting after failures.
async fn subscribe(conn: Conn, channel: String, changes: Arc<Changes>) {
    let mut attempt = 0_usize;
    let mut backoff = Duration::from_millis(50);
    loop {
        match listen(&conn, &channel, &changes, attempt).await {
            Ok(()) => backoff = Duration::from_millis(50),
            Err(e) => tracing::warn!(error = %e, "redis invalidation subscription lost"),
        }
        attempt = attempt.wrapping_add(1);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One subscription, until its connection fails.
async fn listen(
    conn: &Conn,
    channel: &str,
    changes: &Changes,
    attempt: usize,
) -> Result<(), crate::service::store::StoreError> {
    use super::conn::map_err;
    let limit = conn.limit();
    let client = conn.pubsub_client(attempt).await?;
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    let pubsub = tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| {
            crate::service::store::StoreError::unavailable("redis subscription timed out")
        })?
        .map_err(map_err)?;
    // Messages may have been published while no subscription was there.
    changes.bump_revocations();
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                if message.get_payload_bytes().starts_with(b"r") {
                    changes.bump_revocations();
                } else {
                    changes.bump();
                }
            }
            _ = ping.tick() => {
                let pong = tokio::time::timeout(limit, sink.ping::<String>()).await;
                if !matches!(pong, Ok(Ok(_))) {
                    // No bump: the caches keep serving through an outage;
                    // the re-subscription bumps once Redis is back.
                    return Err(crate::service::store::StoreError::unavailable("redis subscription stopped answering"));
                }
            }
        }
    }
}

/// Polls the generation and the revocation counter every `poll`.
async fn watch(conn: Conn, names: KeyNames, changes: Arc<Changes>, poll: Duration) {
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (generation, counter) = (names.generation(), names.revocation_counter());
    let mut last: Option<(Option<u64>, Option<u64>)> = None;
    loop {
        tick.tick().await;
        // Two slots on Cluster: two commands, sent together.
        let read = tokio::try_join!(
            conn.bounded(async |c| c.get::<_, Option<u64>>(&generation).await),
            conn.bounded(async |c| c.get::<_, Option<u64>>(&counter).await),
        );
        let Ok(now) = read else {
            continue;
        };
        if let Some((g, r)) = last {
            if r != now.1 {
                changes.bump_revocations();
            } else if g != now.0 {
                changes.bump();
            }
        }
        last = Some(now);
    }
}
