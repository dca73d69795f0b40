//! Revocation and the issued-session log of STS-minted sessions, through
//! `service::sessions` over the same store and clock as the STS
//! operations.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::domain::credential::Session;
use crate::domain::sessions::SessionFilter;
use crate::service::sessions::{Revocations, RevokeTarget, Sessions};
use crate::service::sts::federated::{
    FederatedIdentity, FederatedKind, FederatedRequest, assume_role_federated,
};

const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant";
const PREFIX: &str = "idp.example.com/tenant";

async fn sessions(env: &Env) -> Sessions {
    let revocations = Revocations::load(Arc::clone(&env.iam.store) as _, env.clock.clone())
        .await
        .unwrap();
    Sessions {
        store: Arc::clone(&env.iam.store),
        revocations: Arc::new(revocations),
        clock: env.clock.clone(),
        partition: env.iam.partition.clone(),
        entropy: Arc::clone(&env.iam.entropy),
    }
}

/// A role `name` root may assume.
async fn role(env: &Env, name: &str) -> RoleRecord {
    let trust = trust(
        "arn:aws:iam::123456789012:root",
        &["sts:AssumeRole", "sts:SetSourceIdentity"],
        "",
    );
    env.role(name, &trust).await
}

/// A user allowed `sts:AssumeRole` on everything, so it can mint.
async fn minter(env: &Env) -> Caller {
    env.user(
        "minter",
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Resource":"*"}]}"#),
    )
    .await
}

async fn mint(env: &Env, caller: &Caller, role: &RoleRecord, name: &str) -> Session {
    env.assume(caller, assume(role, name))
        .await
        .unwrap()
        .session
}

async fn mint_as(env: &Env, caller: &Caller, role: &RoleRecord, name: &str, si: &str) -> Session {
    let mut input = assume(role, name);
    input.source_identity = Some(si.parse().unwrap());
    env.assume(caller, input).await.unwrap().session
}

fn tick(env: &Env) {
    env.clock.advance(Duration::from_secs(1));
}

#[tokio::test]
async fn revoking_a_key_refuses_that_session_only_at_once() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let caller = minter(&env).await;
    let role = role(&env, "build").await;
    let (a, b) = (
        mint(&env, &caller, &role, "sa").await,
        mint(&env, &caller, &role, "sb").await,
    );
    let root = env.authz(&env.root()).await;
    let rule = s
        .revoke(
            &root,
            RevokeTarget::Session {
                access_key_id: a.access_key_id.clone(),
            },
        )
        .await
        .unwrap();
    let revoked = s.revocations.check(&a).unwrap();
    assert_eq!(revoked.rule, rule.id);
    assert_eq!(revoked.kind, "session");
    assert_eq!(
        s.revocations.check(&b),
        None,
        "a sibling of the role lives on"
    );
}

