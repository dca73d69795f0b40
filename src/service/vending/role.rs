//! A sidecar's one role.
//!
//! Owns: [`RoleSource`] — the credentials of the configured role, held in
//! memory for the endpoints to read, and the refresh loop: fetch at start,
//! then again `RefreshPolicy::refresh_at` (ahead of expiry, jittered);
//! after a failure, retry with backoff while the last good credentials are
//! still served — until they come within the serve margin of expiry, after
//! which nothing is served. [`Health`] says how fresh they are.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;

use super::{Authentication, Broker, BrokerError, RoleRequest, Unit, call};
use crate::domain::clock::Clock;
use crate::domain::vending::{RefreshPolicy, VendedCredentials};

/// The loop never sleeps longer than this at once, so it notices a clock
/// that jumped (a host suspended and resumed) within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The credentials of one role and their refresh loop.
pub struct RoleSource {
    broker: Arc<dyn Broker>,
    auth: Authentication,
    request: RoleRequest,
    policy: RefreshPolicy,
    clock: Arc<dyn Clock>,
    unit: Unit,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<VendedCredentials>>,
    /// When the next broker call is due (seconds since the epoch); 0: now.
    next_attempt: i64,
    failures: u32,
    last_error: Option<String>,
    last_success: Option<i64>,
    calls: u64,
}

/// How fresh a source's credentials are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Servable, and the last refresh succeeded.
    Fresh,
    /// Servable, but refreshes are failing (the broker is unreachable or
    /// refusing): the last good credentials are being served.
    Stale,
    /// Nothing servable: never fetched, or too close to expiry.
    Unavailable,
}

/// The health endpoint's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Summary.
    pub status: HealthStatus,
    /// The role.
    pub role_arn: String,
    /// Expiry of the credentials held, seconds since the epoch.
    pub expiration: Option<i64>,
    /// Seconds left before they expire.
    pub seconds_left: Option<i64>,
    /// When the last refresh succeeded.
    pub last_refresh: Option<i64>,
    /// When the next broker call is due.
    pub next_refresh: i64,
    /// Failed calls in a row.
    pub consecutive_failures: u32,
    /// The last failure, when the last call failed.
    pub last_error: Option<String>,
    /// Broker calls made since start.
    pub broker_calls: u64,
}

// === impl RoleSource ===

impl RoleSource {
    /// A source with nothing fetched yet.
    pub fn new(
        broker: Arc<dyn Broker>,
        auth: Authentication,
        request: RoleRequest,
        policy: RefreshPolicy,
        clock: Arc<dyn Clock>,
        unit: Unit,
    ) -> Self {
        Self {
            broker,
            auth,
            request,
            policy,
            clock,
            unit,
            state: RwLock::new(State::default()),
        }
    }

    /// The role this source vends.
    pub fn role_arn(&self) -> &str {
        &self.request.role_arn
    }

    /// The credentials to serve now, if any may be served.
    pub fn current(&self) -> Option<Arc<VendedCredentials>> {
        let now = self.clock.now_secs();
        let state = self.state.read();
        state
            .current
            .as_ref()
            .filter(|c| self.policy.servable(c.expiration, now))
            .map(Arc::clone)
    }

    /// One turn of the loop: calls the broker if a call is due, and says
    /// how long to wait before the next turn.
    pub async fn tick(&self) -> Duration {
        let now = self.clock.now_secs();
        let due = self.state.read().next_attempt;
        if now >= due {
            self.refresh().await;
        }
        let next = self.state.read().next_attempt;
        let wait = u64::try_from(next.saturating_sub(self.clock.now_secs())).unwrap_or(0);
        Duration::from_secs(wait).min(MAX_SLEEP)
    }

    /// Calls the broker now and records the outcome; the next call is
    /// scheduled by the refresh policy (success) or the backoff (failure).
    pub async fn refresh(&self) {
        let result = call(self.broker.as_ref(), &self.auth, &self.request).await;
        let now = self.clock.now_secs();
        let mut state = self.state.write();
        state.calls = state.calls.saturating_add(1);
        match result {
            Ok(credentials) => {
                state.next_attempt = self.policy.refresh_at(
                    credentials.received,
                    credentials.expiration,
                    (self.unit)(),
                );
                tracing::info!(
                    role = %self.request.role_arn,
                    access_key_id = %credentials.access_key_id,
                    expiration = credentials.expiration,
                    next_refresh = state.next_attempt,
                    "credentials refreshed"
                );
                state.current = Some(Arc::new(credentials));
                state.failures = 0;
                state.last_error = None;
                state.last_success = Some(now);
            }
            Err(e) => {
                state.failures = state.failures.saturating_add(1);
                let delay = self.policy.retry_delay(state.failures, (self.unit)());
                // Whole seconds, at least one: the clock is read in seconds.
                let delay = i64::try_from(delay.as_secs().max(1)).unwrap_or(i64::MAX);
                state.next_attempt = now.saturating_add(delay);
                let serving = state
                    .current
                    .as_ref()
                    .is_some_and(|c| self.policy.servable(c.expiration, now));
                tracing::warn!(
                    role = %self.request.role_arn,
                    error = %e,
                    failures = state.failures,
                    retry_in_secs = delay,
                    serving_last_good = serving,
                    "credential refresh failed"
                );
                state.last_error = Some(describe(&e));
            }
        }
    }

    /// Runs the loop until `shutdown` completes.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // A broker call in flight does not hold up shutdown.
            let wait = tokio::select! {
                w = self.tick() => w,
                () = &mut shutdown => return,
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// How fresh the credentials are.
    pub fn health(&self) -> Health {
        let now = self.clock.now_secs();
        let state = self.state.read();
        let servable = state
            .current
            .as_ref()
            .is_some_and(|c| self.policy.servable(c.expiration, now));
        let status = match (servable, state.failures) {
            (false, _) => HealthStatus::Unavailable,
            (true, 0) => HealthStatus::Fresh,
            (true, _) => HealthStatus::Stale,
        };
        Health {
            status,
            role_arn: self.request.role_arn.clone(),
            expiration: state.current.as_ref().map(|c| c.expiration),
            seconds_left: state.current.as_ref().map(|c| c.remaining(now)),
            last_refresh: state.last_success,
            next_refresh: state.next_attempt,
            consecutive_failures: state.failures,
            last_error: state.last_error.clone(),
            broker_calls: state.calls,
        }
    }
}

impl std::fmt::Debug for RoleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSource")
            .field("role_arn", &self.request.role_arn)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A failure as the health endpoint shows it (never a secret: broker
/// messages and file names only).
pub(super) fn describe(e: &BrokerError) -> String {
    e.to_string()
}
