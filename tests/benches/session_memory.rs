//! Memory per cached session (issue 11: goal ≤ 1 KiB each at 100,000 and
//! 1,000,000 sessions).
//!
//! One [`Authenticator`] with session credentials enabled and both of its
//! caches sized above the largest count (`[caches] sessions` and
//! `signing_keys`). For each of N distinct sessions a role session is
//! minted and sealed, a `POST /` to STS is signed with it, and the request
//! is authenticated: the token is opened and kept in the session cache with
//! the signing key derived for the request's scope — exactly what the
//! daemon keeps for a session that has made a call (`cached` counts the
//! session cache's entries and the shared signing-key cache's, which
//! sessions no longer use). The resident
//! set (`/proc/self/statm`) is read after a warm-up request and again after
//! 100,000 and 1,000,000 sessions (the caches' pending work run first); the
//! difference divided by the count is the figure. The bench allocates with
//! mimalloc, as the daemon does.
//!
//! `cargo bench --locked --bench session_memory` (counts from
//! `STSD_BENCH_SESSIONS`, default `100000,1000000`); under `cargo test` a
//! smoke run of 2,000 sessions.

#![expect(
    clippy::unwrap_used,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use stsd::domain::clock::{Clock, SystemClock};
use stsd::domain::credential::{
    KeyRing, SealingKey, SealingKeyId, Session, SessionPrincipal, SessionTag, mint_keys,
};
use stsd::domain::ids::AccountId;
use stsd::domain::seal::{MasterKey, SealKeyId};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use stsd::service::authn::{Authenticator, AuthnSettings, CacheSizes, CredentialLookup, StoredKey};
use stsd::service::error::ServiceError;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

/// No long-term keys: every request here is signed with a session.
struct NoKeys;

#[async_trait::async_trait]
impl CredentialLookup for NoKeys {
    async fn lookup(
        &self,
        _id: &stsd::domain::ids::AccessKeyId,
    ) -> Result<Option<Arc<StoredKey>>, ServiceError> {
        Ok(None)
    }
}

fn os_rng(buf: &mut [u8]) {
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf).unwrap();
}

/// A role session like the ones AssumeRole mints (two tags, a source
/// identity).
fn session(account: AccountId, i: usize, t0: u64) -> Session {
    let (access_key_id, secret) = mint_keys(account, &mut os_rng);
    Session {
        access_key_id,
        secret,
        account,
        principal: SessionPrincipal::AssumedRole {
            role_arn: "arn:aws:iam::111122223333:role/ci/build-runner"
                .parse()
                .unwrap(),
            role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
            session_name: format!("ci-{i}"),
        },
        policy: None,
        policy_arns: vec![],
        tags: vec![
            SessionTag {
                key: "Project".into(),
                value: "Apollo".into(),
            },
            SessionTag {
                key: "Team".into(),
                value: "platform".into(),
            },
        ],
        transitive_tag_keys: vec![],
        source_identity: Some("alice".into()),
        mfa: None,
        issued_at: t0,
        expires_at: t0 + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

/// Resident set of this process, bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split(' ').nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Signs a GetCallerIdentity with session `s` and authenticates it.
fn call(rt: &tokio::runtime::Runtime, authn: &Authenticator, ring: &KeyRing, s: &Session) {
    let token = ring.seal(s, &mut os_rng).unwrap();
    let headers = [
        ("host", "sts.us-east-1.amazonaws.com"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(BODY),
    };
    let id = s.access_key_id.to_string();
    let params = SigningParams {
        access_key_id: &id,
        secret: &s.secret,
        security_token: Some(&token),
        region: "us-east-1",
        service: "sts",
        timestamp: AmzDate::from_unix_secs(SystemClock.now_secs()).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.extend(signed.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let view = RequestView {
        headers: &all,
        ..view
    };
    let caller = rt.block_on(authn.authenticate(&view, "sts")).unwrap();
    assert!(caller.session().is_some());
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let counts: Vec<usize> = if smoke {
        vec![2_000]
    } else {
        std::env::var("STSD_BENCH_SESSIONS")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "100000,1000000".into())
            .split(',')
            .map(|n| n.trim().parse().unwrap())
            .collect()
    };
    let largest = *counts.iter().max().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let master = MasterKey::from_bytes(SealKeyId::new("m1").unwrap(), [7; 32]);
    let ring = Arc::new(KeyRing::new(
        SealingKey::derive(&master, SealingKeyId::new("s1").unwrap()),
        vec![],
    ));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = AuthnSettings {
        regions: vec!["us-east-1".to_owned()],
        max_skew: Duration::from_secs(900),
        max_presigned_lifetime: Duration::from_secs(604_800),
    };
    let capacity = u64::try_from(largest).unwrap() + 1_000;
    let authn = Authenticator::new(Arc::new(NoKeys), clock, settings)
        .with_cache_sizes(CacheSizes {
            sessions: capacity,
            signing_keys: capacity,
        })
        .with_sessions(Arc::clone(&ring));
    let account: AccountId = "111122223333".parse().unwrap();
    let t0 = SystemClock.now_secs().unsigned_abs();
    // Warm-up: the allocator's, tokio's and the caches' first allocations.
    for i in 0..100 {
        call(&rt, &authn, &ring, &session(account, i, t0));
    }
    authn.run_pending_cache_tasks();
    let base = rss();
    let mut done = 0;
    println!(
        "{:>10} {:>14} {:>14} {:>12}",
        "sessions", "RSS delta", "per session", "cached"
    );
    for &n in &counts {
        while done < n {
            call(&rt, &authn, &ring, &session(account, 100 + done, t0));
            done += 1;
        }
        authn.run_pending_cache_tasks();
        let (sessions, keys) = authn.cache_entries();
        let delta = rss().saturating_sub(base);
        let per = delta as f64 / n as f64;
        println!(
            "{n:>10} {:>11.1} MB {per:>11.0} B {sessions:>6}+{keys}",
            delta as f64 / 1e6
        );
        println!(
            "BENCH-SESSIONS\tsessions={n}\trss_delta_bytes={delta}\tper_session_bytes={per:.0}\tsession_entries={sessions}\tkey_entries={keys}"
        );
        assert!(sessions >= n as u64, "every session must be cached");
    }
}
