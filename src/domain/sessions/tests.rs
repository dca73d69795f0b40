use super::*;
use crate::domain::credential::{Session, SessionPrincipal, mint_keys};
use crate::domain::ids::{AccountId, Arn, Partition};

const T0: u64 = 1_740_000_000;
const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/token.example.com/ci";
const SAML: &str = "arn:aws:iam::111122223333:saml-provider/Corp";

fn account() -> AccountId {
    "111122223333".parse().unwrap()
}

fn other_account() -> AccountId {
    "444455556666".parse().unwrap()
}

fn session_in(account: AccountId, seed: u8, role: Option<&str>, issued_at: u64) -> Session {
    let mut n = seed;
    let mut rng = move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_mul(31).wrapping_add(17);
            *b = n;
        }
    };
    let (access_key_id, secret) = mint_keys(account, &mut rng);
    let principal = match role {
        Some(name) => SessionPrincipal::AssumedRole {
            role_arn: format!("arn:aws:iam::{account}:role/team/{name}")
                .parse()
                .unwrap(),
            role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
            session_name: "s".into(),
        },
        None => SessionPrincipal::Root,
    };
    Session {
        access_key_id,
        secret,
        account,
        principal,
        policy: None,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        mfa: None,
        issued_at,
        expires_at: issued_at + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: vec![],
    }
}

fn session(seed: u8, role: Option<&str>, issued_at: u64) -> Session {
    session_in(account(), seed, role, issued_at)
}

fn federated(seed: u8, provider: &str, key: &str, sub: &str) -> Session {
    let mut s = session(seed, Some("Fed"), T0);
    s.provider = Some(provider.to_owned());
    s.provider_keys = vec![
        (key.replace("sub", "aud"), "client".to_owned()),
        (key.to_owned(), sub.to_owned()),
    ];
    s
}

fn id(n: u8) -> RevocationId {
    RevocationId::from_random([n; 16])
}

fn rule(n: u8, target: RevocationTarget, issued_before: u64) -> RevocationRule {
    RevocationRule {
        id: id(n),
        account: account(),
        target,
        issued_before,
        created_at: issued_before,
    }
}

fn role_rule(n: u8, arn: &str, issued_before: u64) -> RevocationRule {
    rule(
        n,
        RevocationTarget::Role {
            role_arn: arn.parse().unwrap(),
        },
        issued_before,
    )
}

fn set(rules: &[RevocationRule]) -> RevocationSet {
    RevocationSet::compile(rules, T0)
}

#[test]
fn an_empty_set_revokes_nothing() {
    assert_eq!(set(&[]).check(&session(1, Some("a"), T0)), None);
}

#[test]
fn a_key_rule_revokes_that_session_only_whenever_issued() {
    let s = session(1, Some("build"), T0 + 50);
    let sibling = session(2, Some("build"), T0);
    let r = rule(
        1,
        RevocationTarget::Session {
            access_key_id: s.access_key_id.clone(),
        },
        T0,
    );
    let set = set(std::slice::from_ref(&r));
    assert_eq!(
        set.check(&s),
        Some(Revoked {
            rule: id(1),
            kind: "session"
        })
    );
    assert!(r.matches(&s));
    assert_eq!(set.check(&sibling), None);
    assert!(!r.matches(&sibling));
}

#[test]
fn a_role_rule_revokes_sessions_issued_at_or_before_its_time_by_role_name() {
    // Another path and case: IAM role names are unique case-insensitively.
    let r = role_rule(1, "arn:aws:iam::111122223333:role/BUILD", T0);
    let set = set(std::slice::from_ref(&r));
    for s in [
        session(1, Some("build"), T0 - 10),
        session(2, Some("build"), T0),
    ] {
        assert_eq!(set.check(&s).map(|r| r.kind), Some("role"));
        assert!(r.matches(&s));
    }
    let later = session(3, Some("build"), T0 + 1);
    assert_eq!(set.check(&later), None);
    assert!(!r.matches(&later));
    assert_eq!(set.check(&session(4, Some("deploy"), T0)), None);
    assert_eq!(set.check(&session(5, None, T0)), None);
    // The same role name in another account is another role.
    let elsewhere = session_in(other_account(), 6, Some("build"), T0);
    assert_eq!(set.check(&elsewhere), None);
    assert!(!r.matches(&elsewhere));
}

#[test]
fn the_latest_cutoff_of_a_target_wins() {
    let arn = "arn:aws:iam::111122223333:role/team/build";
    let set = set(&[role_rule(1, arn, T0 + 100), role_rule(2, arn, T0)]);
    let s = session(1, Some("build"), T0 + 50);
    assert_eq!(set.check(&s).map(|r| r.rule), Some(id(1)));
    assert_eq!(set.len(), 2);
}

#[test]
fn a_source_identity_rule_matches_exactly() {
    let r = rule(
        1,
        RevocationTarget::SourceIdentity {
            source_identity: "alice".parse().unwrap(),
        },
        T0,
    );
    let set = set(std::slice::from_ref(&r));
    let mut alice = session(1, Some("a"), T0);
    alice.source_identity = Some("alice".into());
    let mut alicia = session(2, Some("a"), T0);
    alicia.source_identity = Some("Alice".into());
    assert_eq!(set.check(&alice).map(|r| r.kind), Some("source_identity"));
    assert!(r.matches(&alice));
    assert_eq!(set.check(&alicia), None);
    assert!(!r.matches(&alicia));
    alice.issued_at = T0 + 1;
    assert_eq!(set.check(&alice), None);
}

