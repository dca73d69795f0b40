//! The audit writer: JSON lines to files and/or stdout.
//!
//! Owns: [`AuditWriter`], the `service::audit::AuditSink` of the daemon —
//! a bounded queue in front of one writer thread, which takes every
//! record queued at that moment (group commit), renders each as one
//! chained line, appends the batch to the open file in one `write` (and
//! to stdout), `fdatasync`s when a request in the batch waits for
//! durability (sync mode) and otherwise within a second, and then
//! answers the waiters. It rotates files by size and age, seals the open
//! file at shutdown ([`AuditWriter::close`]), and recovers a file a crash
//! left open at start (`trail`). A full queue drops a record that does not
//! wait (async mode) and makes a waiting one wait (sync mode); a failed
//! write fails every waiter of its batch.
//!
//! May import `service` and `domain`, std and tokio; never `api`.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::domain::audit::AuditRecord;
use crate::domain::audit::chain::DigestKey;
use crate::domain::clock::Clock;
use crate::service::audit::{AuditSink, BoxFuture, SinkError};

mod trail;

use trail::Trail;

/// What the writer writes where.
#[derive(Debug)]
pub struct WriterSettings {
    /// The directory of the file sink; `None`: no files.
    pub dir: Option<PathBuf>,
    /// Whether lines also go to stdout.
    pub stdout: bool,
    /// A file is sealed once it holds this many bytes.
    pub rotate_bytes: u64,
    /// … or once it is this old (and holds a record).
    pub rotate_age: Duration,
    /// Records queued at most.
    pub queue: usize,
    /// Signs each file's digest.
    pub key: Option<DigestKey>,
}

/// What the queue carries.
enum Msg {
    Record(
        Box<AuditRecord>,
        Option<oneshot::Sender<Result<(), SinkError>>>,
    ),
    Tick,
    Close(oneshot::Sender<()>),
}

/// The sink.
#[derive(Debug)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
}

/// Records taken per batch at most.
const MAX_BATCH: usize = 1024;

// === impl AuditWriter ===

impl AuditWriter {
    /// Opens the trail (recovering a file left open) and starts the writer
    /// thread and its one-second tick.
    ///
    /// # Errors
    ///
    /// The directory or the first file cannot be created or read.
    pub fn start(settings: WriterSettings, clock: Arc<dyn Clock>) -> io::Result<Arc<Self>> {
        let WriterSettings {
            dir,
            stdout,
            rotate_bytes,
            rotate_age,
            queue,
            key,
        } = settings;
        let trail = match &dir {
            Some(dir) => Some(Trail::open(dir, key, clock.now_secs())?),
            None => None,
        };
        let (tx, rx) = mpsc::channel(queue.max(1));
        let writer = Writer {
            trail,
            stdout,
            rotate_bytes,
            rotate_age,
            clock,
            sequence: 1,
            hash: crate::domain::audit::chain::GENESIS,
            unsynced: false,
        };
        std::thread::Builder::new()
            .name("stsd-audit".into())
            .spawn(move || writer.run(rx))?;
        let ticks = tx.clone();
        std::thread::Builder::new()
            .name("stsd-audit-tick".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    if matches!(
                        ticks.try_send(Msg::Tick),
                        Err(mpsc::error::TrySendError::Closed(_))
                    ) {
                        break;
                    }
                }
            })?;
        Ok(Arc::new(Self { tx }))
    }

    /// Writes what is queued, seals the open file and stops the writer.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl AuditSink for AuditWriter {
    fn submit(&self, record: AuditRecord, durable: bool) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            if !durable {
                return match self.tx.try_send(Msg::Record(Box::new(record), None)) {
                    Ok(()) => Ok(()),
                    Err(mpsc::error::TrySendError::Full(_)) => Err(SinkError::Full),
                    Err(mpsc::error::TrySendError::Closed(_)) => Err(stopped()),
                };
            }
            let (ack, wait) = oneshot::channel();
            self.tx
                .send(Msg::Record(Box::new(record), Some(ack)))
                .await
                .map_err(|_| stopped())?;
            wait.await.map_err(|_| stopped())?
        })
    }
}

fn stopped() -> SinkError {
    SinkError::Failed("the audit writer stopped".into())
}

/// The writer thread's state.
struct Writer {
    trail: Option<Trail>,
    stdout: bool,
    rotate_bytes: u64,
    rotate_age: Duration,
    clock: Arc<dyn Clock>,
    /// The chain of a stdout-only trail.
    sequence: u64,
    hash: [u8; 32],
    unsynced: bool,
}

// === impl Writer ===

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut closing = None;
        while let Some(first) = rx.blocking_recv() {
            let mut batch = Vec::new();
            let mut waiters = Vec::new();
            let mut tick = false;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Record(r, ack) => {
                        batch.push(*r);
                        waiters.extend(ack);
                    }
                    Msg::Tick => tick = true,
                    Msg::Close(done) => {
                        closing = Some(done);
                        break;
                    }
                }
                if batch.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            let result = self.write(&batch, !waiters.is_empty());
            if let Err(e) = &result {
                tracing::error!(error = %e, records = batch.len(), "audit write failed");
            }
            for w in waiters {
                let _ = w.send(result.clone().map_err(SinkError::Failed));
            }
            self.housekeeping(tick, closing.is_some());
            if let Some(done) = closing.take() {
                let _ = done.send(());
                return;
            }
        }
        self.housekeeping(true, true);
    }

    /// Writes a batch; with `durable`, flushes it to disk.
    fn write(&mut self, batch: &[AuditRecord], durable: bool) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let text = match &mut self.trail {
            Some(trail) => {
                let text = trail.append(batch).map_err(|e| e.to_string())?;
                if durable {
                    trail.sync().map_err(|e| e.to_string())?;
                } else {
                    self.unsynced = true;
                }
                text
            }
            None => self.render(batch)?,
        };
        if self.stdout {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Lines of a stdout-only trail (chained, never sealed).
    fn render(&mut self, batch: &[AuditRecord]) -> Result<String, String> {
        let mut text = String::new();
        for r in batch {
            let line = r
                .to_line(self.sequence, &self.hash)
                .map_err(|e| e.to_string())?;
            self.hash = crate::domain::audit::chain::line_hash(line.as_bytes());
            self.sequence += 1;
            text.push_str(&line);
            text.push('\n');
        }
        Ok(text)
    }

    /// After each batch: rotate a file that is due, seal the file when
    /// `last`; on a `tick` (once a second) also flush what async mode
    /// wrote.
    fn housekeeping(&mut self, tick: bool, last: bool) {
        let Some(trail) = &mut self.trail else {
            return;
        };
        if (tick || last) && self.unsynced {
            if let Err(e) = trail.sync() {
                tracing::error!(error = %e, "audit fdatasync failed");
            }
            self.unsynced = false;
        }
        if (last || trail.due(self.rotate_bytes, self.rotate_age, self.clock.now_secs()))
            && let Err(e) = trail.rotate(self.clock.now_secs(), last)
        {
            tracing::error!(error = %e, "cannot seal the audit file");
        }
    }
}

#[cfg(test)]
mod tests;
