//! Prometheus metrics.
//!
//! Owns: the process's one metrics registry ([`metrics`]) and its text
//! rendering ([`render`], Prometheus text format 0.0.4). Like `tracing`, it
//! is a facade every layer outside `domain` may record into without
//! plumbing; it imports nothing internal.
//!
//! # Why hand-rolled atomics
//!
//! Every series this daemon exports has a label set known at compile time
//! except the request action, so each is a plain `AtomicU64` (histograms: a
//! fixed bucket array of them). Recording is one or two relaxed
//! `fetch_add`s: no lock, no allocation. The per-action table is the one
//! map; the request path takes its read lock, and a write lock only the
//! first time an action is seen. `prometheus-client` keeps histograms
//! behind a lock per observation and the `metrics` crate adds a recorder
//! indirection and label allocation per call, which the Authorize path
//! (tens of thousands of requests a second) should not pay.
//!
//! Every metric is listed in README.md ("Metrics").

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Success,
    /// A 4xx answer other than the two below.
    ClientError,
    /// A policy or MFA denial (`AccessDenied`).
    Denied,
    /// A rate limit answered `Throttling`.
    Throttled,
    /// A 5xx answer.
    ServerError,
}

impl Outcome {
    const ALL: [Self; 5] = [
        Self::Success,
        Self::ClientError,
        Self::Denied,
        Self::Throttled,
        Self::ServerError,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::ClientError => "client_error",
            Self::Denied => "denied",
            Self::Throttled => "throttled",
            Self::ServerError => "server_error",
        }
    }

    /// The outcome of an answer with HTTP `status` and AWS error `code`.
    pub fn of(status: u16, code: Option<&str>) -> Self {
        match code {
            Some("Throttling") => Self::Throttled,
            Some("AccessDenied") => Self::Denied,
            _ if status >= 500 => Self::ServerError,
            _ if status >= 400 || code.is_some() => Self::ClientError,
            _ => Self::Success,
        }
    }
}

/// A named, fixed set of labelled counters.
macro_rules! labelled {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[expect(missing_docs, reason = "each variant is its label, listed in README.md")]
        pub enum $name { $($variant),+ }

        impl $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const COUNT: usize = Self::ALL.len();
            fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

labelled!(
    /// The kind of credential issued (`stsd_credentials_issued_total{type}`).
    CredentialKind {
        AssumeRole => "AssumeRole",
        AssumeRoleWithSaml => "AssumeRoleWithSAML",
        AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
        GetSessionToken => "GetSessionToken",
        GetFederationToken => "GetFederationToken",
        AccessKey => "AccessKey",
    }
);

labelled!(
    /// An `Authorize` answer (`stsd_authorize_decisions_total{decision}`).
    Decision {
        Allow => "allow",
        ExplicitDeny => "explicit_deny",
        ImplicitDeny => "implicit_deny",
        Unauthenticated => "unauthenticated",
        Error => "error",
    }
);

labelled!(
    /// A request-path cache (`stsd_cache_requests_total{cache,result}`).
    Cache {
        Sessions => "sessions",
        SigningKeys => "signing_keys",
        Identities => "identities",
        Jwks => "jwks",
    }
);

labelled!(
    /// A document fetched from an OIDC provider
    /// (`stsd_idp_refreshes_total{kind,result}`).
    IdpDocument {
        Jwks => "jwks",
        OidcDiscovery => "oidc_discovery",
    }
);

labelled!(
    /// A rate limit (`stsd_rate_limited_total{limit}`).
    Limit {
        AuthFailuresPerSourceIp => "auth_failures_per_source_ip",
        AuthFailuresPerPrincipal => "auth_failures_per_principal",
        AssumeRolePerPrincipal => "assume_role_per_principal",
        MfaDeviceLockout => "mfa_device_lockout",
    }
);

labelled!(
    /// A store operation (`stsd_store_operation_seconds{op}`).
    StoreOp {
        Commit => "commit",
    }
);

/// A histogram with [`LATENCY_BUCKETS`] (cumulative only when rendered).
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b)
            && let Some(bucket) = self.buckets.get(i)
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = micros_to_secs(self.sum_micros.load(Ordering::Relaxed));
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "a latency sum in seconds for display"
)]
fn micros_to_secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

/// One action's request counters and latency.
#[derive(Debug, Default)]
pub struct ActionSeries {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    latency: Histogram,
}

/// Counters indexed by a [`labelled!`] enum.
#[derive(Debug)]
struct Counters<const N: usize>([AtomicU64; N]);

