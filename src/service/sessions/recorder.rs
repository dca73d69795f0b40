//! Group commit of issued-session records.
//!
//! Owns: [`SessionRecorder`]. Every mint hands its record to one writer
//! task through a bounded queue and waits; the writer takes everything
//! queued (up to [`RecorderSettings::max_batch`]; having yielded once, so
//! the requests already running join) and records it with one
//! [`IssuedSessionLog::record_sessions`] call — one durable transaction
//! in the embedded store — then answers every waiter. While a batch
//! commits the next one gathers, so one fsync serves many mints under
//! load and a lone mint waits for exactly one. A failed commit fails
//! every mint of its batch (`ServiceUnavailable` / `InternalFailure`):
//! no credentials are handed out unrecorded. A full queue makes mints
//! wait (back-pressure), never drops them.
//!
//! With [`RecorderSettings::durable`] off (`[sessions] issued_log =
//! "relaxed"`, the default), a mint waits for its batch to be *written*
//! (handed to the operating system: a crash of the process loses
//! nothing) but not for the disk: the writer makes what it wrote durable
//! at least once a second, in a task of its own so that batches never
//! wait for it, and once more when it ends. Only a crash of the machine
//! (kernel, power) can then lose records, at most the last second of
//! them — never credentials, which are self-contained, and revocation by
//! role, source identity, subject or account does not need the record.
//! In both modes a failed write fails every mint of its batch. May import
//! `domain`, `service::store`, tokio's channels, tasks and time, tracing.

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
    /// Each mint waits for its record's durable commit (`durable`) or
    /// only for its write (`relaxed`, the default).
    pub durable: bool,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        Self {
            queue: 16_384,
            max_batch: 4_096,
            durable: false,
        }
    }
}

/// Longest a relaxed record stays non-durable.
const RELAXED_SYNC: std::time::Duration = std::time::Duration::from_secs(1);

/// Records issued sessions, batching concurrent ones.
#[derive(Debug, Clone)]
pub struct SessionRecorder {
    queue: mpsc::Sender<Pending>,
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
        Self { queue }
    }

    /// Records `record`; returns once it is committed (durable) or
    /// written (relaxed).
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

/// The writer: one commit per gathered batch; relaxed, a sync of what
/// was written at least every [`RELAXED_SYNC`], beside the writes.
async fn write(
    log: Arc<dyn IssuedSessionLog>,
    mut rx: mpsc::Receiver<Pending>,
    max: usize,
    durable: bool,
) {
    let mut pending = Vec::with_capacity(max);
    let mut records = Vec::with_capacity(max);
    let mut waiters = Vec::with_capacity(max);
    let mut unsynced = false;
    let mut syncing: Option<tokio::task::JoinHandle<bool>> = None;
    let mut tick = tokio::time::interval(RELAXED_SYNC);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = rx.recv_many(&mut pending, max) => {
                if received == 0 {
                    break;
                }
            }
            _ = tick.tick(), if !durable => {
                if let Some(done) = syncing.take_if(|s| s.is_finished()) {
                    // A failed sync is tried again at this tick.
                    unsynced |= !done.await.unwrap_or(false);
                }
                if unsynced && syncing.is_none() {
                    unsynced = false;
                    syncing = Some(tokio::spawn(sync(Arc::clone(&log))));
                }
                continue;
            }
        }
        if pending.len() < max {
            // Let the requests already running on this worker reach the
            // queue first: one write then serves them too (a write is a
            // system call; under load most batches would be one or two).
            tokio::task::yield_now().await;
            while pending.len() < max {
                match rx.try_recv() {
                    Ok(p) => pending.push(p),
                    Err(_) => break,
                }
            }
        }
        records.clear();
        waiters.clear();
        for p in pending.drain(..) {
            records.push(p.record);
            waiters.push(p.done);
        }
        let written = if durable {
            log.record_sessions(&records).await
        } else {
            let r = log.record_sessions_relaxed(&records).await;
            unsynced |= r.is_ok();
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
        for done in waiters.drain(..) {
            // A waiter that went away (its request was dropped) is fine.
            let _ = done.send(outcome);
        }
    }
    if let Some(running) = syncing {
        unsynced |= !running.await.unwrap_or(false);
    }
    if unsynced {
        sync(log).await;
    }
}

/// Makes the relaxed writes durable; whether it did. A failure is logged
/// and the writer tries again at its next tick.
async fn sync(log: Arc<dyn IssuedSessionLog>) -> bool {
    match log.sync_sessions().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "cannot make issued-session records durable");
            false
        }
    }
}
