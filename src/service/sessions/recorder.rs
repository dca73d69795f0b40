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
//! wait (back-pressure), never drops them. May import `domain`,
//! `service::store`, tokio's channels and tracing.

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
}

impl Default for RecorderSettings {
    fn default() -> Self {
        Self {
            queue: 16_384,
            max_batch: 4_096,
        }
    }
}

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
        tokio::spawn(write(log, rx, settings.max_batch.max(1)));
        Self { queue }
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
async fn write(log: Arc<dyn IssuedSessionLog>, mut rx: mpsc::Receiver<Pending>, max: usize) {
    let mut pending = Vec::with_capacity(max);
    let mut records = Vec::with_capacity(max);
    while rx.recv_many(&mut pending, max).await > 0 {
        records.clear();
        records.extend(pending.iter().map(|p| p.record.clone()));
        let outcome = match log.record_sessions(&records).await {
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
