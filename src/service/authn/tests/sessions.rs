//! Session credentials: `ASIA…` keys with a sealed `X-Amz-Security-Token`.

use super::{BODY, T0, account, authenticator, run};
use crate::domain::clock::FixedClock;
use crate::domain::credential::mint_keys;
use crate::domain::credential::{KeyRing, SealingKey, SealingKeyId, Session, SessionPrincipal};
use crate::domain::ids::Partition;
use crate::domain::seal::{MasterKey, SealKeyId};
use crate::domain::secret::{SecretAccessKey, SessionToken};
use crate::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use crate::service::authn::session_cache::{MAX_SCOPES, SessionCache};
use crate::service::authn::{Authenticator, Identity, KeyStatus};
use crate::service::error::ErrorCode;
use std::sync::Arc;

fn ring(active: &str, accepted: &[&str]) -> Arc<KeyRing> {
    let master = MasterKey::from_bytes(SealKeyId::new("m").unwrap(), [3; 32]);
    let key = |id: &str| SealingKey::derive(&master, SealingKeyId::new(id).unwrap());
    Arc::new(KeyRing::new(
        key(active),
        accepted.iter().map(|id| key(id)).collect(),
    ))
}

fn seeded(seed: u8) -> impl FnMut(&mut [u8]) {
    let mut n = seed;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_mul(29).wrapping_add(11);
            *b = n;
        }
    }
}

