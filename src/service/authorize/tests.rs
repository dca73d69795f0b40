//! Service-level tests of Authorize on the in-memory store with a fixed
//! clock: requests signed with this crate's SigV4 client by real keys and
//! sessions (minted by AssumeRole), the cases that need the clock to move
//! (expired sessions, the answer's lifetime), and the caches (a policy
//! change, a deleted role, a recreated user are seen on the next call).
//! The HTTP, botocore and aws-sigv4 cases are in `tests/python` and
//! `tests/it`.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::domain::secret::{SecretAccessKey, SessionToken};
use crate::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use crate::service::authn::{AuthnSettings, StoreCredentials};
use crate::service::iam::access_keys::create_access_key;
use crate::service::iam::holder::Holder;
use crate::service::iam::inline::{delete_policy, put_policy};
use crate::service::sts::tests::{Env, allow, arn, assume, trust};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The authorizer over `env`'s store, keys and clock.
fn authorizer(env: &Env, ttl: Duration) -> Authorizer {
    let lookup = StoreCredentials::new(Arc::clone(&env.iam.store), Arc::clone(&env.iam.master_key));
    let settings = AuthnSettings {
        regions: vec!["us-east-1".to_owned()],
        max_skew: Duration::from_secs(300),
        max_presigned_lifetime: Duration::from_secs(604_800),
    };
    let clock: Arc<dyn crate::domain::clock::Clock> = env.clock.clone();
    let authenticator = Authenticator::new(Arc::new(lookup), Arc::clone(&clock), settings)
        .with_session_keys(Arc::clone(&env.sts.keys));
    Authorizer {
        authenticator: Arc::new(authenticator),
        store: Arc::clone(&env.iam.store),
        identities: Arc::clone(&env.iam.identities),
        clock,
        partition: env.iam.partition.clone(),
        settings: AuthorizeSettings { answer_ttl: ttl },
        iam: Arc::new(crate::service::iam::Iam {
            store: Arc::clone(&env.iam.store),
            clock: env.clock.clone(),
            partition: env.iam.partition.clone(),
            entropy: Arc::clone(&env.iam.entropy),
            master_key: Arc::clone(&env.iam.master_key),
            identities: Arc::clone(&env.iam.identities),
        }),
    }
}

/// Credentials to sign with.
struct Creds {
    id: String,
    secret: SecretAccessKey,
    token: Option<SessionToken>,
}

/// A GET of `/albums` signed with `creds` at `env`'s time for `photos`.
fn signed(env: &Env, creds: &Creds, region: &str) -> SignedRequest {
    let host = "photos.example.com";
    let headers = [("host", host)];
    let view = RequestView {
        method: "GET",
        path: "/albums",
        query: "max=10",
        headers: &headers,
        payload: Payload::Bytes(b""),
    };
    let params = SigningParams {
        access_key_id: &creds.id,
        secret: &creds.secret,
        security_token: creds.token.as_ref(),
        region,
        service: "photos",
        timestamp: AmzDate::from_unix_secs(env.clock.now_secs()).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let out = sign_request(&view, &params).unwrap();
    let mut all = vec![("host".to_owned(), host.to_owned())];
    all.extend(
        out.headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    SignedRequest {
        method: "GET".into(),
        scheme: "https".into(),
        host: host.into(),
        path: "/albums".into(),
        query: out.query,
        headers: all,
        payload_sha256: EMPTY_SHA256.into(),
    }
}

fn input(request: SignedRequest, action: &str) -> AuthorizeInput {
    AuthorizeInput {
        request,
        action: action.into(),
        resource: "arn:aws:photos:us-east-1:123456789012:album/summer".into(),
        ..AuthorizeInput::default()
    }
}

/// A user with `doc` and an access key.
async fn keyed_user(env: &Env, name: &str, doc: &str) -> Creds {
    let _ = env.user(name, Some(doc)).await;
    let root = env.authz(&env.root()).await;
    let key = create_access_key(&env.iam, &root, Some(name.parse().unwrap()))
        .await
        .unwrap();
    Creds {
        id: key.record.id.to_string(),
        secret: key.secret,
        token: None,
    }
}

/// A role session of role `role` (allowing `doc`), assumed by a user.
async fn session(env: &Env, role: &str, doc: &str) -> Creds {
    let alice = env
        .user(
            &format!("{role}-assumer"),
            Some(&allow("sts:AssumeRole", "*")),
        )
        .await;
    let r = env
        .role_in(
            crate::service::iam::testing::account(),
            role,
            &trust(&arn(env, &alice), &["sts:AssumeRole"], "{}"),
            Some(doc),
            None,
        )
        .await;
    let minted = env.assume(&alice, assume(&r, "sess")).await.unwrap();
    Creds {
        id: minted.session.access_key_id.to_string(),
        secret: minted.session.secret.clone(),
        token: Some(SessionToken::new(minted.token.expose_secret())),
    }
}

#[tokio::test]
async fn a_user_key_is_allowed_then_denied_on_the_next_call_after_a_policy_change() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(5));
    let creds = keyed_user(&env, "alice", &allow("photos:*", "*")).await;
    let req = input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum");
    let first = a.decide_unchecked(&req).await.unwrap();
    assert_eq!(first.decision, Decision::Allow, "{first:?}");
    assert_eq!(first.cache_ttl, Duration::from_secs(5));
    let root = env.authz(&env.root()).await;
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"photos:GetAlbum","Resource":"*"}}"#;
    put_policy(
        &env.iam,
        &root,
        Holder::User("alice".parse().unwrap()),
        "stop".parse().unwrap(),
        deny.into(),
    )
    .await
    .unwrap();
    let second = a.decide_unchecked(&req).await.unwrap();
    assert_eq!(second.decision, Decision::ExplicitDeny);
    assert_eq!(second.error_code, Some(ErrorCode::AccessDenied));
    delete_policy(
        &env.iam,
        &root,
        Holder::User("alice".parse().unwrap()),
        "stop".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        a.decide_unchecked(&req).await.unwrap().decision,
        Decision::Allow
    );
}

