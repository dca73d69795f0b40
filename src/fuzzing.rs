//! Fuzz entry points (STYLE.md point 21).
//!
//! Owns: one function per cargo-fuzz target in `tests/fuzz/fuzz_targets/`,
//! so that each target is a one-line call and the checking logic is built,
//! linted and unit-tested with the crate (rustls `internal::fuzzing`). Each
//! function takes the fuzzer's bytes and panics only on a finding. Not an
//! API: hidden from the docs, compiled in every build. Imports `domain`
//! and `domain::credential`'s crate-visible codec; the request-facing
//! parsers' targets (SigV4, Query form, gRPC, SAML, config) live in
//! `fuzzing/parsers.rs` and are re-exported here.
//! How to run the targets: `docs/fuzzing.md`; results: `SECURITY.md`.

mod parsers;

use std::sync::{Arc, LazyLock};

use crate::domain::credential::{CredentialError, KeyRing, SealingKey, SealingKeyId, codec};
use crate::domain::policy::{
    Context, Decision, Effect, Outcome, Policy, PolicyKind, PolicySet, Principal, Reason, Request,
    ResourceSide, evaluate, lint,
};
use crate::domain::seal::{MasterKey, SealKeyId};

pub use parsers::{
    config_file, grpc_request, query_form, saml_metadata, saml_response, sigv4_request,
};

/// Parses `data` (when it is UTF-8) as a policy of every [`PolicyKind`]; each
/// kind it parses as is evaluated against fixed requests, rendered with
/// `Document::to_json` and re-parsed, and must come back as a fixed point
/// that decides every fixed request the same way.
#[doc(hidden)]
pub fn policy_document(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in PolicyKind::ALL {
        if let Ok(policy) = Policy::parse("fuzz", kind, text) {
            check_round_trip(&policy);
        }
    }
}

/// The key ring of the `session_token` target: a fixed master key, keys
/// `f1` (active) and `f0`. Its token seeds are sealed under it.
static FUZZ_RING: LazyLock<Option<KeyRing>> = LazyLock::new(|| {
    let master = MasterKey::from_bytes(SealKeyId::new("fuzz").ok()?, [0x5a; 32]);
    let key = |id: &str| Some(SealingKey::derive(&master, SealingKeyId::new(id).ok()?));
    Some(KeyRing::new(key("f1")?, vec![key("f0")?]))
});

/// The session token opener and the session plaintext codec. `data` is
/// opened as a token (when UTF-8) with a fixed key ring, and decoded as
/// the plaintext of one. A finding is a panic; a plaintext that decodes
/// but does not re-encode to the very same bytes (the encoding is
/// canonical); or a decoded session that does not survive seal → open.
#[doc(hidden)]
#[expect(clippy::panic, reason = "a fuzz finding must crash")]
pub fn session_token(data: &[u8]) {
    let Some(ring) = FUZZ_RING.as_ref() else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ring.open(text);
    }
    let Ok(session) = codec::decode(data) else {
        return;
    };
    // A version 1 plaintext re-encodes as the current version: its bytes
    // with the new version byte and an empty provider-key list.
    let canonical = match data.split_first() {
        Some((&1, rest)) => [&[codec::VERSION][..], rest, &[0]].concat(),
        _ => data.to_vec(),
    };
    if codec::encode(&session).as_slice() != canonical.as_slice() {
        panic!("a decoded session does not re-encode to its bytes");
    }
    let mut counter = 0_u8;
    let mut rng = |buf: &mut [u8]| {
        for b in buf {
            counter = counter.wrapping_add(1);
            *b = counter;
        }
    };
    match ring.seal(&session, &mut rng) {
        Ok(token) => match ring.open(token.expose_secret()) {
            Ok(opened) if opened == session => {}
            _ => panic!("a sealed session does not open to itself"),
        },
        // Only a session too large to seal may fail.
        Err(CredentialError::TooLarge) => {}
        Err(e) => panic!("a decoded session does not seal: {e}"),
    }
}

/// The requests every parsed policy is evaluated against: a well-typed
/// same-account one, one whose context values are all malformed (so that
/// typed operators hit their error path), and a cross-account one.
struct Fixture {
    principal: Principal,
    action: &'static str,
    resource: &'static str,
    context: Context,
}

