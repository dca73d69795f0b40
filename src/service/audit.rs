//! The audit trail as the transports see it.
//!
//! Owns: [`Audit`], what every transport (and the sign-in pages) hands its
//! events to — it stamps the time, region, event id and format version on
//! an [`Event`] and passes the [`AuditRecord`] to the [`AuditSink`] port
//! (the file/stdout writer in `adapters::audit`); the policy of what a
//! failing sink means ([`AuditMode`]): in `sync` mode a request waits for
//! its record to be durable and fails with `ServiceUnavailable` when it
//! cannot be (so nothing is acknowledged without its record); otherwise
//! the record is queued and a full queue drops it (counted, logged);
//! and which `Authorize` answers are recorded ([`AuthorizeAudit`]).
//! Imports `domain::audit`, `domain::clock` and the service error.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::domain::audit::{
    AuditRecord, EVENT_VERSION, EventSource, EventType, UserIdentity, format_time,
};
use crate::domain::clock::Clock;
use crate::service::error::{ErrorCode, ServiceError};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where records go (implemented by `adapters::audit`).
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Queues `record`; with `durable`, resolves once it is written and
    /// flushed to disk. Without it, never waits: a full queue drops the
    /// record and answers [`SinkError::Full`].
    fn submit(&self, record: AuditRecord, durable: bool) -> BoxFuture<'_, Result<(), SinkError>>;
}

/// Why a record was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The queue is full (async mode): the record was dropped.
    #[error("the audit queue is full")]
    Full,
    /// The writer failed or stopped.
    #[error("the audit trail cannot be written: {0}")]
    Failed(String),
}

/// Which `Authorize` answers are recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AuthorizeAudit {
    /// Every answer.
    All,
    /// Only refusals (deny decisions, unauthenticated requests, errors).
    Denials,
    /// Every refusal and a `rate` (0–1) of the allows, evenly spread.
    Sample(f64),
}

/// How writes relate to responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMode {
    /// A response waits for its record's `fdatasync`.
    Sync,
    /// Records are queued; a full queue drops them.
    Async,
}

/// One event, as a transport knows it.
#[derive(Debug, Clone)]
pub struct Event {
    /// The service.
    pub source: EventSource,
    /// The action.
    pub name: String,
    /// API call or sign-in.
    pub kind: EventType,
    /// Who.
    pub identity: UserIdentity,
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// The client's `User-Agent` (cut to 256 characters).
    pub user_agent: Option<String>,
    /// The request id the response carries.
    pub request_id: String,
    /// Redacted parameters.
    pub request_parameters: Option<Value>,
    /// Redacted result.
    pub response_elements: Option<Value>,
    /// The failure's code and message.
    pub error: Option<(String, String)>,
    /// Whether it only read.
    pub read_only: bool,
    /// The account concerned.
    pub account: Option<String>,
    /// Event-specific data (a sign-in's `MFAUsed`, `LoginTo`).
    pub additional: Map<String, Value>,
}

/// The audit trail.
pub struct Audit {
    sink: Option<Arc<dyn AuditSink>>,
    clock: Arc<dyn Clock>,
    region: String,
    mode: AuditMode,
    authorize: AuthorizeAudit,
    allows: AtomicU64,
    dropped: AtomicU64,
}

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 256;

// === impl Audit ===

impl Audit {
    /// No trail: every event is discarded.
    pub fn off(clock: Arc<dyn Clock>) -> Self {
        Self::new(
            None,
            clock,
            String::new(),
            AuditMode::Async,
            AuthorizeAudit::All,
        )
    }

