//! GetSessionToken and GetFederationToken: callers, durations, the root
//! clamp, federated users with and without a session policy, expiry.

use super::*;
use crate::domain::credential::SessionPrincipal;
use crate::service::sts::federation_token::{GetFederationToken, get_federation_token};
use crate::service::sts::session_token::{GetSessionToken, get_session_token};

fn session_token(duration: Option<u32>) -> GetSessionToken {
    GetSessionToken {
        request_id: "test-request".to_owned(),
        duration,
        mfa: MfaInput::default(),
    }
}

fn federation(name: &str, policy: Option<String>, duration: Option<u32>) -> GetFederationToken {
    GetFederationToken {
        request_id: "test-request".to_owned(),
        name: name.parse().unwrap(),
        policies: SessionPolicies {
            policy,
            policy_arns: vec![],
        },
        duration,
        tags: vec![],
    }
}

#[tokio::test]
async fn get_session_token_acts_as_the_user_for_12_hours_by_default() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let m = get_session_token(&env.sts, &alice, session_token(None))
        .await
        .unwrap();
    let s = &m.session;
    assert_eq!(s.expires_at - s.issued_at, 43_200);
    assert!(
        matches!(&s.principal, SessionPrincipal::User { name, .. } if name.as_str() == "alice")
    );
    assert_eq!(s.arn(&env.sts.partition), alice.arn(&env.sts.partition));
    assert!(s.mfa.is_none() && s.policy.is_none() && s.tags.is_empty());
    let m = get_session_token(&env.sts, &alice, session_token(Some(129_600)))
        .await
        .unwrap();
    assert_eq!(m.session.expires_at - m.session.issued_at, 129_600);
    assert_err(
        get_session_token(&env.sts, &alice, session_token(Some(129_601))).await,
        ErrorCode::ValidationError,
        "1 validation error detected: Value '129601' at 'durationSeconds'",
    );
    assert_err(
        get_session_token(&env.sts, &env.session_caller(&m), session_token(None)).await,
        ErrorCode::AccessDenied,
        "Cannot call GetSessionToken with session credentials",
    );
}

#[tokio::test]
async fn root_sessions_last_one_hour_at_most() {
    let env = Env::new().await;
    let m = get_session_token(&env.sts, &env.root(), session_token(None))
        .await
        .unwrap();
    assert_eq!(m.session.principal, SessionPrincipal::Root);
    assert_eq!(m.session.expires_at - m.session.issued_at, 3_600);
    let m = get_session_token(&env.sts, &env.root(), session_token(Some(7_200)))
        .await
        .unwrap();
    assert_eq!(m.session.expires_at - m.session.issued_at, 3_600);
    let root = env.authz(&env.root()).await;
    let m = get_federation_token(
        &env.sts,
        &env.root(),
        &root,
        federation("bob", None, Some(129_600)),
    )
    .await
    .unwrap();
    assert_eq!(m.session.expires_at - m.session.issued_at, 3_600);
}

#[tokio::test]
async fn sessions_expire_on_the_injected_clock() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let m = get_session_token(&env.sts, &alice, session_token(Some(900)))
        .await
        .unwrap();
    let now = |env: &Env| env.sts.now();
    assert_eq!(m.session.expires_at, NOW + 900);
    assert!(!m.session.is_expired(now(&env)));
    env.clock.advance(Duration::from_secs(899));
    assert!(!m.session.is_expired(now(&env)));
    env.clock.advance(Duration::from_secs(1));
    assert!(m.session.is_expired(now(&env)));
    // A session minted now runs from now.
    let later = get_session_token(&env.sts, &alice, session_token(Some(900)))
        .await
        .unwrap();
    assert_eq!(later.session.issued_at, NOW + 900);
}

#[tokio::test]
async fn federated_users_need_permission_and_act_only_within_their_policy() {
    let env = Env::new().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetFederationToken","Resource":"*"},{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
    let alice = env.user("alice", Some(policy)).await;
    let carol = env.user("carol", None).await;
    let authz = env.authz(&alice).await;
    assert_err(
        get_federation_token(
            &env.sts,
            &carol,
            &env.authz(&carol).await,
            federation("bob", None, None),
        )
        .await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/carol is not authorized to perform: sts:GetFederationToken on resource: arn:aws:sts::123456789012:federated-user/bob",
    );

    // Without a session policy: no permissions at all.
    let m = get_federation_token(&env.sts, &alice, &authz, federation("bob", None, None))
        .await
        .unwrap();
    let s = &m.session;
    assert_eq!(s.expires_at - s.issued_at, 43_200);
    assert_eq!(
        s.arn(&env.sts.partition).as_str(),
        "arn:aws:sts::123456789012:federated-user/bob"
    );
    assert_eq!(s.user_id(), "123456789012:bob");
    assert_eq!(m.packed_policy_size, None);
    let bob = env.authz(&env.session_caller(&m)).await;
    assert_err(
        bob.authorize("iam:GetUser", "arn:aws:iam::123456789012:user/x", &[]),
        ErrorCode::AccessDenied,
        "User: arn:aws:sts::123456789012:federated-user/bob is not authorized to perform: iam:GetUser",
    );

    // With one: what both alice's policy and the session policy allow.
    let m = get_federation_token(
        &env.sts,
        &alice,
        &authz,
        federation("bob", Some(allow("iam:GetUser", "*")), Some(900)),
    )
    .await
    .unwrap();
    assert!(m.packed_policy_size.is_some());
    let bob = env.authz(&env.session_caller(&m)).await;
    bob.authorize("iam:GetUser", "arn:aws:iam::123456789012:user/x", &[])
        .unwrap();
    assert_err(
        bob.authorize("iam:CreateUser", "arn:aws:iam::123456789012:user/x", &[]),
        ErrorCode::AccessDenied,
        "User: arn:aws:sts::123456789012:federated-user/bob is not authorized",
    );

    // Federated users cannot assume roles, nor call GetFederationToken.
    let bob_caller = env.session_caller(&m);
    assert_err(
        get_federation_token(&env.sts, &bob_caller, &bob, federation("eve", None, None)).await,
        ErrorCode::AccessDenied,
        "Cannot call GetFederationToken with session credentials",
    );
    let role = env
        .role("any", &trust("123456789012", &["sts:AssumeRole"], ""))
        .await;
    assert_err(
        env.assume(&bob_caller, assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:sts::123456789012:federated-user/bob is not authorized to perform: sts:AssumeRole",
    );
}

#[tokio::test]
async fn federation_tags_need_tag_session() {
    let env = Env::new().await;
    let alice = env
        .user("alice", Some(&allow("sts:GetFederationToken", "*")))
        .await;
    let authz = env.authz(&alice).await;
    let mut input = federation("bob", None, None);
    input.tags = vec![tag("Team", "Blue")];
    assert_err(
        get_federation_token(&env.sts, &alice, &authz, input).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession",
    );
    let alice = env.user("alice2", Some(&allow("sts:*", "*"))).await;
    let authz = env.authz(&alice).await;
    let mut input = federation("bob", None, None);
    input.tags = vec![tag("Team", "Blue")];
    let m = get_federation_token(&env.sts, &alice, &authz, input)
        .await
        .unwrap();
    assert_eq!(m.session.tags.len(), 1);
}
