//! SigV4 verification cost: a typical STS POST (header-signed, four signed
//! headers, a ~100-byte form body, a session token), with a warm signing key
//! (derived once, as the service layer's cache does) and cold (derived per
//! request).

#![expect(
    clippy::unwrap_used,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use stsd::domain::secret::{SecretAccessKey, SessionToken, SigningKey};
use stsd::domain::sigv4::{
    self, AmzDate, Payload, RequestView, SignatureLocation, SigningParams, VerifyPolicy,
};

const BODY: &[u8] = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fbuild-runner&RoleSessionName=ci-7421";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEOr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE==";

/// The signed request and what verifies it.
struct Fixture {
    secret: SecretAccessKey,
    key: SigningKey,
    now: Duration,
    policy: VerifyPolicy,
}

fn bench(c: &mut Criterion) {
    with_request(|view, f| bench_with(c, view, f));
}

fn with_request<R>(run: impl FnOnce(&RequestView<'_>, &Fixture) -> R) -> R {
    let secret: SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".parse().unwrap();
    let token = SessionToken::new(TOKEN);
    let timestamp = AmzDate::parse_basic("20250301T101500Z").unwrap();
    let now = Duration::from_secs(u64::try_from(timestamp.unix_secs()).unwrap() + 3);
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
    let params = SigningParams {
        access_key_id: "ASIARTX3GSDSRXX7C2ZC",
        secret: &secret,
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
    let key = SigningKey::derive(&secret, "20250301", "us-east-1", "sts");
    assert_eq!(sigv4::parse(&view).unwrap().signed_headers().count(), 4);
    assert!(sigv4::verify(&sigv4::parse(&view).unwrap(), &key, now, &policy).is_ok());
    run(
        &view,
        &Fixture {
            secret,
            key,
            now,
            policy,
        },
    )
}

fn bench_with(c: &mut Criterion, view: &RequestView<'_>, f: &Fixture) {
    let (now, key, policy, secret) = (f.now, &f.key, &f.policy, &f.secret);
    c.bench_function("sigv4/verify_sts_post_warm_key", |b| {
        b.iter(|| {
            let auth = sigv4::parse(black_box(view)).unwrap();
            sigv4::verify(&auth, key, black_box(now), policy).unwrap()
        })
    });
    c.bench_function("sigv4/verify_sts_post_cold_key", |b| {
        b.iter(|| {
            let auth = sigv4::parse(black_box(view)).unwrap();
            sigv4::verify_with_secret(&auth, secret, black_box(now), policy).unwrap()
        })
    });
    c.bench_function("sigv4/derive_signing_key", |b| {
        b.iter(|| SigningKey::derive(secret, black_box("20250301"), "us-east-1", "sts"))
    });
}

/// The fixed workload of `scripts/bench-check.sh` (callgrind counts this
/// function's instructions only): `n` verifications with the warm key.
#[inline(never)]
fn icount_sigv4_verify_warm(view: &RequestView<'_>, f: &Fixture, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            let auth = sigv4::parse(black_box(view)).unwrap();
            sigv4::verify(&auth, &f.key, black_box(f.now), &f.policy).is_ok()
        })
        .count()
}

fn main() {
    // STSD_ICOUNT=sigv4_verify_warm:<iterations>: the fixed workload only.
    if let Ok(spec) = std::env::var("STSD_ICOUNT") {
        let (case, n) = spec.split_once(':').unwrap();
        assert_eq!(case, "sigv4_verify_warm", "STSD_ICOUNT: unknown case");
        let n: usize = n.parse().unwrap();
        let ok = with_request(|view, f| icount_sigv4_verify_warm(view, f, n));
        assert_eq!(ok, n);
        println!("icount {case}: {n} iterations");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