    /// A trail into `sink`.
    pub fn new(
        sink: Option<Arc<dyn AuditSink>>,
        clock: Arc<dyn Clock>,
        region: String,
        mode: AuditMode,
        authorize: AuthorizeAudit,
    ) -> Self {
        Self {
            sink,
            clock,
            region,
            mode,
            authorize,
            allows: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Whether events are recorded at all (transports skip building them
    /// otherwise).
    pub fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Records dropped because the queue was full (async mode).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether an `Authorize` answer is to be recorded: refusals always
    /// (unless off), allows by [`AuthorizeAudit`].
    pub fn wants_authorize(&self, allowed: bool) -> bool {
        if !self.enabled() {
            return false;
        }
        match (self.authorize, allowed) {
            (_, false) | (AuthorizeAudit::All, true) => true,
            (AuthorizeAudit::Denials, true) => false,
            (AuthorizeAudit::Sample(rate), true) => {
                // The n-th allow is kept when floor(n * rate) steps up:
                // exactly `rate` of them, evenly spread, no randomness.
                let n = self.allows.fetch_add(1, Ordering::Relaxed);
                #[expect(
                    clippy::cast_precision_loss,
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a sampling counter; precision loss past 2^53 allows is harmless"
                )]
                let step = |k: u64| (k as f64 * rate).floor() as u64;
                step(n + 1) > step(n)
            }
        }
    }

    /// Records `event`. In sync mode waits until it is durable.
    ///
    /// # Errors
    ///
    /// `ServiceUnavailable` when, in sync mode, the record could not be
    /// written: the caller must not acknowledge the request. Async mode
    /// never fails (a dropped record is counted and logged).
    pub async fn record(&self, event: Event) -> Result<(), ServiceError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let record = self.stamp(event);
        let durable = self.mode == AuditMode::Sync;
        match sink.submit(record, durable).await {
            Ok(()) => Ok(()),
            Err(e) if durable => {
                tracing::error!(error = %e, "audit record not written; failing the request");
                Err(ServiceError::new(
                    ErrorCode::ServiceUnavailable,
                    "The audit trail is unavailable; the request was not acknowledged.",
                ))
            }
            Err(e) => {
                let total = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if total.is_power_of_two() {
                    tracing::warn!(error = %e, dropped_total = total, "audit record dropped");
                }
                Ok(())
            }
        }
    }

    /// The record of `event`, stamped now.
    fn stamp(&self, event: Event) -> AuditRecord {
        AuditRecord {
            event_version: EVENT_VERSION,
            user_identity: event.identity,
            event_time: format_time(self.clock.now_secs()),
            event_source: event.source,
            event_name: event.name,
            aws_region: self.region.clone(),
            source_ip_address: event.source_ip.map(|ip| ip.to_string()),
            user_agent: event
                .user_agent
                .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
            error_code: event.error.as_ref().map(|e| e.0.clone()),
            error_message: event.error.map(|e| e.1),
            request_parameters: event.request_parameters,
            response_elements: event.response_elements,
            request_id: event.request_id,
            event_id: uuid::Uuid::new_v4().to_string(),
            read_only: event.read_only,
            event_type: event.kind,
            management_event: true,
            recipient_account_id: event.account,
            additional_event_data: event.additional,
        }
    }
}

impl fmt::Debug for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit")
            .field("enabled", &self.enabled())
            .field("mode", &self.mode)
            .field("authorize", &self.authorize)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::FixedClock;

    #[test]
    fn sampling_keeps_the_rate_of_allows_and_every_refusal() {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::at_secs(0));
        #[derive(Debug)]
        struct Null;
        impl AuditSink for Null {
            fn submit(&self, _: AuditRecord, _: bool) -> BoxFuture<'_, Result<(), SinkError>> {
                Box::pin(async { Ok(()) })
            }
        }
        let audit = |a| {
            Audit::new(
                Some(Arc::new(Null)),
                Arc::clone(&clock),
                "r".into(),
                AuditMode::Async,
                a,
            )
        };
        let quarter = audit(AuthorizeAudit::Sample(0.25));
        let kept = (0..100).filter(|_| quarter.wants_authorize(true)).count();
        assert_eq!(kept, 25);
        assert!(quarter.wants_authorize(false));
        let denials = audit(AuthorizeAudit::Denials);
        assert!(!denials.wants_authorize(true) && denials.wants_authorize(false));
        assert!(!Audit::off(clock.clone()).wants_authorize(false));
    }
}
