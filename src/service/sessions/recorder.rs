//! Group commit of issued-session records.
//!
//! Owns: [`SessionRecorder`]. Every mint hands its record to one writer
//! task through a bounded queue and waits; the writer takes everything
//! queued (up to [`RecorderSettings::max_batch`]) and records it with one
//! [`IssuedSessionLog::record_sessions`] call — one durable transaction
//! in the embedded store — then answers every waiter. While a batch
//! commits the next one gathers, so one fsync serves many mints under
//! load and a lone mint waits for exactly one. A failed commit fails
//! every mint of its batch (`ServiceUnavailable` / `InternalFailure`):
//! no credentials are handed out unrecorded. A full queue makes mints
//! wait (back-pressure), never drops them.
//!
//! With [`RecorderSettings::durable`] off (`[sessions] issued_log =
//! "relaxed"`), a mint only queues its record and goes on; the writer
//! commits batches without waiting for the disk and makes them durable at
//! least once a second and whenever the queue runs dry. A crash can then
//! lose the last second of records (never credentials: they are
//! self-contained, and revocation by role, source identity, subject or
//! account does not need the record). May import `domain`,
//! `service::store`, tokio's channels, time and tracing.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::sessions::IssuedSession;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::IssuedSessionLog;

/// Queue and batch bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderSettings {
    /// Records waiting for the writer at most; more mints wait to queue.
    pub queue: usize,
    /// Records per commit at most.
    pub max_batch: usize,
    /// Each mint waits for its record's durable commit (`durable`, the
    /// default) or only queues it (`relaxed`).
    pub durable: bool,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        Self {
            queue: 16_384,
            max_batch: 4_096,
            durable: true,
        }
    }
}

/// Longest a relaxed record stays non-durable under steady load.
const RELAXED_SYNC: std::time::Duration = std::time::Duration::from_secs(1);

/// Records issued sessions, batching concurrent ones.
#[derive(Debug, Clone)]
pub struct SessionRecorder {
    queue: mpsc::Sender<Pending>,
    durable: bool,
}

#[derive(Debug)]
struct Pending {
    record: IssuedSession,
    done: oneshot::Sender<Result<(), ErrorCode>>,
}

// === impl SessionRecorder ===

impl SessionRecorder {
    /// Starts the writer task on the current tokio runtime; it ends when
    /// every handle is dropped.
    pub fn spawn(log: Arc<dyn IssuedSessionLog>, settings: RecorderSettings) -> Self {
        let (queue, rx) = mpsc::channel(settings.queue.max(1));
        tokio::spawn(write(log, rx, settings.max_batch.max(1), settings.durable));
        Self {
            queue,
            durable: settings.durable,
        }
    }

    /// Records `record`; returns once it is committed.
    ///
    /// # Errors
    ///
    /// `ServiceUnavailable` when the writer is gone or the store is
    /// unavailable, `InternalFailure` when the commit failed otherwise.
    pub async fn record(&self, record: IssuedSession) -> Result<(), ServiceError> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send(Pending { record, done })
            .await
            .map_err(|_| unavailable())?;
        if !self.durable {
            return Ok(());
        }
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(ErrorCode::ServiceUnavailable)) | Err(_) => Err(unavailable()),
            Ok(Err(_)) => Err(ServiceError::internal(
                "the issued session was not recorded",
            )),
        }
    }
}

fn unavailable() -> ServiceError {
    ServiceError::unavailable("the issued-session writer is unavailable")
}

/// The writer: one commit per gathered batch.
async fn write(
    log: Arc<dyn IssuedSessionLog>,
    mut rx: mpsc::Receiver<Pending>,
    max: usize,
    durable: bool,
) {
    let mut pending = Vec::with_capacity(max);
    let mut records = Vec::with_capacity(max);
    let mut synced = tokio::time::Instant::now();
    while rx.recv_many(&mut pending, max).await > 0 {
        records.clear();
        records.extend(pending.iter().map(|p| p.record.clone()));
        let written = if durable {
            log.record_sessions(&records).await
        } else {
            let mut r = log.record_sessions_relaxed(&records).await;
            if r.is_ok() && (rx.is_empty() || synced.elapsed() >= RELAXED_SYNC) {
                r = log.sync_sessions().await;
                synced = tokio::time::Instant::now();
            }
            r
        };
        let outcome = match written {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = ServiceError::from(e);
                tracing::error!(error = ?e, batch = records.len(), "cannot record issued sessions");
                Err(e.code())
            }
        };
        for p in pending.drain(..) {
            // A waiter that went away (its request was dropped) is fine.
            let _ = p.done.send(outcome);
        }
    }
}
