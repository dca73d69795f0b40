//! Session credential cost (issue 4): minting + sealing a session, and
//! opening + verifying a request signed with one.
//!
//! - `mint_seal`: a fresh `ASIA…` id and secret from the system CSPRNG, a
//!   typical role session (role ARN, id, session name, two session tags, a
//!   source identity, MFA), sealed under the key ring (a nonce from the
//!   CSPRNG, AES-256-GCM, base64url).
//! - `open_verify_*`: what `service::authn` does for a session request:
//!   open the token, compare its key id, check expiry, then parse and
//!   verify the SigV4 signature of a typical STS `POST` (four signed
//!   headers, the token among them) — with the signing key from the cache
//!   (`warm`) or derived in the loop (`cold`).
//! - `seal` and `open` alone, for the breakdown.

#![expect(
    clippy::unwrap_used,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use stsd::domain::credential::{
    KeyRing, MfaInfo, SealingKey, SealingKeyId, Session, SessionPrincipal, SessionTag, mint_keys,
};
use stsd::domain::ids::AccountId;
use stsd::domain::seal::{MasterKey, SealKeyId};
use stsd::domain::secret::SigningKey;
use stsd::domain::sigv4::{
    self, AmzDate, Payload, RequestView, SignatureLocation, SigningParams, VerifyPolicy,
};
use stsd::domain::totp;

const BODY: &[u8] = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fbuild-runner&RoleSessionName=ci-7421";

/// The system CSPRNG, as the daemon uses it.
fn os_rng(buf: &mut [u8]) {
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf).unwrap();
}

fn session(account: AccountId, t0: u64) -> Session {
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
            session_name: "ci-7421".into(),
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
        transitive_tag_keys: vec!["Project".into()],
        source_identity: Some("alice".into()),
        mfa: Some(MfaInfo {
            serial: "arn:aws:iam::111122223333:mfa/alice".parse().unwrap(),
            authenticated_at: t0 - 30,
        }),
        issued_at: t0,
        expires_at: t0 + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let master = MasterKey::from_bytes(SealKeyId::new("master-1").unwrap(), [7; 32]);
    let keys = KeyRing::new(
        SealingKey::derive(&master, SealingKeyId::new("s2").unwrap()),
        vec![SealingKey::derive(
            &master,
            SealingKeyId::new("s1").unwrap(),
        )],
    );
    let account: AccountId = "111122223333".parse().unwrap();
    let timestamp = AmzDate::parse_basic("20250301T101500Z").unwrap();
    let t0 = u64::try_from(timestamp.unix_secs()).unwrap();
    let now = Duration::from_secs(t0 + 3);

    c.bench_function("credential/mint_seal", |b| {
        b.iter(|| {
            let s = session(black_box(account), t0);
            keys.seal(&s, &mut os_rng).unwrap()
        })
    });

    let s = session(account, t0);
    let token = keys.seal(&s, &mut os_rng).unwrap();
    eprintln!("token: {} characters", token.expose_secret().len());
    c.bench_function("credential/seal", |b| {
        b.iter(|| keys.seal(black_box(&s), &mut os_rng).unwrap())
    });
    c.bench_function("credential/open", |b| {
        b.iter(|| keys.open(black_box(token.expose_secret())).unwrap())
    });

    let base = [
        ("Host", "sts.us-east-1.amazonaws.com"),
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let unsigned = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &base,
        payload: Payload::Bytes(BODY),
    };
    let id = s.access_key_id.to_string();
    let params = SigningParams {
        access_key_id: &id,
        secret: &s.secret,
        security_token: Some(&token),
        region: "us-east-1",
        service: "sts",
        timestamp,
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sigv4::sign_request(&unsigned, &params).unwrap();
    let mut headers: Vec<(&str, &str)> = base.to_vec();
    headers.push(("User-Agent", "aws-sdk-rust/1.3 os/linux lang/rust"));
    headers.push(("Content-Length", "127"));
    headers.extend(signed.headers.iter().map(|(n, v)| (*n, v.as_str())));
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(BODY),
    };
    let policy = VerifyPolicy::new("sts", ["us-east-1"]);
    let warm = SigningKey::derive(&s.secret, "20250301", "us-east-1", "sts");

    // What service::authn does for a session request.
    let open_verify = |cached: Option<&SigningKey>| {
        let auth = sigv4::parse(black_box(&view)).unwrap();
        let opened = keys.open(auth.security_token().unwrap()).unwrap();
        assert!(opened.access_key_id.as_str() == auth.access_key_id());
        assert!(!opened.is_expired(now.as_secs()));
        match cached {
            Some(key) => sigv4::verify(&auth, key, now, &policy).unwrap(),
            None => sigv4::verify_with_secret(&auth, &opened.secret, now, &policy).unwrap(),
        }
    };
    open_verify(None);
    c.bench_function("credential/open_verify_warm_key", |b| {
        b.iter(|| open_verify(Some(&warm)))
    });
    c.bench_function("credential/open_verify_cold_key", |b| {
        b.iter(|| open_verify(None))
    });

    // MFA: a TOTP code (RFC 6238, 6 digits, ±1 step) checked against a
    // 20-byte seed, as AssumeRole and GetSessionToken do for `TokenCode`.
    // The window is tried oldest first: the current step's code is found
    // at the second HMAC, the previous step's (`totp_verify_previous`) at
    // the first.
    let seed = [0x3d_u8; 20];
    let previous = totp::code(&seed, t0 - totp::STEP_SECS);
    let current = totp::code(&seed, t0);
    assert!(totp::verify(&seed, &current, t0).is_some());
    c.bench_function("credential/totp_verify", |b| {
        b.iter(|| totp::verify(black_box(&seed), black_box(&current), black_box(t0)).unwrap())
    });
    c.bench_function("credential/totp_verify_previous", |b| {
        b.iter(|| totp::verify(black_box(&seed), black_box(&previous), black_box(t0)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