/// `Allow * on *`, so that boundary, session, SCP and RCP policies decide.
static ALLOW_ALL: LazyLock<Option<Arc<Policy>>> = LazyLock::new(|| {
    let doc =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    Policy::parse("allow-all", PolicyKind::Identity, doc)
        .ok()
        .map(Arc::new)
});

static FIXTURES: LazyLock<[Fixture; 3]> = LazyLock::new(|| {
    let mut good = Context::new();
    good.insert("aws:username", "alice");
    good.insert("aws:PrincipalTag/team", "blue");
    good.insert("aws:SourceIp", "10.0.0.1");
    good.insert("aws:CurrentTime", "2024-06-01T12:00:00Z");
    good.insert("aws:MultiFactorAuthPresent", "true");
    good.insert("aws:TagKeys", vec!["a".to_owned(), "b".to_owned()]);
    good.insert("s3:max-keys", "10");
    good.insert("x:bin", "QmluYXJ5VmFsdWU=");
    let mut bad = Context::new();
    bad.insert("aws:username", vec!["alice".to_owned(), "bob".to_owned()]);
    bad.insert("aws:SourceIp", "not-an-ip");
    bad.insert("aws:CurrentTime", "yesterday");
    bad.insert("aws:MultiFactorAuthPresent", "maybe");
    bad.insert("aws:TagKeys", Vec::<String>::new());
    bad.insert("s3:max-keys", "many");
    bad.insert("x:bin", "!!");
    [
        Fixture {
            principal: Principal::user(
                "arn:aws:iam::111122223333:user/alice",
                Some("AIDAEXAMPLEALICE0001"),
            ),
            action: "s3:GetObject",
            resource: "arn:aws:s3:::bucket/alice/doc.txt",
            context: good,
        },
        Fixture {
            principal: Principal::assumed_role(
                "arn:aws:sts::111122223333:assumed-role/Dev/alice",
                "arn:aws:iam::111122223333:role/Dev",
                Some("AROAEXAMPLEDEVROLE01"),
            ),
            action: "sts:AssumeRole",
            resource: "arn:aws:iam::111122223333:role/Dev",
            context: bad,
        },
        Fixture {
            principal: Principal::user("arn:aws:iam::444455556666:user/eve", None),
            action: "iam:GetUser",
            resource: "arn:aws:iam::111122223333:user/alice",
            context: Context::new(),
        },
    ]
});

/// What a decision says, for comparing two decisions: outcome, reason, and
/// the index and effect of every statement that applied.
type Summary = (Outcome, Reason, Vec<(usize, Effect)>);

fn summary(d: &Decision<'_>) -> Summary {
    (
        d.outcome,
        d.reason,
        d.matched.iter().map(|m| (m.index, m.effect)).collect(),
    )
}

/// Evaluates `f` with `policy` in the layer its kind belongs to.
fn decide(policy: &Arc<Policy>, f: &Fixture) -> Summary {
    let allow_all: Vec<Arc<Policy>> = ALLOW_ALL.iter().cloned().collect();
    let mut set = PolicySet {
        identity: allow_all,
        ..PolicySet::default()
    };
    let mut rcps = Vec::new();
    let mut resource = None;
    match policy.kind() {
        PolicyKind::Identity => set.identity = vec![Arc::clone(policy)],
        PolicyKind::Boundary => set.boundary = Some(Arc::clone(policy)),
        PolicyKind::Session => set.session = Some(vec![Arc::clone(policy)]),
        PolicyKind::Scp => set.scps = vec![vec![Arc::clone(policy)]],
        PolicyKind::Rcp => rcps = vec![vec![Arc::clone(policy)]],
        PolicyKind::Resource | PolicyKind::Trust => resource = Some(&**policy),
    }
    let request = Request::new(&f.principal, f.action, f.resource, &f.context);
    let mut missing = Vec::new();
    policy.missing_context_keys(&request, &mut missing);
    summary(&evaluate(
        &set,
        ResourceSide {
            policy: resource,
            rcps: &rcps,
        },
        &request,
    ))
}

