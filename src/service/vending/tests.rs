//! The refresh loop and the node agent's table against a scripted broker
//! and a fixed clock: no test waits for real time.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use data_encoding::BASE64URL_NOPAD;
use parking_lot::Mutex;

use super::*;
use crate::domain::clock::{Clock, FixedClock};
use crate::domain::vending::RefreshPolicy;

const START: i64 = 1_700_000_000;
const ROLE: &str = "arn:aws:iam::123456789012:role/app";

/// A broker that answers from a script: `Ok(lifetime)` mints credentials
/// valid that long from the clock's now; `Err` fails. It records the
/// tokens it was given.
#[derive(Default)]
struct Scripted {
    clock: Arc<FixedClock>,
    script: Mutex<VecDeque<Result<i64, BrokerError>>>,
    calls: Mutex<Vec<(RoleRequest, Option<String>)>>,
}

impl Scripted {
    fn new(clock: &Arc<FixedClock>) -> Arc<Self> {
        Arc::new(Self {
            clock: Arc::clone(clock),
            ..Self::default()
        })
    }

    fn then(&self, r: Result<i64, BrokerError>) {
        self.script.lock().push_back(r);
    }

    fn calls(&self) -> usize {
        self.calls.lock().len()
    }

    fn answer(
        &self,
        request: &RoleRequest,
        token: Option<String>,
    ) -> Result<VendedCredentials, BrokerError> {
        let n = {
            let mut calls = self.calls.lock();
            calls.push((request.clone(), token));
            calls.len()
        };
        let lifetime = self
            .script
            .lock()
            .pop_front()
            .unwrap_or(Err(BrokerError::Unreachable("script ended".into())))?;
        let now = self.clock.now_secs();
        Ok(VendedCredentials {
            access_key_id: format!("ASIA{n:016}"),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
                .parse()
                .map_err(|_| BrokerError::Unreachable("secret".into()))?,
            session_token: crate::domain::secret::SessionToken::new(format!("token-{n}")),
            expiration: now + lifetime,
            received: now,
            role_arn: request.role_arn.clone(),
            assumed_role_arn: format!(
                "arn:aws:sts::123456789012:assumed-role/app/{}",
                request.session_name
            ),
            account_id: "123456789012".into(),
        })
    }
}

#[async_trait]
impl Broker for Scripted {
    async fn assume_role(&self, request: &RoleRequest) -> Result<VendedCredentials, BrokerError> {
        self.answer(request, None)
    }

    async fn assume_role_with_web_identity(
        &self,
        request: &RoleRequest,
        token: &BearerToken,
    ) -> Result<VendedCredentials, BrokerError> {
        self.answer(request, Some(token.expose_secret().to_owned()))
    }
}

/// A token "file" whose content the test replaces.
struct TokenCell(Mutex<Option<String>>);

impl TokenSource for TokenCell {
    fn read(&self) -> Result<BearerToken, String> {
        self.0
            .lock()
            .clone()
            .map(BearerToken::new)
            .ok_or_else(|| "/var/run/token: no such file".to_owned())
    }
}

fn policy() -> RefreshPolicy {
    RefreshPolicy {
        before_expiry: Duration::from_secs(300),
        jitter: Duration::from_secs(60),
        serve_margin: Duration::from_secs(60),
        retry_min: Duration::from_secs(1),
        retry_max: Duration::from_secs(60),
    }
}

fn unit(v: f64) -> Unit {
    Arc::new(move || v)
}

fn request() -> RoleRequest {
    RoleRequest {
        role_arn: ROLE.into(),
        session_name: "app".into(),
        duration_secs: 3600,
    }
}

fn key(c: &Option<Arc<VendedCredentials>>) -> Option<String> {
    c.as_ref().map(|c| c.access_key_id.clone())
}

