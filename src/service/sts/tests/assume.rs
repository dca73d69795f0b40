//! AssumeRole by long-term callers: the trust decision, durations, root,
//! cross-account, external id, session policies and packed size.

use super::*;
use crate::domain::credential::SessionPrincipal;
use crate::domain::policy::Outcome;
use crate::service::iam::policies::{CreatePolicy, create_policy};

#[tokio::test]
async fn a_user_named_by_the_trust_policy_assumes_the_role() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let role = env
        .role(
            "deploy",
            &trust(&arn(&env, &alice), &["sts:AssumeRole"], ""),
        )
        .await;
    let minted = env.assume(&alice, assume(&role, "ci-1")).await.unwrap();
    let s = &minted.session;
    assert_eq!(s.account, testing::account());
    assert_eq!(s.access_key_id.account(), Some(testing::account()));
    assert!(s.access_key_id.is_temporary());
    assert_eq!(s.secret.expose_secret().len(), 40);
    assert_eq!((s.issued_at, s.expires_at), (NOW, NOW + 3_600));
    assert_eq!(s.chain_depth, 0);
    assert!(s.mfa.is_none());
    assert_eq!(minted.packed_policy_size, None);
    assert_eq!(
        s.principal,
        SessionPrincipal::AssumedRole {
            role_arn: role.arn.clone(),
            role_id: role.id.clone(),
            session_name: "ci-1".into(),
        }
    );
    assert_eq!(
        s.arn(&env.sts.partition).as_str(),
        "arn:aws:sts::123456789012:assumed-role/deploy/ci-1"
    );
    assert_eq!(s.user_id(), format!("{}:ci-1", role.id));
    // The token opens to the same session, as any replica would open it.
    assert_eq!(&env.sts.keys.open(minted.token.expose_secret()).unwrap(), s);
}

