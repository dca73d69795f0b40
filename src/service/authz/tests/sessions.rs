//! Sessions as callers: role, GetSessionToken and federated-user sessions.

use std::collections::BTreeMap;

use super::{T0, account, load, managed, partition, user};
use crate::domain::credential::{MfaInfo, Session, SessionPrincipal, SessionTag, mint_keys};
use crate::domain::ids::{Arn, RoleName};
use crate::service::authn::{Caller, Identity};
use std::sync::Arc;

use crate::adapters::memory::MemoryStore;
use crate::domain::clock::FixedClock;
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::{RoleRecord, UserRecord};
use crate::service::store::{EntityWriter, Record, Tag, Timestamp, Transaction};

const TARGET: &str = "arn:aws:iam::123456789012:user/bob";
const ROLE_ID: &str = "AROAJQABLZS4A3QDU576Q";

fn allow(actions: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":{actions},"Resource":"*"}}}}"#
    )
}

fn role(name: &str, doc: &str) -> RoleRecord {
    let name: RoleName = name.parse().unwrap();
    RoleRecord {
        account: account(),
        arn: Arn::iam_role(&partition(), account(), &"/ops/".parse().unwrap(), &name),
        name,
        id: ROLE_ID.parse().unwrap(),
        path: "/ops/".parse().unwrap(),
        create_date: Timestamp::from_unix_secs(1),
        assume_role_policy: String::new(),
        description: None,
        max_session_duration_secs: 3600,
        tags: vec![],
        permissions_boundary: None,
        inline_policies: BTreeMap::from([("p".parse().unwrap(), doc.to_owned())]),
        attached_policies: vec![],
    }
}

