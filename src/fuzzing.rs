//! Fuzz entry points (STYLE.md point 21).
//!
//! Owns: one function per cargo-fuzz target in `tests/fuzz/fuzz_targets/`,
//! so that each target is a one-line call and the checking logic is built,
//! linted and unit-tested with the crate (rustls `internal::fuzzing`). Each
//! function takes the fuzzer's bytes and panics only on a finding. Not an
//! API: hidden from the docs, compiled in every build. Imports `domain`.
//! How to run the targets: `docs/fuzzing.md`.

use std::sync::{Arc, LazyLock};

use crate::domain::policy::{
    Context, Decision, Effect, Outcome, Policy, PolicyKind, PolicySet, Principal, Reason, Request,
    ResourceSide, evaluate, lint,
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every seed of the cargo-fuzz corpus runs through its target.
    #[test]
    fn seed_corpus() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/policy_document");
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        seeds.retain(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        });
        seeds.sort();
        assert!(
            seeds.len() >= 10,
            "only {} seeds in {}",
            seeds.len(),
            dir.display()
        );
        for seed in seeds {
            println!("{}", seed.display());
            super::policy_document(&std::fs::read(&seed).unwrap());
        }
    }
}
