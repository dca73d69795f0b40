//! A node agent's many workloads.
//!
//! Owns: [`Workloads`] — credentials per presented token. A workload sends
//! its projected service-account token as the container endpoint's
//! `Authorization` header; the token's `sub` picks the role configured for
//! that service account, and the token itself is exchanged with
//! AssumeRoleWithWebIdentity, so the broker — not the agent — decides
//! whether it is genuine and trusted. Credentials are cached under the
//! token's SHA-256 and served from memory while servable and while the
//! token has not expired; a read that finds them due for refresh starts one
//! in the background (one per token at a time) and is answered with the
//! ones held. A table bounded in entries; entries of expired tokens are
//! swept, and a token the broker refuses before it ever got credentials
//! is dropped at once (its unverified claims must not hold a place).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};

use parking_lot::{Mutex, RwLock};

use super::{Broker, BrokerError, RoleRequest, Unit};
use crate::domain::clock::Clock;
use crate::domain::vending::{RefreshPolicy, VendedCredentials, WorkloadToken, WorkloadTokenError};

/// How often (seconds) the table is swept of expired tokens at most.
const SWEEP_INTERVAL_SECS: i64 = 30;

/// The role of one service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadRole {
    /// The token's `sub`, e.g. `system:serviceaccount:prod:billing`.
    pub subject: String,
    /// The role.
    pub role_arn: String,
}

/// Why a workload gets no credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendError {
    /// No `Authorization` header.
    #[error(
        "the request has no Authorization header; set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE to the workload's service-account token"
    )]
    MissingToken,
    /// The header is not a usable token.
    #[error("{0}")]
    BadToken(#[from] WorkloadTokenError),
    /// No role is configured for the token's subject.
    #[error("no role is configured for the service account {0}")]
    NoRole(String),
    /// The broker refused the token or the role.
    #[error("{code}: {message}")]
    Refused {
        /// The AWS error code.
        code: String,
        /// The broker's message.
        message: String,
    },
    /// The broker could not be reached and nothing servable is held.
    #[error("credentials are unavailable: {0}")]
    Unavailable(String),
    /// The table is full of live tokens.
    #[error("the agent is serving its maximum number of workload tokens")]
    Full,
}

/// Credentials per workload token.
pub struct Workloads {
    broker: Arc<dyn Broker>,
    roles: HashMap<String, String>,
    duration_secs: u32,
    policy: RefreshPolicy,
    clock: Arc<dyn Clock>,
    unit: Unit,
    max_entries: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<[u8; 32], Arc<Entry>>,
    last_sweep: i64,
}

struct Entry {
    token: WorkloadToken,
    request: RoleRequest,
    credentials: RwLock<Option<Arc<VendedCredentials>>>,
    /// One broker call per entry at a time.
    gate: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
    /// Failed calls in a row, and when the next call may be made: a
    /// broker that keeps failing is not called at the rate of reads.
    failures: AtomicU32,
    next_attempt: AtomicI64,
    last_error: Mutex<Option<VendError>>,
}

// === impl Workloads ===

impl Workloads {
    /// A node agent's table for `roles`.
    pub fn new(
        broker: Arc<dyn Broker>,
        roles: Vec<WorkloadRole>,
        duration_secs: u32,
        policy: RefreshPolicy,
        clock: Arc<dyn Clock>,
        unit: Unit,
        max_entries: usize,
    ) -> Self {
        Self {
            broker,
            roles: roles.into_iter().map(|r| (r.subject, r.role_arn)).collect(),
            duration_secs,
            policy,
            clock,
            unit,
            max_entries: max_entries.max(1),
            table: Mutex::new(Table::default()),
        }
    }

    /// The credentials for the workload presenting `authorization`.
    ///
    /// # Errors
    ///
    /// [`VendError`].
    pub async fn credentials(
        self: &Arc<Self>,
        authorization: Option<&str>,
    ) -> Result<Arc<VendedCredentials>, VendError> {
        let now = self.clock.now_secs();
        let presented = authorization
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(VendError::MissingToken)?;
        let token = WorkloadToken::read(presented, now)?;
        let entry = self.entry(token, now)?;
        if let Some(held) = self.servable(&entry, now) {
            if self.policy.due(held.expiration, now)
                && now >= entry.next_attempt.load(Ordering::Acquire)
                && !entry.refreshing.swap(true, Ordering::AcqRel)
            {
                let this = Arc::clone(self);
                let entry = Arc::clone(&entry);
                tokio::spawn(async move {
                    let _ = this.fetch(&entry).await;
                    entry.refreshing.store(false, Ordering::Release);
                });
            }
            return Ok(held);
        }
        let _gate = entry.gate.lock().await;
        // Another reader may have fetched while this one waited.
        let now = self.clock.now_secs();
        if let Some(held) = self.servable(&entry, now) {
            return Ok(held);
        }
        if now < entry.next_attempt.load(Ordering::Acquire)
            && let Some(e) = entry.last_error.lock().clone()
        {
            return Err(e);
        }
        self.fetch(&entry).await
    }