impl<const N: usize> Default for Counters<N> {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl<const N: usize> Counters<N> {
    fn inc(&self, i: usize) {
        if let Some(c) = self.0.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self, i: usize) -> u64 {
        self.0.get(i).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    actions: RwLock<HashMap<Box<str>, Arc<ActionSeries>>>,
    credentials: Counters<{ CredentialKind::COUNT }>,
    decisions: Counters<{ Decision::COUNT }>,
    cache_hits: Counters<{ Cache::COUNT }>,
    cache_misses: Counters<{ Cache::COUNT }>,
    idp_ok: Counters<{ IdpDocument::COUNT }>,
    idp_failed: Counters<{ IdpDocument::COUNT }>,
    limited: Counters<{ Limit::COUNT }>,
    store_latency: [Histogram; StoreOp::COUNT],
    store_errors: Counters<{ StoreOp::COUNT }>,
    revocations: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process's registry.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

// === impl Metrics ===

impl Metrics {
    /// One request to `action` (the Query action or gRPC method) that
    /// ended with `outcome` after `elapsed`.
    pub fn request(&self, action: &str, outcome: Outcome, elapsed: Duration) {
        let series = self.actions.read().get(action).cloned();
        let series = match series {
            Some(s) => s,
            None => Arc::clone(self.actions.write().entry(action.into()).or_default()),
        };
        if let Some(i) = Outcome::ALL.iter().position(|o| *o == outcome)
            && let Some(c) = series.outcomes.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        series.latency.observe(elapsed);
    }

    /// One credential of `kind` issued.
    pub fn credential_issued(&self, kind: CredentialKind) {
        self.credentials.inc(kind.index());
    }

    /// One `Authorize` answer.
    pub fn decision(&self, decision: Decision) {
        self.decisions.inc(decision.index());
    }

    /// One look-up in `cache`.
    pub fn cache(&self, cache: Cache, hit: bool) {
        if hit {
            self.cache_hits.inc(cache.index());
        } else {
            self.cache_misses.inc(cache.index());
        }
    }

    /// One fetch of an IdP document.
    pub fn idp_refresh(&self, document: IdpDocument, ok: bool) {
        if ok {
            self.idp_ok.inc(document.index());
        } else {
            self.idp_failed.inc(document.index());
        }
    }

    /// One request refused by `limit`.
    pub fn rate_limited(&self, limit: Limit) {
        self.limited.inc(limit.index());
    }

    /// One store operation.
    pub fn store(&self, op: StoreOp, elapsed: Duration, ok: bool) {
        if let Some(h) = self.store_latency.get(op.index()) {
            h.observe(elapsed);
        }
        if !ok {
            self.store_errors.inc(op.index());
        }
    }

    /// One session or key revoked.
    pub fn revoked(&self) {
        self.revocations.fetch_add(1, Ordering::Relaxed);
    }

    /// One configuration reload, applied or refused.
    pub fn reload(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes `# HELP` and `# TYPE`.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders every series as Prometheus text (format 0.0.4).
pub fn render() -> String {
    let m = metrics();
    let mut out = String::with_capacity(8 * 1024);
    render_requests(m, &mut out);
    labelled_counter(
        &mut out,
        "stsd_credentials_issued_total",
        "Credentials issued, by type.",
        "type",
        CredentialKind::ALL
            .iter()
            .map(|k| (k.label(), m.credentials.get(k.index()))),
    );
    labelled_counter(
        &mut out,
        "stsd_authorize_decisions_total",
        "Authorize answers, by decision.",
        "decision",
        Decision::ALL
            .iter()
            .map(|d| (d.label(), m.decisions.get(d.index()))),
    );
    header(
        &mut out,
        "stsd_cache_requests_total",
        "counter",
        "Request-path cache look-ups, by cache and result.",
    );
    for c in Cache::ALL {
        let (hits, misses) = (m.cache_hits.get(c.index()), m.cache_misses.get(c.index()));
        let l = c.label();
        let _ = writeln!(
            out,
            "stsd_cache_requests_total{{cache=\"{l}\",result=\"hit\"}} {hits}"
        );
        let _ = writeln!(
            out,
            "stsd_cache_requests_total{{cache=\"{l}\",result=\"miss\"}} {misses}"
        );
    }
    header(
        &mut out,
        "stsd_idp_refreshes_total",
        "counter",
        "Fetches of OIDC discovery documents and JWKS, by result.",
    );
    for d in IdpDocument::ALL {
        let (ok, failed) = (m.idp_ok.get(d.index()), m.idp_failed.get(d.index()));
        let l = d.label();
        let _ = writeln!(
            out,
            "stsd_idp_refreshes_total{{kind=\"{l}\",result=\"ok\"}} {ok}"
        );
        let _ = writeln!(
            out,
            "stsd_idp_refreshes_total{{kind=\"{l}\",result=\"failure\"}} {failed}"
        );
    }
    labelled_counter(
        &mut out,
        "stsd_rate_limited_total",
        "Requests refused with Throttling, by limit.",
        "limit",
        Limit::ALL
            .iter()
            .map(|l| (l.label(), m.limited.get(l.index()))),
    );
    header(
        &mut out,
        "stsd_store_operation_seconds",
        "histogram",
        "Store commits (every IAM write, MFA check and replay guard), in seconds.",
    );
    for op in StoreOp::ALL {
        if let Some(h) = m.store_latency.get(op.index()) {
            h.render(
                &mut out,
                "stsd_store_operation_seconds",
                &format!("op=\"{}\"", op.label()),
            );
        }
    }
    labelled_counter(
        &mut out,
        "stsd_store_errors_total",
        "Store operations that failed, by operation.",
        "op",
        StoreOp::ALL
            .iter()
            .map(|o| (o.label(), m.store_errors.get(o.index()))),
    );
    header(
        &mut out,
        "stsd_revocations_total",
        "counter",
        "Sessions and keys revoked.",
    );
    let _ = writeln!(
        out,
        "stsd_revocations_total {}",
        m.revocations.load(Ordering::Relaxed)
    );
    labelled_counter(
        &mut out,
        "stsd_config_reloads_total",
        "Configuration reloads, by result.",
        "result",
        [
            ("ok", m.reloads_ok.load(Ordering::Relaxed)),
            ("failure", m.reloads_failed.load(Ordering::Relaxed)),
        ]
        .into_iter(),
    );
    out
}

fn render_requests(m: &Metrics, out: &mut String) {
    let mut actions: Vec<(Box<str>, Arc<ActionSeries>)> = m
        .actions
        .read()
        .iter()
        .map(|(k, v)| (k.clone(), Arc::clone(v)))
        .collect();
    actions.sort_by(|a, b| a.0.cmp(&b.0));
    header(
        out,
        "stsd_requests_total",
        "counter",
        "Requests answered, by action and outcome.",
    );
    for (action, series) in &actions {
        let action = escape(action);
        for (outcome, count) in Outcome::ALL.iter().zip(&series.outcomes) {
            let n = count.load(Ordering::Relaxed);
            if n > 0 {
                let _ = writeln!(
                    out,
                    "stsd_requests_total{{action=\"{action}\",outcome=\"{}\"}} {n}",
                    outcome.label()
                );
            }
        }
    }
    header(
        out,
        "stsd_request_duration_seconds",
        "histogram",
        "Request latency, by action, in seconds.",
    );
    for (action, series) in &actions {
        let labels = format!("action=\"{}\"", escape(action));
        series
            .latency
            .render(out, "stsd_request_duration_seconds", &labels);
    }
}

fn labelled_counter<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    values: impl Iterator<Item = (&'a str, u64)>,
) {
    header(out, name, "counter", help);
    for (value, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn outcomes_follow_the_status_and_code() {
        assert_eq!(Outcome::of(200, None), Outcome::Success);
        assert_eq!(Outcome::of(400, Some("Throttling")), Outcome::Throttled);
        assert_eq!(Outcome::of(403, Some("AccessDenied")), Outcome::Denied);
        assert_eq!(
            Outcome::of(403, Some("SignatureDoesNotMatch")),
            Outcome::ClientError
        );
        assert_eq!(
            Outcome::of(503, Some("ServiceUnavailable")),
            Outcome::ServerError
        );
    }

    #[test]
    fn a_recorded_request_renders_with_its_histogram() {
        let m = metrics();
        m.request(
            "UnitTestAction\"x",
            Outcome::Success,
            Duration::from_millis(3),
        );
        m.request(
            "UnitTestAction\"x",
            Outcome::Success,
            Duration::from_secs(9),
        );
        let text = render();
        assert!(
            text.contains(
                "stsd_requests_total{action=\"UnitTestAction\\\"x\",outcome=\"success\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(
            "stsd_request_duration_seconds_bucket{action=\"UnitTestAction\\\"x\",le=\"0.005\"} 1"
        ), "{text}");
        assert!(
            text.contains(
                "stsd_request_duration_seconds_bucket{action=\"UnitTestAction\\\"x\",le=\"+Inf\"} 2"
            ),
            "{text}"
        );
    }
}