#[tokio::test]
async fn a_sidecar_refreshes_ahead_of_expiry_and_not_before() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    broker.then(Ok(3600));
    broker.then(Ok(3600));
    let source = RoleSource::new(
        broker.clone(),
        Authentication::Signed,
        request(),
        policy(),
        clock.clone(),
        unit(0.5),
    );
    assert!(source.current().is_none(), "nothing before the first fetch");
    assert_eq!(source.health().status, HealthStatus::Unavailable);
    let wait = source.tick().await;
    assert_eq!(broker.calls(), 1);
    assert_eq!(
        wait,
        Duration::from_secs(60),
        "sleeps are capped at a minute"
    );
    let first = key(&source.current());
    assert!(first.is_some());
    assert_eq!(source.health().next_refresh, START + 3600 - 300 - 30);
    // Up to the refresh time, ticks do not call the broker.
    clock.set_secs(START + 3269);
    let wait = source.tick().await;
    assert_eq!((broker.calls(), wait), (1, Duration::from_secs(1)));
    clock.set_secs(START + 3270);
    source.tick().await;
    assert_eq!(broker.calls(), 2);
    assert_ne!(key(&source.current()), first, "new credentials are served");
    let h = source.health();
    assert_eq!((h.status, h.broker_calls), (HealthStatus::Fresh, 2));
}

#[tokio::test]
async fn an_outage_serves_the_last_good_credentials_until_the_margin_then_nothing() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    broker.then(Ok(900));
    let source = RoleSource::new(
        broker.clone(),
        Authentication::Signed,
        request(),
        policy(),
        clock.clone(),
        unit(1.0),
    );
    source.tick().await;
    let good = key(&source.current());
    // The broker is down from the first refresh on.
    clock.set_secs(START + 540);
    let mut waits = Vec::new();
    for _ in 0..4 {
        waits.push(source.tick().await);
        clock.advance(*waits.last().unwrap_or(&Duration::ZERO));
    }
    assert_eq!(
        waits,
        [1, 2, 4, 8].map(Duration::from_secs),
        "backoff doubles between failed calls"
    );
    assert_eq!(broker.calls(), 5);
    let h = source.health();
    assert_eq!(h.status, HealthStatus::Stale);
    assert_eq!(h.consecutive_failures, 4);
    assert!(h.last_error.is_some_and(|e| e.contains("unreachable")));
    assert_eq!(
        key(&source.current()),
        good,
        "last good credentials still served"
    );
    // 60 s before expiry nothing is served, though the credentials have not
    // expired yet; and expired ones never are.
    clock.set_secs(START + 839);
    assert_eq!(key(&source.current()), good);
    clock.set_secs(START + 840);
    assert!(source.current().is_none());
    assert_eq!(source.health().status, HealthStatus::Unavailable);
    clock.set_secs(START + 5000);
    assert!(source.current().is_none());
    // The broker comes back: the next due call recovers.
    broker.then(Ok(900));
    source.refresh().await;
    assert!(source.current().is_some());
    assert_eq!(source.health().consecutive_failures, 0);
}

#[tokio::test]
async fn the_token_file_is_read_again_at_every_refresh() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let file = Arc::new(TokenCell(Mutex::new(Some("jwt-1".into()))));
    let source = RoleSource::new(
        broker.clone(),
        Authentication::WebIdentity(file.clone()),
        request(),
        policy(),
        clock.clone(),
        unit(0.0),
    );
    broker.then(Ok(3600));
    source.refresh().await;
    *file.0.lock() = Some("jwt-2".into());
    broker.then(Ok(3600));
    source.refresh().await;
    let tokens: Vec<_> = broker.calls.lock().iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(tokens, [Some("jwt-1".into()), Some("jwt-2".into())]);
    // A missing file is a failure of its own; the broker is not called.
    *file.0.lock() = None;
    source.refresh().await;
    assert_eq!(broker.calls(), 2);
    let h = source.health();
    assert!(
        h.last_error.is_some_and(|e| e.contains("no such file")),
        "{:?}",
        source.health()
    );
    assert_eq!(h.status, HealthStatus::Stale);
}