    /// Live tokens held.
    pub fn len(&self) -> usize {
        self.table.lock().entries.len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn servable(&self, entry: &Entry, now: i64) -> Option<Arc<VendedCredentials>> {
        entry
            .credentials
            .read()
            .as_ref()
            .filter(|c| self.policy.servable(c.expiration, now))
            .map(Arc::clone)
    }

    /// The entry of `token`, made when new.
    fn entry(&self, token: WorkloadToken, now: i64) -> Result<Arc<Entry>, VendError> {
        let mut table = self.table.lock();
        if let Some(e) = table.entries.get(&token.digest) {
            return Ok(Arc::clone(e));
        }
        let role_arn = self
            .roles
            .get(&token.subject)
            .ok_or_else(|| VendError::NoRole(token.subject.clone()))?
            .clone();
        if table.entries.len() >= self.max_entries
            || now.saturating_sub(table.last_sweep) >= SWEEP_INTERVAL_SECS
        {
            table.entries.retain(|_, e| e.token.expires > now);
            table.last_sweep = now;
        }
        if table.entries.len() >= self.max_entries {
            // Entries that never got credentials (their claims unverified:
            // tokens sent while the broker was unreachable) give way first.
            table.entries.retain(|_, e| e.credentials.read().is_some());
        }
        if table.entries.len() >= self.max_entries {
            return Err(VendError::Full);
        }
        let request = RoleRequest {
            role_arn,
            session_name: session_name(&token.subject),
            duration_secs: self.duration_secs,
        };
        let digest = token.digest;
        let entry = Arc::new(Entry {
            token,
            request,
            credentials: RwLock::new(None),
            gate: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
            failures: AtomicU32::new(0),
            next_attempt: AtomicI64::new(0),
            last_error: Mutex::new(None),
        });
        table.entries.insert(digest, Arc::clone(&entry));
        Ok(entry)
    }

    /// One broker call for `entry`; the result replaces what it held.
    async fn fetch(&self, entry: &Entry) -> Result<Arc<VendedCredentials>, VendError> {
        let result = self
            .broker
            .assume_role_with_web_identity(&entry.request, &entry.token.token)
            .await;
        match result {
            Ok(c) => {
                let c = Arc::new(c);
                *entry.credentials.write() = Some(Arc::clone(&c));
                entry.failures.store(0, Ordering::Release);
                // The next refresh, however the numbers are set, no sooner
                // than the refresh policy's minimum interval.
                entry.next_attempt.store(
                    self.policy
                        .refresh_at(c.received, c.expiration, (self.unit)()),
                    Ordering::Release,
                );
                *entry.last_error.lock() = None;
                tracing::info!(
                    subject = %entry.token.subject,
                    role = %entry.request.role_arn,
                    access_key_id = %c.access_key_id,
                    expiration = c.expiration,
                    "workload credentials issued"
                );
                Ok(c)
            }
            Err(e) => {
                tracing::warn!(
                    subject = %entry.token.subject,
                    role = %entry.request.role_arn,
                    error = %e,
                    "workload credential exchange failed"
                );
                let failures = entry
                    .failures
                    .fetch_add(1, Ordering::AcqRel)
                    .saturating_add(1);
                let delay = self.policy.retry_delay(failures, (self.unit)());
                let delay = i64::try_from(delay.as_secs().max(1)).unwrap_or(i64::MAX);
                entry.next_attempt.store(
                    self.clock.now_secs().saturating_add(delay),
                    Ordering::Release,
                );
                let e = match e {
                    BrokerError::Refused { code, message } => VendError::Refused { code, message },
                    BrokerError::Unreachable(m) | BrokerError::Token(m) => {
                        VendError::Unavailable(m)
                    }
                };
                // A token the broker refused and that never got credentials
                // leaves the table: its claims were never verified, so
                // forged tokens (any `exp`) must not fill it and lock out
                // real workloads.
                if matches!(e, VendError::Refused { .. }) && entry.credentials.read().is_none() {
                    self.table.lock().entries.remove(&entry.token.digest);
                }
                *entry.last_error.lock() = Some(e.clone());
                Err(e)
            }
        }
    }
}

impl std::fmt::Debug for Workloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workloads")
            .field("roles", &self.roles.len())
            .finish_non_exhaustive()
    }
}

/// A `RoleSessionName` for a subject: `system:serviceaccount:ns:name`
/// becomes `ns.name`; characters outside `[\w+=,.@-]` become `-`; at most
/// 64 characters.
fn session_name(subject: &str) -> String {
    let short = subject
        .strip_prefix("system:serviceaccount:")
        .map_or_else(|| subject.to_owned(), |rest| rest.replacen(':', ".", 1));
    let mut name: String = short
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.len() < 2 {
        name = format!("stsd-agent-{name}");
    }
    name
}