fn role_session(seed: u8) -> Session {
    let (access_key_id, secret) = mint_keys(account(), &mut seeded(seed));
    Session {
        access_key_id,
        secret,
        account: account(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: "arn:aws:iam::123456789012:role/ops/Deploy".parse().unwrap(),
            role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
            session_name: "ci-1".into(),
        },
        policy: None,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        mfa: None,
        issued_at: u64::try_from(T0).unwrap() - 10,
        expires_at: u64::try_from(T0).unwrap() + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

fn with_sessions(ring: Arc<KeyRing>, clock: &Arc<FixedClock>) -> Authenticator {
    let base = authenticator(KeyStatus::Active, T0);
    Authenticator::new(base.lookup, clock.clone(), base.settings).with_sessions(ring)
}

/// A request signed by `id`/`secret` carrying `token` (header or query).
fn signed(
    id: &str,
    secret: &SecretAccessKey,
    token: &SessionToken,
    location: SignatureLocation,
) -> (Vec<(String, String)>, String) {
    let headers = [
        ("host", "127.0.0.1:8433"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let query = if matches!(location, SignatureLocation::Query { .. }) {
        "Action=GetCallerIdentity&Version=2011-06-15"
    } else {
        ""
    };
    let view = RequestView {
        method: "POST",
        path: "/",
        query,
        headers: &headers,
        payload: Payload::Bytes(BODY),
    };
    let params = SigningParams {
        access_key_id: id,
        secret,
        security_token: Some(token),
        region: "us-east-1",
        service: "sts",
        timestamp: AmzDate::from_unix_secs(T0).unwrap(),
        location,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    all.extend(signed.headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
    (all, signed.query)
}

fn seal(ring: &KeyRing, s: &Session) -> SessionToken {
    ring.seal(s, &mut seeded(99)).unwrap()
}

fn invalid(code: ErrorCode) {
    assert_eq!(code, ErrorCode::InvalidClientTokenId);
}

#[tokio::test]
async fn a_session_signed_request_verifies_in_headers_and_query() {
    let keys = ring("s1", &[]);
    let clock = Arc::new(FixedClock::at_secs(T0 + 5));
    let a = with_sessions(keys.clone(), &clock);
    let s = role_session(1);
    let token = seal(&keys, &s);
    for location in [
        SignatureLocation::Headers,
        SignatureLocation::Query { expires_in: 60 },
    ] {
        let (h, q) = signed(s.access_key_id.as_str(), &s.secret, &token, location);
        let caller = run(&a, &h, &q, "sts").await.unwrap();
        assert_eq!(caller.identity, Identity::Session(Arc::new(s.clone())));
        assert_eq!(caller.account, account());
        assert_eq!(caller.access_key_id, Some(s.access_key_id.clone()));
        assert_eq!(
            caller.arn(&Partition::default()).as_str(),
            "arn:aws:sts::123456789012:assumed-role/Deploy/ci-1"
        );
        assert_eq!(caller.user_id(), "AROARTX3GSDS77UAUCCVQ:ci-1");
        assert_eq!(caller.session(), Some(&s));
    }
}

#[tokio::test]
async fn a_token_of_another_key_id_is_invalid() {
    let keys = ring("s1", &[]);
    let a = with_sessions(keys.clone(), &Arc::new(FixedClock::at_secs(T0)));
    let (one, two) = (role_session(1), role_session(2));
    assert_ne!(one.access_key_id, two.access_key_id);
    // Signed correctly by session two, but carrying session one's token.
    let (h, q) = signed(
        two.access_key_id.as_str(),
        &two.secret,
        &seal(&keys, &one),
        SignatureLocation::Headers,
    );
    let e = run(&a, &h, &q, "sts").await.unwrap_err();
    invalid(e.code());
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn a_tampered_or_garbage_token_is_invalid() {
    let keys = ring("s1", &[]);
    let a = with_sessions(keys.clone(), &Arc::new(FixedClock::at_secs(T0)));
    let s = role_session(1);
    let good = seal(&keys, &s);
    let text = good.expose_secret();
    let mut chars: Vec<char> = text.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        tampered.as_str(),
        "token",
        "",
        "AQoDYXdzEPT//////////wEXAMPLE",
    ] {
        let (h, q) = signed(
            s.access_key_id.as_str(),
            &s.secret,
            &SessionToken::new(bad),
            SignatureLocation::Headers,
        );
        let e = run(&a, &h, &q, "sts").await.unwrap_err();
        invalid(e.code());
    }
}

#[tokio::test]
async fn an_expired_session_is_refused_with_expired_token() {
    let keys = ring("s1", &[]);
    let clock = Arc::new(FixedClock::at_secs(T0));
    let a = with_sessions(keys.clone(), &clock);
    let mut s = role_session(1);
    s.expires_at = u64::try_from(T0).unwrap() + 60;
    let token = seal(&keys, &s);
    let (h, q) = signed(
        s.access_key_id.as_str(),
        &s.secret,
        &token,
        SignatureLocation::Headers,
    );
    clock.set_secs(T0 + 59);
    assert!(run(&a, &h, &q, "sts").await.is_ok());
    clock.set_secs(T0 + 60);
    let e = run(&a, &h, &q, "sts").await.unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (
            ErrorCode::ExpiredToken,
            "The security token included in the request is expired"
        )
    );
}

#[tokio::test]
async fn a_retired_sealing_key_is_invalid_and_rotation_keeps_the_old_one() {
    let old_ring = ring("s0", &[]);
    let s = role_session(1);
    let token = seal(&old_ring, &s);
    let (h, q) = signed(
        s.access_key_id.as_str(),
        &s.secret,
        &token,
        SignatureLocation::Headers,
    );
    let clock = Arc::new(FixedClock::at_secs(T0));
    // Rotated: s1 seals, s0 still accepted.
    let rotated = with_sessions(ring("s1", &["s0"]), &clock);
    assert!(run(&rotated, &h, &q, "sts").await.is_ok());
    // Retired.
    let retired = with_sessions(ring("s1", &[]), &clock);
    invalid(run(&retired, &h, &q, "sts").await.unwrap_err().code());
}

#[tokio::test]
async fn the_session_secret_must_sign() {
    let keys = ring("s1", &[]);
    let a = with_sessions(keys.clone(), &Arc::new(FixedClock::at_secs(T0)));
    let s = role_session(1);
    let other = role_session(2);
    let (h, q) = signed(
        s.access_key_id.as_str(),
        &other.secret,
        &seal(&keys, &s),
        SignatureLocation::Headers,
    );
    let e = run(&a, &h, &q, "sts").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureDoesNotMatch);
}

#[tokio::test]
async fn session_keys_need_their_token_and_a_ring() {
    let keys = ring("s1", &[]);
    let s = role_session(1);
    let token = seal(&keys, &s);
    let (mut h, q) = signed(
        s.access_key_id.as_str(),
        &s.secret,
        &token,
        SignatureLocation::Headers,
    );
    // Without a ring, sessions are refused.
    let plain = authenticator(KeyStatus::Active, T0);
    invalid(run(&plain, &h, &q, "sts").await.unwrap_err().code());
    // Without the token, the ASIA key is unknown.
    h.retain(|(n, _)| n != "x-amz-security-token");
    let a = with_sessions(keys, &Arc::new(FixedClock::at_secs(T0)));
    invalid(run(&a, &h, &q, "sts").await.unwrap_err().code());
}

#[tokio::test]
async fn sessions_sharing_a_key_id_do_not_share_a_cached_signing_key() {
    let keys = ring("s1", &[]);
    let a = with_sessions(keys.clone(), &Arc::new(FixedClock::at_secs(T0)));
    let one = role_session(1);
    let mut two = role_session(2);
    two.access_key_id = one.access_key_id.clone();
    assert_ne!(one.secret, two.secret);
    for s in [&one, &two, &one] {
        let (h, q) = signed(
            s.access_key_id.as_str(),
            &s.secret,
            &seal(&keys, s),
            SignatureLocation::Headers,
        );
        let caller = run(&a, &h, &q, "sts").await.unwrap();
        assert_eq!(caller.session().map(|c| &c.secret), Some(&s.secret));
    }
}

#[tokio::test]
async fn a_revoked_session_is_refused_on_its_next_call_as_an_unknown_token() {
    use crate::adapters::memory::MemoryStore;
    use crate::domain::sessions::{RevocationId, RevocationRule, RevocationTarget};
    use crate::service::sessions::Revocations;
    use crate::service::store::RevocationStore;

    let keys = ring("s1", &[]);
    let clock = Arc::new(FixedClock::at_secs(T0 + 5));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let revocations = Arc::new(
        Revocations::load(store.clone() as _, clock.clone())
            .await
            .unwrap(),
    );
    let a = with_sessions(keys.clone(), &clock).with_revocations(Arc::clone(&revocations));
    let (one, two) = (role_session(1), role_session(2));
    let call = |s: &Session| {
        let token = seal(&keys, s);
        signed(
            s.access_key_id.as_str(),
            &s.secret,
            &token,
            SignatureLocation::Headers,
        )
    };
    let (h1, q1) = call(&one);
    let (h2, q2) = call(&two);
    run(&a, &h1, &q1, "sts").await.unwrap();
    let rule = RevocationRule {
        id: RevocationId::from_random([1; 16]),
        account: account(),
        target: RevocationTarget::Session {
            access_key_id: one.access_key_id.clone(),
        },
        issued_before: u64::try_from(T0).unwrap(),
        created_at: u64::try_from(T0).unwrap(),
    };
    let counter = store.put_revocation(&rule).await.unwrap();
    revocations.add(&rule, counter);
    // The very next call, same signature: refused like an unknown token.
    let e = run(&a, &h1, &q1, "sts").await.unwrap_err();
    invalid(e.code());
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
    run(&a, &h2, &q2, "sts").await.unwrap();
}

#[test]
fn an_opened_token_keeps_the_signing_keys_of_its_latest_scopes() {
    use crate::domain::secret::SigningKey;
    use crate::domain::sigv4::CredentialScope;

    let session = role_session(3);
    let cache = SessionCache::with_capacity(8);
    let digest = [3; 32];
    cache.insert_for_tests(digest, session.clone());
    let services = ["sts", "iam", "s3", "sqs", "sns", "sts"];
    for service in services {
        let scope = CredentialScope {
            date: "20250301",
            region: "us-east-1",
            service,
            terminator: "aws4_request",
        };
        let opened = cache.get_for_tests(&digest, &scope).unwrap();
        // Derived from this session's secret for this very scope, whether
        // kept or derived again after older scopes were dropped.
        assert_eq!(
            cache.signing_key(opened, &scope),
            SigningKey::derive(&session.secret, "20250301", "us-east-1", service)
        );
        // Kept: the next request of this scope finds it.
        assert!(cache.get_for_tests(&digest, &scope).unwrap().has_key());
        assert!(cache.kept_scopes(&digest).unwrap() <= MAX_SCOPES);
    }
    assert_eq!(cache.kept_scopes(&digest), Some(MAX_SCOPES));
}

fn scope() -> crate::domain::sigv4::CredentialScope<'static> {
    crate::domain::sigv4::CredentialScope {
        date: "20250301",
        region: "us-east-1",
        service: "sts",
        terminator: "aws4_request",
    }
}

#[test]
fn a_full_session_cache_keeps_its_bound_and_the_sessions_in_use() {
    let cache = SessionCache::with_capacity(4);
    assert_eq!(cache.shard_count(), 1);
    for i in 0..4 {
        cache.insert_for_tests([i; 32], role_session(i));
    }
    // The first is used again; the next insertion evicts the second (the
    // oldest unused), not the first.
    assert!(cache.get_for_tests(&[0; 32], &scope()).is_some());
    cache.insert_for_tests([4; 32], role_session(4));
    assert_eq!(cache.entry_count(), 4);
    assert!(cache.get_for_tests(&[0; 32], &scope()).is_some());
    assert!(cache.get_for_tests(&[1; 32], &scope()).is_none());
    for i in [2, 3, 4] {
        let hit = cache.get_for_tests(&[i; 32], &scope()).unwrap();
        assert_eq!(hit.session.access_key_id, role_session(i).access_key_id);
    }
    // Many more: never above the bound, and every entry is its own.
    for i in 5..200 {
        cache.insert_for_tests([i; 32], role_session(i));
        assert!(cache.entry_count() <= 4);
        let hit = cache.get_for_tests(&[i; 32], &scope()).unwrap();
        assert_eq!(hit.session.access_key_id, role_session(i).access_key_id);
    }
    cache.clear();
    assert_eq!(cache.entry_count(), 0);
    assert!(cache.get_for_tests(&[199; 32], &scope()).is_none());
}

#[test]
fn a_large_session_cache_is_sharded_within_its_bound() {
    let cache = SessionCache::with_capacity(100_000);
    assert_eq!(cache.shard_count(), 16);
    let small = SessionCache::with_capacity(10);
    let session = role_session(1);
    // Digests spread over every shard (the last byte picks it).
    for i in 0..1_000u32 {
        let mut digest = [0; 32];
        digest[..4].copy_from_slice(&i.to_le_bytes());
        digest[31] = u8::try_from(i % 256).unwrap();
        small.insert_for_tests(digest, session.clone());
        cache.insert_for_tests(digest, session.clone());
    }
    assert_eq!(small.entry_count(), 10);
    assert_eq!(cache.entry_count(), 1_000);
}