#[expect(clippy::panic, reason = "a fuzz finding must crash")]
fn check_round_trip(policy: &Policy) {
    let kind = policy.kind().name();
    let first = policy.document().to_json();
    let again = match Policy::parse("fuzz", policy.kind(), &first) {
        Ok(p) => p,
        Err(e) => {
            panic!("the to_json rendering of a valid {kind} policy does not re-parse: {e}\n{first}")
        }
    };
    let second = again.document().to_json();
    if second != first {
        panic!("to_json is not a fixed point for a {kind} policy:\n{first}\n{second}");
    }
    let _warnings = lint::lint(policy);
    let (original, again) = (Arc::new(policy.clone()), Arc::new(again));
    for (i, f) in FIXTURES.iter().enumerate() {
        let (want, got) = (decide(&original, f), decide(&again, f));
        if want != got {
            panic!(
                "the re-parsed {kind} policy decides request {i} differently: {want:?} vs {got:?}\n{first}"
            );
        }
    }
}

/// The key set of the `web_identity_token` target: one P-256 key, `kid`
/// `f`, from RFC 7515's example A.3.
static FUZZ_JWKS: LazyLock<Option<crate::domain::oidc::KeySet>> = LazyLock::new(|| {
    crate::domain::oidc::KeySet::parse(br#"{"keys":[{"kty":"EC","kid":"f","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#).ok()
});

/// Runs `data` (when it is UTF-8) through the web-identity token checks —
/// `peek`, then `verify` against a fixed key set at a fixed time — and
/// parses it as a JWKS; nothing may panic, and no token verifies (the
/// fuzzer has no private key).
#[doc(hidden)]
pub fn web_identity_token(data: &[u8]) {
    use crate::domain::oidc::{KeySet, TimeLimits, WebIdentityToken, peek, verify};
    let _ = KeySet::parse(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let token = WebIdentityToken::new(text.to_owned());
    let (Ok(header), Some(keys)) = (peek(&token), FUZZ_JWKS.as_ref()) else {
        return;
    };
    let limits = TimeLimits {
        skew: 300,
        max_age: Some(3600),
    };
    let verified = verify(
        &token,
        &header,
        keys,
        &["fuzz".to_owned()],
        1_800_000_000,
        limits,
    );
    assert!(
        verified.is_err(),
        "a token verified without the private key"
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The seeds of `target`, sorted.
    fn seeds(target: &str) -> Vec<std::path::PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz/corpus")
            .join(target);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("seed-")
            })
            .collect();
        seeds.sort();
        seeds
    }

    /// Every seed of the `session_token` corpus runs through it; the
    /// plaintext seeds decode and the token seed opens.
    #[test]
    fn session_token_seed_corpus() {
        let seeds = seeds("session_token");
        assert!(seeds.len() >= 3, "{seeds:?}");
        for seed in &seeds {
            let data = std::fs::read(seed).unwrap();
            super::session_token(&data);
            let name = seed.file_name().unwrap().to_string_lossy();
            if name.contains("plaintext") {
                assert!(super::codec::decode(&data).is_ok(), "{name}");
            } else if name.contains("token") {
                let text = std::str::from_utf8(&data).unwrap();
                let ring = super::FUZZ_RING.as_ref().unwrap();
                assert!(ring.open(text.trim()).is_ok(), "{name}");
            }
        }
    }

    /// Every seed of the cargo-fuzz corpus runs through its target.
    #[test]
    fn seed_corpus() {
        let seeds = seeds("policy_document");
        assert!(seeds.len() >= 10, "only {} seeds", seeds.len());
        for seed in seeds {
            println!("{}", seed.display());
            super::policy_document(&std::fs::read(&seed).unwrap());
        }
    }

    /// Every seed of the `web_identity_token` corpus runs through it; the
    /// token seed gets as far as the signature.
    #[test]
    fn web_identity_token_seed_corpus() {
        let seeds = seeds("web_identity_token");
        assert!(seeds.len() >= 2, "{seeds:?}");
        for seed in &seeds {
            super::web_identity_token(&std::fs::read(seed).unwrap());
        }
        let token =
            crate::domain::oidc::WebIdentityToken::new(std::fs::read_to_string(&seeds[0]).unwrap());
        assert!(crate::domain::oidc::peek(&token).is_ok());
    }
}