#[tokio::test]
async fn revoking_a_role_refuses_every_earlier_session_and_none_minted_after() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let caller = minter(&env).await;
    let build = role(&env, "build").await;
    let deploy = role(&env, "deploy").await;
    let old = mint(&env, &caller, &build, "old").await;
    tick(&env);
    let recent = mint(&env, &caller, &build, "recent").await;
    let other = mint(&env, &caller, &deploy, "other").await;
    let root = env.authz(&env.root()).await;
    s.revoke(
        &root,
        RevokeTarget::Role {
            role_arn: build.arn.clone(),
            issued_before: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.revocations.check(&old).map(|r| r.kind), Some("role"));
    assert_eq!(s.revocations.check(&recent).map(|r| r.kind), Some("role"));
    assert_eq!(s.revocations.check(&other), None);
    tick(&env);
    let fresh = mint(&env, &caller, &build, "fresh").await;
    assert_eq!(
        s.revocations.check(&fresh),
        None,
        "minted after the revocation"
    );

    // A cut-off in the past spares what came after it.
    let cutoff = old.issued_at;
    s.revoke(
        &root,
        RevokeTarget::Role {
            role_arn: deploy.arn.clone(),
            issued_before: Some(cutoff - 1),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.revocations.check(&other), None);
}

#[tokio::test]
async fn revoking_a_source_identity_or_the_account() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let caller = minter(&env).await;
    let build = role(&env, "build").await;
    let alice = mint_as(&env, &caller, &build, "sa", "alice").await;
    let bob = mint_as(&env, &caller, &build, "sb", "bob").await;
    let root = env.authz(&env.root()).await;
    s.revoke(
        &root,
        RevokeTarget::SourceIdentity {
            source_identity: "alice".parse().unwrap(),
            issued_before: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.revocations.check(&alice).map(|r| r.kind),
        Some("source_identity")
    );
    assert_eq!(s.revocations.check(&bob), None);

    let t = env.clock.now().as_secs();
    tick(&env);
    let later = mint(&env, &caller, &build, "later").await;
    s.revoke(
        &root,
        RevokeTarget::Account {
            issued_before: Some(t),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.revocations.check(&bob).map(|r| r.kind), Some("account"));
    assert_eq!(
        s.revocations.check(&later),
        None,
        "issued after the cut-off"
    );
}

fn identity(sub: &str) -> FederatedIdentity {
    FederatedIdentity {
        kind: FederatedKind::WebIdentity,
        provider_arn: PROVIDER.parse().unwrap(),
        key_prefix: PREFIX.to_owned(),
        keys: vec![
            (format!("{PREFIX}:sub"), vec![sub.to_owned()]),
            (format!("{PREFIX}:aud"), vec!["stsd".to_owned()]),
        ],
        claims: vec![("sub".to_owned(), vec![sub.to_owned()])],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
    }
}

async fn federated(env: &Env, role: &RoleRecord, sub: &str) -> Session {
    let request = FederatedRequest {
        request_id: format!("req-{sub}"),
        role_arn: role.arn.clone(),
        session_name: "web".parse().unwrap(),
        duration: None,
        max_duration: None,
        policies: Default::default(),
        identity: identity(sub),
    };
    assume_role_federated(&env.sts, &Transport::default(), request)
        .await
        .unwrap()
        .session
}

#[tokio::test]
async fn revoking_a_federated_subject() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let trust = trust_for(
        "Federated",
        PROVIDER,
        &["sts:AssumeRoleWithWebIdentity"],
        "",
    );
    let role = env.role("web", &trust).await;
    let runner = federated(&env, &role, "repo:ci").await;
    let other = federated(&env, &role, "repo:docs").await;
    let root = env.authz(&env.root()).await;
    s.revoke(
        &root,
        RevokeTarget::Subject {
            provider_arn: PROVIDER.parse().unwrap(),
            subject: "repo:ci".to_owned(),
            issued_before: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.revocations.check(&runner).map(|r| r.kind),
        Some("subject")
    );
    assert_eq!(s.revocations.check(&other), None);
    // The record names the subject and the request that minted it.
    let list = s
        .list(
            &root,
            SessionFilter {
                subject: Some("repo:ci".to_owned()),
                ..SessionFilter::default()
            },
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(list.sessions.len(), 1);
    let rec = list.sessions.first().unwrap();
    assert_eq!(rec.access_key_id, runner.access_key_id);
    assert_eq!(rec.request_id, "req-repo:ci");
    assert_eq!(rec.provider.as_deref(), Some(PROVIDER));
}

#[tokio::test]
async fn list_shows_who_holds_live_credentials_for_a_role() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let caller = minter(&env).await;
    let build = role(&env, "build").await;
    let deploy = role(&env, "deploy").await;
    let mut short = assume(&build, "short");
    short.duration = Some(900);
    let short = env.assume(&caller, short).await.unwrap().session;
    let long = mint(&env, &caller, &build, "long").await;
    mint(&env, &caller, &deploy, "elsewhere").await;
    let root = env.authz(&env.root()).await;
    let by_role = SessionFilter {
        role_arn: Some(build.arn.clone()),
        ..SessionFilter::default()
    };
    let list = s.list(&root, by_role.clone(), None, None).await.unwrap();
    let mut keys: Vec<_> = list
        .sessions
        .iter()
        .map(|r| r.access_key_id.clone())
        .collect();
    keys.sort();
    let mut want = vec![short.access_key_id.clone(), long.access_key_id.clone()];
    want.sort();
    assert_eq!(keys, want);
    let rec = list
        .sessions
        .iter()
        .find(|r| r.access_key_id == long.access_key_id)
        .unwrap();
    assert_eq!(
        rec.principal_arn.as_str(),
        "arn:aws:sts::123456789012:assumed-role/build/long"
    );
    assert_eq!(rec.request_id, "test-request");
    assert_eq!(
        (rec.issued_at, rec.expires_at),
        (long.issued_at, long.expires_at)
    );

    // Paged one at a time.
    let first = s.list(&root, by_role.clone(), None, Some(1)).await.unwrap();
    assert_eq!(first.sessions.len(), 1);
    let marker = first.marker.unwrap();
    let second = s
        .list(&root, by_role.clone(), Some(&marker), Some(1))
        .await
        .unwrap();
    assert_eq!(second.sessions.len(), 1);
    assert_eq!(second.marker, None);

    // Expired sessions drop out.
    env.clock.advance(Duration::from_secs(900));
    let list = s.list(&root, by_role, None, None).await.unwrap();
    let keys: Vec<_> = list
        .sessions
        .iter()
        .map(|r| r.access_key_id.clone())
        .collect();
    assert_eq!(keys, std::slice::from_ref(&long.access_key_id));
}

#[tokio::test]
async fn callers_need_the_stsd_actions_and_stay_in_their_account() {
    let env = Env::new().await;
    let s = sessions(&env).await;
    let build = role(&env, "build").await;
    let deploy = role(&env, "deploy").await;
    let nobody = env.user("nobody", None).await;
    let nobody = env.authz(&nobody).await;
    let target = || RevokeTarget::Role {
        role_arn: build.arn.clone(),
        issued_before: None,
    };
    assert_err(
        s.revoke(&nobody, target()).await,
        ErrorCode::AccessDenied,
        "User: ",
    );
    assert_err(
        s.list(&nobody, SessionFilter::default(), None, None).await,
        ErrorCode::AccessDenied,
        "User: ",
    );
    assert!(s.revocations.is_empty(), "a refused revoke stores nothing");

    // Allowed on one role's sessions only.
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["stsd:RevokeSessions","stsd:ListSessions"],"Resource":"{}"}}]}}"#,
        build.arn
    );
    let scoped = env.user("scoped", Some(&doc)).await;
    let scoped = env.authz(&scoped).await;
    s.revoke(&scoped, target()).await.unwrap();
    let by_role = |arn: &Arn| SessionFilter {
        role_arn: Some(arn.clone()),
        ..SessionFilter::default()
    };
    s.list(&scoped, by_role(&build.arn), None, None)
        .await
        .unwrap();
    assert_err(
        s.list(&scoped, by_role(&deploy.arn), None, None).await,
        ErrorCode::AccessDenied,
        "User: ",
    );
    assert_err(
        s.revoke(
            &scoped,
            RevokeTarget::Account {
                issued_before: None,
            },
        )
        .await,
        ErrorCode::AccessDenied,
        "User: ",
    );

    // Another account's role, key or provider: refused naming the field.
    let root = env.authz(&env.root()).await;
    let foreign: Arn = "arn:aws:iam::210987654321:role/build".parse().unwrap();
    let e = assert_err(
        s.revoke(
            &root,
            RevokeTarget::Role {
                role_arn: foreign.clone(),
                issued_before: None,
            },
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "roleArn",
    );
    assert!(e.message().contains("123456789012"), "{e}");
    assert_err(
        s.list(&root, by_role(&foreign), None, None).await,
        ErrorCode::InvalidParameterValue,
        "roleArn",
    );
    assert_err(
        s.revoke(
            &root,
            RevokeTarget::Session {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().unwrap(),
            },
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "accessKeyId",
    );
    assert_err(
        s.revoke(
            &root,
            RevokeTarget::Subject {
                provider_arn: build.arn.clone(),
                subject: "x".into(),
                issued_before: None,
            },
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "providerArn",
    );
    let e = assert_err(
        s.revoke(
            &root,
            RevokeTarget::Subject {
                provider_arn: PROVIDER.parse().unwrap(),
                subject: String::new(),
                issued_before: None,
            },
        )
        .await,
        ErrorCode::ValidationError,
        "1 validation error",
    );
    assert!(e.message().contains("'subject'"), "{e}");
    let future = env.clock.now().as_secs() + 10;
    let e = assert_err(
        s.revoke(
            &root,
            RevokeTarget::Account {
                issued_before: Some(future),
            },
        )
        .await,
        ErrorCode::ValidationError,
        "1 validation error",
    );
    assert!(e.message().contains("'issuedBefore'"), "{e}");
    let e = assert_err(
        s.list(&root, SessionFilter::default(), None, Some(0)).await,
        ErrorCode::ValidationError,
        "1 validation error",
    );
    assert!(e.message().contains("'maxItems'"), "{e}");
    assert_err(
        s.list(&root, SessionFilter::default(), Some("garbage"), None)
            .await,
        ErrorCode::InvalidParameterValue,
        "marker",
    );
}

#[tokio::test]
async fn a_revocation_stored_by_another_replica_holds_after_a_refresh() {
    let env = Env::new().await;
    let here = sessions(&env).await;
    let there = sessions(&env).await;
    let caller = minter(&env).await;
    let build = role(&env, "build").await;
    let a = mint(&env, &caller, &build, "sa").await;
    let root = env.authz(&env.root()).await;
    there
        .revoke(
            &root,
            RevokeTarget::Role {
                role_arn: build.arn.clone(),
                issued_before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(here.revocations.check(&a), None, "not yet refreshed");
    assert!(here.revocations.refresh().await.unwrap());
    assert_eq!(here.revocations.check(&a).map(|r| r.kind), Some("role"));
    assert!(!here.revocations.refresh().await.unwrap(), "nothing new");
}