#[tokio::test]
async fn a_session_expires_and_the_answer_never_outlives_it() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(3600));
    let creds = session(&env, "reader", &allow("photos:*", "*")).await;
    let answer = a
        .decide_unchecked(&input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum"))
        .await
        .unwrap();
    assert_eq!(answer.decision, Decision::Allow);
    // The default session lasts an hour; the configured hour is capped.
    assert_eq!(answer.cache_ttl, Duration::from_secs(3600));
    env.clock.advance(Duration::from_secs(3000));
    let later = a
        .decide_unchecked(&input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum"))
        .await
        .unwrap();
    assert_eq!(later.cache_ttl, Duration::from_secs(600));
    env.clock.advance(Duration::from_secs(601));
    let expired = a
        .decide_unchecked(&input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum"))
        .await
        .unwrap();
    assert_eq!(expired.decision, Decision::Unauthenticated);
    assert_eq!(expired.error_code, Some(ErrorCode::ExpiredToken));
    assert_eq!(expired.cache_ttl, Duration::ZERO);
    assert!(expired.principal.is_none());
}

#[tokio::test]
async fn a_deleted_role_grants_its_sessions_nothing_on_the_next_call() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(5));
    let creds = session(&env, "writer", &allow("photos:*", "*")).await;
    let req = input(signed(&env, &creds, "us-east-1"), "photos:PutAlbum");
    assert_eq!(
        a.decide_unchecked(&req).await.unwrap().decision,
        Decision::Allow
    );
    let root = env.authz(&env.root()).await;
    delete_policy(
        &env.iam,
        &root,
        Holder::Role("writer".parse().unwrap()),
        "p".parse().unwrap(),
    )
    .await
    .unwrap();
    let after = a.decide_unchecked(&req).await.unwrap();
    assert_eq!(after.decision, Decision::ImplicitDeny);
    let p = after.principal.unwrap();
    assert_eq!(p.principal_type, "AssumedRole");
    assert_eq!(p.arn, "arn:aws:sts::123456789012:assumed-role/writer/sess");
}

#[tokio::test]
async fn a_replayed_request_outside_the_skew_is_refused() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(5));
    let creds = keyed_user(&env, "bob", &allow("photos:*", "*")).await;
    let req = input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum");
    env.clock.advance(Duration::from_secs(301));
    let answer = a.decide_unchecked(&req).await.unwrap();
    assert_eq!(answer.decision, Decision::Unauthenticated);
    assert_eq!(answer.error_code, Some(ErrorCode::SignatureDoesNotMatch));
}

#[tokio::test]
async fn the_region_and_service_of_the_scope_are_checked() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(5));
    let creds = keyed_user(&env, "carol", &allow("photos:*", "*")).await;
    let west = input(signed(&env, &creds, "eu-west-1"), "photos:GetAlbum");
    assert_eq!(
        a.decide_unchecked(&west).await.unwrap().decision,
        Decision::Unauthenticated
    );
    let mut told = west.clone();
    told.signing_region = Some("eu-west-1".into());
    assert_eq!(
        a.decide_unchecked(&told).await.unwrap().decision,
        Decision::Allow
    );
    // Signed for `photos`, asked about an `s3:` action.
    let other = input(signed(&env, &creds, "us-east-1"), "s3:GetObject");
    let refused = a.decide_unchecked(&other).await.unwrap();
    assert_eq!(refused.error_code, Some(ErrorCode::SignatureDoesNotMatch));
}

#[tokio::test]
async fn the_asker_needs_stsd_authorize() {
    let env = Env::new().await;
    let a = authorizer(&env, Duration::from_secs(5));
    let creds = keyed_user(&env, "dave", &allow("photos:*", "*")).await;
    let asker = env
        .user(
            "svc",
            Some(&allow("stsd:Authorize", "arn:aws:photos:*:*:album/winter")),
        )
        .await;
    let req = input(signed(&env, &creds, "us-east-1"), "photos:GetAlbum");
    let err = a
        .authorize(&asker, &Transport::default(), &req)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(
        err.message().contains("stsd:Authorize"),
        "{}",
        err.message()
    );
    let root = env.root();
    let ok = a
        .authorize(&root, &Transport::default(), &req)
        .await
        .unwrap();
    assert_eq!(ok.decision, Decision::Allow);
}