#[test]
fn a_subject_rule_matches_the_providers_sub_key() {
    let oidc = rule(
        1,
        RevocationTarget::Subject {
            provider_arn: OIDC.parse().unwrap(),
            subject: "repo:x".into(),
        },
        T0,
    );
    let saml = rule(
        2,
        RevocationTarget::Subject {
            provider_arn: SAML.parse().unwrap(),
            subject: "alice@corp".into(),
        },
        T0,
    );
    let set = set(&[oidc.clone(), saml.clone()]);
    let hit = federated(1, OIDC, "token.example.com/ci:sub", "repo:x");
    assert_eq!(set.check(&hit).map(|r| r.rule), Some(id(1)));
    assert!(oidc.matches(&hit));
    let saml_hit = federated(2, SAML, "saml:sub", "alice@corp");
    assert_eq!(set.check(&saml_hit).map(|r| r.rule), Some(id(2)));
    assert!(saml.matches(&saml_hit));
    // Another subject, the right subject under another key, another provider.
    for s in [
        federated(3, OIDC, "token.example.com/ci:sub", "repo:y"),
        federated(4, OIDC, "token.example.com/ci:email", "repo:x"),
        federated(5, SAML, "saml:sub", "repo:x"),
    ] {
        assert_eq!(set.check(&s), None, "{:?}", s.provider_keys);
        assert!(!oidc.matches(&s));
    }
}

#[test]
fn an_account_rule_revokes_every_earlier_session_of_the_account_only() {
    let r = rule(1, RevocationTarget::Account, T0);
    let set = set(std::slice::from_ref(&r));
    assert_eq!(
        set.check(&session(1, None, T0)).map(|r| r.kind),
        Some("account")
    );
    assert_eq!(set.check(&session(2, Some("x"), T0 + 1)), None);
    assert_eq!(
        set.check(&session_in(other_account(), 3, None, T0 - 5)),
        None
    );
}

#[test]
fn retention_covers_the_longest_session_a_rule_can_match() {
    let role = role_rule(1, "arn:aws:iam::111122223333:role/a", T0);
    assert_eq!(role.retain_until(), T0 + 43_200);
    let all = rule(2, RevocationTarget::Account, T0);
    assert_eq!(all.retain_until(), T0 + 129_600);
    // Compiling past retention leaves the rule out.
    let set = RevocationSet::compile([&role, &all], T0 + 43_200);
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.check(&session(1, Some("a"), T0)).map(|r| r.kind),
        Some("account")
    );
}

#[test]
fn subject_keys_follow_the_provider_kind() {
    assert_eq!(subject_key(SAML).as_deref(), Some("saml:sub"));
    assert_eq!(
        subject_key(OIDC).as_deref(),
        Some("token.example.com/ci:sub")
    );
    assert_eq!(subject_key("arn:aws:iam::111122223333:role/x"), None);
}

#[test]
fn revocation_ids_round_trip_and_refuse_garbage() {
    let id = id(0xab);
    assert_eq!(id.as_str().len(), 35);
    assert_eq!(id.as_str().parse::<RevocationId>().unwrap(), id);
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(serde_json::from_str::<RevocationId>(&json).unwrap(), id);
    for bad in ["", "rv-", "rv-XYZ", "xx-00000000000000000000000000000000"] {
        assert!(bad.parse::<RevocationId>().is_err(), "{bad}");
    }
}

#[test]
fn rules_round_trip_through_json() {
    let r = rule(
        3,
        RevocationTarget::Subject {
            provider_arn: OIDC.parse().unwrap(),
            subject: "s".into(),
        },
        T0,
    );
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<RevocationRule>(&json).unwrap(), r);
}

#[test]
fn issued_records_carry_the_principal_role_and_subject_but_no_secret() {
    let s = federated(1, OIDC, "token.example.com/ci:sub", "repo:x");
    let rec = IssuedSession::of(&s, &Partition::default(), "req-1");
    assert_eq!(rec.principal_arn, s.arn(&Partition::default()));
    assert_eq!(
        rec.role_arn.as_ref().map(Arn::as_str),
        Some("arn:aws:iam::111122223333:role/team/Fed")
    );
    assert_eq!(rec.subject.as_deref(), Some("repo:x"));
    assert_eq!(rec.request_id, "req-1");
    let json = serde_json::to_string(&rec).unwrap();
    assert!(!json.contains(s.secret.expose_secret()));
    assert!(rec.is_live(T0 + 3599));
    assert!(!rec.is_live(T0 + 3600));
}

#[test]
fn filters_select_on_every_given_field() {
    let mut s = session(1, Some("Build"), T0);
    s.source_identity = Some("alice".into());
    let rec = IssuedSession::of(&s, &Partition::default(), "r");
    let role = |arn: &str| SessionFilter {
        role_arn: Some(arn.parse().unwrap()),
        ..SessionFilter::default()
    };
    assert!(SessionFilter::default().matches(&rec));
    assert!(role("arn:aws:iam::111122223333:role/build").matches(&rec));
    assert!(!role("arn:aws:iam::111122223333:role/deploy").matches(&rec));
    let by_si = |si: &str| SessionFilter {
        source_identity: Some(si.into()),
        ..SessionFilter::default()
    };
    assert!(by_si("alice").matches(&rec));
    assert!(!by_si("bob").matches(&rec));
    let both = SessionFilter {
        source_identity: Some("alice".into()),
        ..role("arn:aws:iam::111122223333:role/deploy")
    };
    assert!(!both.matches(&rec));
    let root = IssuedSession::of(&session(2, None, T0), &Partition::default(), "r");
    assert!(!role("arn:aws:iam::111122223333:role/build").matches(&root));
}