pub(super) fn session(principal: SessionPrincipal) -> Session {
    let mut n = 0_u8;
    let (access_key_id, secret) = mint_keys(account(), &mut |b: &mut [u8]| {
        for x in b {
            n = n.wrapping_add(37);
            *x = n;
        }
    });
    Session {
        access_key_id,
        secret,
        account: account(),
        principal,
        policy: None,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        mfa: None,
        issued_at: u64::try_from(T0).unwrap() - 600,
        expires_at: u64::try_from(T0).unwrap() + 3000,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

fn role_session(r: &RoleRecord) -> Session {
    session(SessionPrincipal::AssumedRole {
        role_arn: r.arn.clone(),
        role_id: r.id.clone(),
        session_name: "s1".into(),
    })
}

fn federated(u: &UserRecord) -> Session {
    session(SessionPrincipal::FederatedUser {
        name: "fed".into(),
        caller_arn: u.arn.clone(),
        caller_user_id: u.id.to_string(),
    })
}

fn caller(s: Session) -> Caller {
    Caller {
        account: account(),
        access_key_id: Some(s.access_key_id.clone()),
        identity: Identity::Session(Arc::new(s)),
        region: None,
    }
}

async fn authz(records: Vec<Record>, s: Session) -> AuthzCaller {
    load(records, &caller(s)).await
}

async fn try_load(records: Vec<Record>, s: Session) -> Result<AuthzCaller, ServiceError> {
    let clock = FixedClock::at_secs(T0);
    let store = MemoryStore::new(Arc::new(FixedClock::at_secs(T0)));
    let mut txn = Transaction::new();
    for r in records {
        txn.put(r);
    }
    store.commit(txn).await.unwrap();
    AuthzCaller::load(
        &store,
        &clock,
        &partition(),
        &caller(s),
        &Transport::default(),
    )
    .await
}

fn key(a: &AuthzCaller, k: &str) -> Option<String> {
    a.context()
        .get(&k.to_lowercase())
        .map(|v| v.values().collect::<Vec<_>>().join(","))
}

#[tokio::test]
async fn a_role_session_acts_with_its_roles_current_policies() {
    let r = role("Deploy", &allow(r#"["iam:GetUser","iam:ListUsers"]"#));
    let a = authz(vec![r.clone().into()], role_session(&r)).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:ListUsers", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:CreateUser", TARGET, &[]).is_err());
    assert_eq!(a.arn(), "arn:aws:sts::123456789012:assumed-role/Deploy/s1");
    assert_eq!(
        key(&a, "aws:PrincipalArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/ops/Deploy")
    );
    assert_eq!(key(&a, "aws:PrincipalType").as_deref(), Some("AssumedRole"));
    assert_eq!(
        key(&a, "aws:userid").as_deref(),
        Some("AROAJQABLZS4A3QDU576Q:s1")
    );
    assert_eq!(
        key(&a, "aws:TokenIssueTime").as_deref(),
        Some("2025-03-01T10:05:00Z")
    );
    assert_eq!(
        key(&a, "aws:MultiFactorAuthPresent").as_deref(),
        Some("false")
    );
    assert_eq!(key(&a, "aws:MultiFactorAuthAge"), None);
    assert_eq!(key(&a, "aws:username"), None);
}

#[tokio::test]
async fn session_policies_narrow_and_resolve_managed_policies() {
    let r = role("Deploy", &allow(r#""iam:*""#));
    let m = managed("list", &allow(r#""iam:ListUsers""#));
    let mut s = role_session(&r);
    s.policy = Some(allow(r#""iam:GetUser""#));
    let a = authz(vec![r.clone().into(), m.clone().into()], s.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    let e = a.authorize("iam:ListUsers", TARGET, &[]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessDenied);
    assert!(
        e.message().starts_with(
            "User: arn:aws:sts::123456789012:assumed-role/Deploy/s1 is not authorized to perform: iam:ListUsers"
        ),
        "{}",
        e.message()
    );
    assert!(e.message().contains("session policy"), "{}", e.message());

    // A policy ARN adds to the session layer (never beyond the role's).
    s.policy_arns = vec![m.arn.clone()];
    let a = authz(vec![r.clone().into(), m.clone().into()], s.clone()).await;
    assert!(a.authorize("iam:ListUsers", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:DeleteUser", TARGET, &[]).is_err());

    // An ARN that no longer resolves contributes nothing.
    s.policy = None;
    let a = authz(vec![r.clone().into()], s).await;
    assert!(a.authorize("iam:ListUsers", TARGET, &[]).is_err());
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn a_deleted_or_recreated_role_grants_nothing() {
    let r = role("Deploy", &allow(r#""iam:*""#));
    let s = role_session(&r);
    let a = authz(vec![], s.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
    let mut again = r.clone();
    again.id = "AROAJQABLZS4A3QDU5ZZZ".parse().unwrap();
    let a = authz(vec![again.into()], s).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn the_roles_boundary_applies() {
    let b = managed("boundary", &allow(r#""iam:GetUser""#));
    let mut r = role("Deploy", &allow(r#""iam:*""#));
    r.permissions_boundary = Some(b.arn.clone());
    let a = authz(vec![r.clone().into(), b.into()], role_session(&r)).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:ListUsers", TARGET, &[]).is_err());
}

#[tokio::test]
async fn session_tags_override_role_tags_as_principal_tags() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*",
        "Condition":{"StringEquals":{"aws:PrincipalTag/team":"red","aws:PrincipalTag/env":"prod"}}}}"#;
    let mut r = role("Deploy", doc);
    r.tags = vec![
        Tag {
            key: "team".parse().unwrap(),
            value: "blue".parse().unwrap(),
        },
        Tag {
            key: "env".parse().unwrap(),
            value: "prod".parse().unwrap(),
        },
    ];
    let a = authz(vec![r.clone().into()], role_session(&r)).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
    let mut s = role_session(&r);
    s.tags = vec![SessionTag {
        key: "Team".into(),
        value: "red".into(),
    }];
    let a = authz(vec![r.into()], s).await;
    assert_eq!(key(&a, "aws:PrincipalTag/team").as_deref(), Some("red"));
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
}

#[tokio::test]
async fn mfa_and_source_identity_keys() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*",
        "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}}"#;
    let r = role("Deploy", doc);
    let without = role_session(&r);
    let a = authz(vec![r.clone().into()], without.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());

    let mut with = without;
    with.mfa = Some(MfaInfo {
        serial: "arn:aws:iam::123456789012:mfa/alice".parse().unwrap(),
        authenticated_at: u64::try_from(T0).unwrap() - 100,
    });
    with.source_identity = Some("alice".into());
    with.provider = Some("arn:aws:iam::123456789012:saml-provider/Okta".into());
    with.provider_keys = vec![
        ("saml:sub".into(), "alice".into()),
        ("saml:groups".into(), "dev".into()),
        ("saml:groups".into(), "ops".into()),
    ];
    let a = authz(vec![r.clone().into()], with.clone()).await;
    assert_eq!(key(&a, "saml:sub").as_deref(), Some("alice"));
    let groups: Vec<&str> = a.context().get("saml:groups").unwrap().values().collect();
    assert_eq!(groups, ["dev", "ops"]);
    assert_eq!(
        key(&a, "aws:MultiFactorAuthPresent").as_deref(),
        Some("true")
    );
    assert_eq!(key(&a, "aws:MultiFactorAuthAge").as_deref(), Some("100"));
    assert_eq!(key(&a, "aws:SourceIdentity").as_deref(), Some("alice"));
    assert_eq!(
        key(&a, "aws:FederatedProvider").as_deref(),
        Some("arn:aws:iam::123456789012:saml-provider/Okta")
    );
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());

    // Too old an MFA authentication fails the age condition.
    if let Some(m) = &mut with.mfa {
        m.authenticated_at = u64::try_from(T0).unwrap() - 4000;
    }
    let a = authz(vec![r.into()], with).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn a_federated_user_without_a_session_policy_may_do_nothing() {
    let mut alice = user("alice");
    alice.inline_policies.insert(
        "p".parse().unwrap(),
        allow(r#"["iam:GetUser","iam:CreateUser"]"#),
    );
    let a = authz(vec![alice.clone().into()], federated(&alice)).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
    assert_eq!(a.arn(), "arn:aws:sts::123456789012:federated-user/fed");
    assert_eq!(
        key(&a, "aws:PrincipalType").as_deref(),
        Some("FederatedUser")
    );
    assert_eq!(key(&a, "aws:userid").as_deref(), Some("123456789012:fed"));
    assert_eq!(
        key(&a, "aws:PrincipalArn").as_deref(),
        Some("arn:aws:sts::123456789012:federated-user/fed")
    );

    // With one: the user's policies ∩ the session policy.
    let mut s = federated(&alice);
    s.policy = Some(allow(r#"["iam:GetUser","iam:DeleteUser"]"#));
    let a = authz(vec![alice.clone().into()], s.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:CreateUser", TARGET, &[]).is_err());
    assert!(a.authorize("iam:DeleteUser", TARGET, &[]).is_err());

    // The calling user deleted: refused like its keys.
    let e = try_load(vec![], s).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClientTokenId);
}

#[tokio::test]
async fn a_federated_user_of_root_has_its_session_policy() {
    let mut s = session(SessionPrincipal::FederatedUser {
        name: "fed".into(),
        caller_arn: Arn::iam_root(&partition(), account()),
        caller_user_id: account().to_string(),
    });
    let a = authz(vec![], s.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_err());
    s.policy = Some(allow(r#""iam:GetUser""#));
    let a = authz(vec![], s).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:CreateUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn a_get_session_token_session_acts_as_its_user_or_root() {
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), allow(r#""iam:GetUser""#));
    alice.tags.push(Tag {
        key: "team".parse().unwrap(),
        value: "blue".parse().unwrap(),
    });
    let gts = session(SessionPrincipal::User {
        user_arn: alice.arn.clone(),
        user_id: alice.id.clone(),
        name: alice.name.clone(),
    });
    let a = authz(vec![alice.clone().into()], gts.clone()).await;
    assert!(a.authorize("iam:GetUser", TARGET, &[]).is_ok());
    assert!(a.authorize("iam:CreateUser", TARGET, &[]).is_err());
    assert_eq!(a.arn(), "arn:aws:iam::123456789012:user/alice");
    assert_eq!(key(&a, "aws:username").as_deref(), Some("alice"));
    assert_eq!(key(&a, "aws:PrincipalType").as_deref(), Some("User"));
    assert_eq!(key(&a, "aws:PrincipalTag/team").as_deref(), Some("blue"));
    assert_eq!(
        key(&a, "aws:MultiFactorAuthPresent").as_deref(),
        Some("false")
    );

    // A user recreated under the same name is another user.
    let mut again = alice.clone();
    again.id = "AIDAJQABLZS4A3QDU5ZZZ".parse().unwrap();
    let e = try_load(vec![again.into()], gts).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClientTokenId);

    let root = authz(vec![], session(SessionPrincipal::Root)).await;
    assert!(root.authorize("iam:CreateUser", TARGET, &[]).is_ok());
    assert_eq!(root.arn(), "arn:aws:iam::123456789012:root");
    assert_eq!(key(&root, "aws:PrincipalType").as_deref(), Some("Account"));
}