#[tokio::test]
async fn root_cannot_assume_roles() {
    let env = Env::new().await;
    let role = env
        .role("deploy", &trust("123456789012", &["sts:AssumeRole"], ""))
        .await;
    assert_err(
        env.assume(&env.root(), assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "Roles may not be assumed by root accounts.",
    );
}

#[tokio::test]
async fn a_trust_policy_that_does_not_name_the_caller_denies_with_an_encoded_record() {
    let env = Env::new().await;
    let alice = env.user("alice", Some(&allow("sts:AssumeRole", "*"))).await;
    let bob = env.user("bob", None).await;
    let role = env
        .role("deploy", &trust(&arn(&env, &bob), &["sts:AssumeRole"], ""))
        .await;
    let e = assert_err(
        env.assume(&alice, assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/deploy because no resource-based policy allows the sts:AssumeRole action",
    );
    let record = e.denial().unwrap();
    assert_eq!(record.outcome, Outcome::ImplicitDeny);
    assert_eq!(record.action, "sts:AssumeRole");
    assert!(
        record
            .conditions
            .iter()
            .any(|(k, v)| k == "sts:rolesessionname" && v == &["s1"])
    );
    // A role that does not exist is refused in the same words.
    let mut missing = assume(&role, "s1");
    missing.role_arn = "arn:aws:iam::123456789012:role/nope".parse().unwrap();
    assert_err(
        env.assume(&alice, missing).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/nope because no resource-based policy allows",
    );
}

#[tokio::test]
async fn an_account_principal_delegates_to_identity_policies() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let bob = env
        .user(
            "bob",
            Some(&allow("sts:AssumeRole", "arn:aws:iam::123456789012:role/*")),
        )
        .await;
    let role = env
        .role("deploy", &trust("123456789012", &["sts:AssumeRole"], ""))
        .await;
    assert_err(
        env.assume(&alice, assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/deploy because no identity-based policy allows",
    );
    env.assume(&bob, assume(&role, "s1")).await.unwrap();
}

#[tokio::test]
async fn cross_account_needs_the_trust_policy_and_the_callers_identity_policy() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let bob = env
        .user(
            "bob",
            Some(&allow(
                "sts:AssumeRole",
                "arn:aws:iam::210987654321:role/audit",
            )),
        )
        .await;
    let trusted = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":["{}","{}"]}},"Action":"sts:AssumeRole"}}}}"#,
        arn(&env, &alice),
        arn(&env, &bob)
    );
    let role = env
        .role_in(other_account(), "audit", &trusted, None, None)
        .await;
    // Named directly by the other account's trust policy, but alice's own
    // account does not allow her to assume it.
    assert_err(
        env.assume(&alice, assume(&role, "xa")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/audit because no identity-based policy allows",
    );
    let minted = env.assume(&bob, assume(&role, "xa")).await.unwrap();
    assert_eq!(minted.session.account, other_account());
    assert_eq!(
        minted.session.access_key_id.account(),
        Some(other_account())
    );
    // A trust policy naming someone else denies whatever bob's policy says.
    let other = env
        .role_in(
            other_account(),
            "closed",
            &trust(&arn(&env, &alice), &["sts:AssumeRole"], ""),
            None,
            None,
        )
        .await;
    let mut input = assume(&other, "xa");
    input.role_arn = other.arn.clone();
    assert_err(
        env.assume(&bob, input).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/bob is not authorized",
    );
}

#[tokio::test]
async fn durations_run_from_900_seconds_to_the_roles_maximum() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let t = trust(&arn(&env, &alice), &["sts:AssumeRole"], "");
    let short = env.role("short", &t).await;
    let long = env
        .role_in(testing::account(), "long", &t, None, Some(7_200))
        .await;
    let with = |role: &RoleRecord, d: u32| {
        let mut input = assume(role, "s1");
        input.duration = Some(d);
        input
    };
    assert_err(
        env.assume(&alice, with(&short, 7_200)).await,
        ErrorCode::ValidationError,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
    assert_err(
        env.assume(&alice, with(&short, 899)).await,
        ErrorCode::ValidationError,
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    let m = env.assume(&alice, with(&short, 900)).await.unwrap();
    assert_eq!(m.session.expires_at - m.session.issued_at, 900);
    let m = env.assume(&alice, with(&long, 7_200)).await.unwrap();
    assert_eq!(m.session.expires_at - m.session.issued_at, 7_200);
}

#[tokio::test]
async fn external_id_is_the_sts_external_id_condition_key() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let role = env
        .role(
            "vendor",
            &trust(
                &arn(&env, &alice),
                &["sts:AssumeRole"],
                r#"{"StringEquals":{"sts:ExternalId":"Unique-1234"}}"#,
            ),
        )
        .await;
    assert_err(
        env.assume(&alice, assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized",
    );
    let with = |id: &str| {
        let mut input = assume(&role, "s1");
        input.external_id = Some(id.parse().unwrap());
        input
    };
    assert_err(
        env.assume(&alice, with("Unique-9999")).await,
        ErrorCode::AccessDenied,
        "User:",
    );
    env.assume(&alice, with("Unique-1234")).await.unwrap();
}

#[tokio::test]
async fn session_policies_are_checked_and_counted() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let role = env
        .role(
            "deploy",
            &trust(&arn(&env, &alice), &["sts:AssumeRole"], ""),
        )
        .await;
    let with = |policy: Option<String>, arns: Vec<&str>| {
        let mut input = assume(&role, "s1");
        input.policies = SessionPolicies {
            policy,
            policy_arns: arns.into_iter().map(|a| a.parse().unwrap()).collect(),
        };
        input
    };
    assert_err(
        env.assume(&alice, with(Some("{}".into()), vec![])).await,
        ErrorCode::MalformedPolicyDocument,
        "",
    );
    assert_err(
        env.assume(
            &alice,
            with(None, vec!["arn:aws:iam::123456789012:policy/absent"]),
        )
        .await,
        ErrorCode::MalformedPolicyDocument,
        "Policy arn:aws:iam::123456789012:policy/absent does not exist or is not attachable.",
    );
    let root = env.authz(&env.root()).await;
    create_policy(
        &env.iam,
        &root,
        CreatePolicy {
            name: "read".parse().unwrap(),
            path: None,
            document: allow("iam:Get*", "*"),
            description: None,
            tags: vec![],
        },
    )
    .await
    .unwrap();
    let m = env
        .assume(
            &alice,
            with(
                Some(allow("iam:GetUser", "*")),
                vec!["arn:aws:iam::123456789012:policy/read"],
            ),
        )
        .await
        .unwrap();
    let size = m.packed_policy_size.unwrap();
    assert!((1..=100).contains(&size), "{size}");
    assert_eq!(m.session.policy_arns.len(), 1);
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}}}"#,
        "b".repeat(5_000)
    );
    assert_err(
        env.assume(&alice, with(Some(huge), vec![])).await,
        ErrorCode::PackedPolicyTooLarge,
        "Packed size of session policies and session tags consumes",
    );
}