fn jwt(sub: &str, exp: i64) -> String {
    format!(
        "{}.{}.c2ln",
        BASE64URL_NOPAD.encode(br#"{"alg":"RS256"}"#),
        BASE64URL_NOPAD.encode(format!(r#"{{"sub":"{sub}","exp":{exp}}}"#).as_bytes())
    )
}

fn workloads(clock: &Arc<FixedClock>, broker: &Arc<Scripted>, max: usize) -> Arc<Workloads> {
    workloads_with(clock, broker, max, policy())
}

/// The node agent's table of two service accounts, refreshing by `policy`.
fn workloads_with(
    clock: &Arc<FixedClock>,
    broker: &Arc<Scripted>,
    max: usize,
    policy: RefreshPolicy,
) -> Arc<Workloads> {
    Arc::new(Workloads::new(
        broker.clone(),
        vec![
            WorkloadRole {
                subject: "system:serviceaccount:prod:billing".into(),
                role_arn: ROLE.into(),
            },
            WorkloadRole {
                subject: "system:serviceaccount:prod:web".into(),
                role_arn: "arn:aws:iam::123456789012:role/web".into(),
            },
        ],
        3600,
        policy,
        clock.clone(),
        unit(0.0),
        max,
    ))
}

#[tokio::test]
async fn a_node_agent_maps_each_token_to_its_role_and_serves_from_memory() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let table = workloads(&clock, &broker, 100);
    let billing = jwt("system:serviceaccount:prod:billing", START + 3600);
    let web = jwt("system:serviceaccount:prod:web", START + 3600);
    broker.then(Ok(3600));
    broker.then(Ok(3600));
    let a = table.credentials(Some(&billing)).await;
    for _ in 0..10 {
        let again = table.credentials(Some(&billing)).await;
        assert_eq!(
            again.map(|c| c.access_key_id.clone()),
            a.clone().map(|c| c.access_key_id.clone())
        );
    }
    let w = table.credentials(Some(&web)).await;
    assert_eq!(broker.calls(), 2, "one exchange per token");
    let calls = broker.calls.lock().clone();
    assert_eq!(
        calls
            .first()
            .map(|(r, t)| (r.role_arn.as_str(), r.session_name.as_str(), t.as_deref())),
        Some((ROLE, "prod.billing", Some(billing.as_str())))
    );
    assert_eq!(
        calls.get(1).map(|(r, _)| r.role_arn.as_str()),
        Some("arn:aws:iam::123456789012:role/web")
    );
    assert!(w.is_ok() && a.is_ok());

    assert_eq!(
        table.credentials(None).await.err(),
        Some(VendError::MissingToken)
    );
    assert_eq!(
        table.credentials(Some("  ")).await.err(),
        Some(VendError::MissingToken)
    );
    let stranger = jwt("system:serviceaccount:dev:other", START + 3600);
    assert_eq!(
        table.credentials(Some(&stranger)).await.err(),
        Some(VendError::NoRole("system:serviceaccount:dev:other".into()))
    );
    assert_eq!(broker.calls(), 2, "refused before the broker");
}

#[tokio::test]
async fn a_node_agent_stops_serving_a_token_once_it_has_expired() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let table = workloads(&clock, &broker, 100);
    let billing = jwt("system:serviceaccount:prod:billing", START + 600);
    broker.then(Ok(3600));
    assert!(table.credentials(Some(&billing)).await.is_ok());
    clock.set_secs(START + 600);
    assert!(matches!(
        table.credentials(Some(&billing)).await,
        Err(VendError::BadToken(_))
    ));
    // The expired token's entry is swept when the next one arrives.
    let fresh = jwt("system:serviceaccount:prod:billing", START + 4000);
    broker.then(Ok(3600));
    assert!(table.credentials(Some(&fresh)).await.is_ok());
    assert_eq!(table.len(), 1);
}

#[tokio::test]
async fn a_node_agent_refreshes_in_the_background_and_backs_off_a_failing_broker() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let table = workloads(&clock, &broker, 100);
    let billing = jwt("system:serviceaccount:prod:billing", START + 7200);
    broker.then(Ok(900));
    let first = table
        .credentials(Some(&billing))
        .await
        .map(|c| c.access_key_id.clone());
    // Due (300 s left): the read is answered with what is held, and one
    // refresh starts; it fails (the script is empty).
    clock.set_secs(START + 600);
    let held = table
        .credentials(Some(&billing))
        .await
        .map(|c| c.access_key_id.clone());
    assert_eq!(held, first);
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    assert_eq!(broker.calls(), 2);
    // Many reads within the backoff make no call.
    for _ in 0..50 {
        assert!(table.credentials(Some(&billing)).await.is_ok());
        tokio::task::yield_now().await;
    }
    assert_eq!(broker.calls(), 2);
    // Past the margin nothing held is served: the read waits for an
    // exchange, which fails; within the backoff the next read is refused
    // without a call; after it, the broker is back.
    clock.set_secs(START + 840);
    assert!(matches!(
        table.credentials(Some(&billing)).await,
        Err(VendError::Unavailable(_))
    ));
    assert_eq!(broker.calls(), 3);
    assert!(matches!(
        table.credentials(Some(&billing)).await,
        Err(VendError::Unavailable(_))
    ));
    assert_eq!(broker.calls(), 3, "no call within the backoff");
    clock.set_secs(START + 841);
    broker.then(Ok(900));
    let after = table
        .credentials(Some(&billing))
        .await
        .map(|c| c.access_key_id.clone());
    assert!(after.is_ok(), "the broker is back: a fresh exchange");
    assert_ne!(after, first);
    assert_eq!(broker.calls(), 4);
}

#[tokio::test]
async fn a_full_table_refuses_new_tokens_until_old_ones_expire() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let table = workloads(&clock, &broker, 1);
    broker.then(Ok(3600));
    broker.then(Ok(3600));
    let a = jwt("system:serviceaccount:prod:billing", START + 100);
    let b = jwt("system:serviceaccount:prod:web", START + 1000);
    assert!(table.credentials(Some(&a)).await.is_ok());
    assert_eq!(
        table.credentials(Some(&b)).await.err(),
        Some(VendError::Full)
    );
    clock.set_secs(START + 100);
    assert!(table.credentials(Some(&b)).await.is_ok());
}

#[tokio::test]
async fn tokens_the_broker_refuses_do_not_fill_the_table() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    let table = workloads(&clock, &broker, 2);
    // Forged tokens with far-future expiry: the broker refuses each.
    for n in 0..5 {
        broker.then(Err(BrokerError::Refused {
            code: "InvalidIdentityToken".into(),
            message: "bad signature".into(),
        }));
        let forged = jwt("system:serviceaccount:prod:billing", START + 1_000_000 + n);
        assert!(matches!(
            table.credentials(Some(&forged)).await,
            Err(VendError::Refused { .. })
        ));
    }
    assert!(table.is_empty(), "refused tokens hold no place");
    // A real workload still gets in.
    broker.then(Ok(3600));
    let real = jwt("system:serviceaccount:prod:web", START + 3600);
    assert!(table.credentials(Some(&real)).await.is_ok());
    assert_eq!(table.len(), 1);
}

#[tokio::test]
async fn a_node_agent_does_not_refresh_in_a_loop_when_every_session_is_due() {
    let clock = Arc::new(FixedClock::at_secs(START));
    let broker = Scripted::new(&clock);
    // A refresh window longer than the sessions: each is due at once.
    let eager = RefreshPolicy {
        before_expiry: Duration::from_secs(3600),
        ..policy()
    };
    let table = workloads_with(&clock, &broker, 10, eager);
    let billing = jwt("system:serviceaccount:prod:billing", START + 3600);
    for _ in 0..3 {
        broker.then(Ok(900));
    }
    for _ in 0..20 {
        assert!(table.credentials(Some(&billing)).await.is_ok());
        tokio::task::yield_now().await;
    }
    assert_eq!(broker.calls(), 1, "no refresh before the minimum interval");
    clock.advance(Duration::from_secs(
        u64::try_from(crate::domain::vending::MIN_REFRESH_INTERVAL_SECS).unwrap_or(5),
    ));
    assert!(table.credentials(Some(&billing)).await.is_ok());
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    assert_eq!(broker.calls(), 2);
}
