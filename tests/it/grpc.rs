//! The gRPC API over the wire: the real daemon, a tonic client over an
//! HTTP/2 (h2c) channel to the Query API's own port, every call signed by
//! `stsd::client::SigV4Layer` — every STS RPC, the same validation and
//! error codes as the Query API with the AWS code and request id in the
//! metadata, and the refusals of bad, tampered, unsigned and expired
//! signatures.

use std::sync::Arc;
use std::time::Duration;

use stsd::api::grpc::proto::v1 as pb;
use stsd::api::grpc::proto::v1::security_token_service_client::SecurityTokenServiceClient;
use stsd::client::{Credentials, SigV4, SigV4Layer};
use stsd::domain::clock::{Clock, SystemClock};
use stsd::domain::secret::SessionToken;
use tonic::transport::{Channel, Endpoint};
use tower::Layer as _;

use crate::client::{Credentials as Creds, call, enc, root_credentials};
use crate::daemon::Daemon;

type Sts = SecurityTokenServiceClient<SigV4<Channel>>;

async fn channel(d: &Daemon) -> Channel {
    Endpoint::from_shared(format!("http://{}", d.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn creds(c: &Creds) -> Credentials {
    Credentials {
        access_key_id: c.id.clone(),
        secret: c.secret.expose_secret().parse().unwrap(),
        session_token: c
            .token
            .as_ref()
            .map(|t| SessionToken::new(t.expose_secret())),
    }
}

fn signed_with(d: &Daemon, ch: Channel, c: Credentials, clock: Arc<dyn Clock>) -> Sts {
    let layer = SigV4Layer::with_clock(c, "us-east-1", &d.addr.to_string(), clock);
    SecurityTokenServiceClient::new(layer.layer(ch))
}

async fn sts(d: &Daemon, c: &Creds) -> Sts {
    signed_with(d, channel(d).await, creds(c), Arc::new(SystemClock))
}

fn session_creds(c: &pb::Credentials) -> Creds {
    Creds {
        id: c.access_key_id.clone(),
        secret: c.secret_access_key.parse().unwrap(),
        token: Some(SessionToken::new(&c.session_token)),
    }
}

/// The AWS code and request id of a failed call.
fn aws_error(s: &tonic::Status) -> (&str, &str) {
    let md = s.metadata();
    let code = md.get("x-amzn-errortype").unwrap().to_str().unwrap();
    let id = md.get("x-amzn-requestid").unwrap().to_str().unwrap();
    assert_eq!(id.len(), 36, "a request id: {id}");
    (code, id)
}

/// alice with a key, and the role `deploy` that trusts her.
fn alice_and_role(d: &Daemon) -> Creds {
    let root = root_credentials(d);
    assert_eq!(
        call(d, &root, "iam", "Action=CreateUser&UserName=alice").status,
        200
    );
    let r = call(d, &root, "iam", "Action=CreateAccessKey&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: None,
    };
    let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}}"#;
    let r = call(
        d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=deploy&AssumeRolePolicyDocument={}",
            enc(trust)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    alice
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signed_sts_rpc_answers_as_the_query_api() {
    let d = Daemon::start();
    let root = root_credentials(&d);
    let alice = alice_and_role(&d);
    let mut as_root = sts(&d, &root).await;

    let me = as_root
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap();
    assert!(me.metadata().get("x-amzn-requestid").is_some());
    let me = me.into_inner();
    assert_eq!(me.arn, "arn:aws:iam::123456789012:root");
    assert_eq!(
        (me.account.as_str(), me.user_id.as_str()),
        ("123456789012", "123456789012")
    );

    // AssumeRole with tags, a source identity and a session policy.
    let mut as_alice = sts(&d, &alice).await;
    let out = as_alice
        .assume_role(pb::AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            role_session_name: "grpc-1".into(),
            duration_seconds: Some(900),
            tags: vec![pb::Tag {
                key: "Project".into(),
                value: "Apollo".into(),
            }],
            transitive_tag_keys: vec!["Project".into()],
            source_identity: Some("alice".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let c = out.credentials.unwrap();
    assert!(c.access_key_id.starts_with("ASIA") && c.secret_access_key.len() == 40);
    let expires = c.expiration.as_ref().unwrap().seconds;
    let now = SystemClock.now_secs();
    assert!(
        (now + 890..=now + 910).contains(&expires),
        "{expires} vs {now}"
    );
    let user = out.assumed_role_user.unwrap();
    assert_eq!(
        user.arn,
        "arn:aws:sts::123456789012:assumed-role/deploy/grpc-1"
    );
    assert!(user.assumed_role_id.starts_with("AROA") && user.assumed_role_id.ends_with(":grpc-1"));
    assert!(out.packed_policy_size.unwrap() > 0);
    assert_eq!(out.source_identity.as_deref(), Some("alice"));

    // The session signs gRPC calls too.
    let mut as_session = sts(&d, &session_creds(&c)).await;
    let me = as_session
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.arn, user.arn);

    // GetSessionToken.
    let out = as_alice
        .get_session_token(pb::GetSessionTokenRequest {
            duration_seconds: Some(900),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let c = out.credentials.unwrap();
    let me = sts(&d, &session_creds(&c))
        .await
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.arn, "arn:aws:iam::123456789012:user/alice");

    // GetFederationToken (root may, with a policy and tags).
    let out = as_root
        .get_federation_token(pb::GetFederationTokenRequest {
            name: "bob".into(),
            policy: Some(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}"#.into()),
            tags: vec![pb::Tag { key: "team".into(), value: "blue".into() }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let fed = out.federated_user.unwrap();
    assert_eq!(fed.arn, "arn:aws:sts::123456789012:federated-user/bob");
    assert_eq!(fed.federated_user_id, "123456789012:bob");
    assert!(out.packed_policy_size.is_some());

    // GetAccessKeyInfo.
    let out = as_root
        .get_access_key_info(pb::GetAccessKeyInfoRequest {
            access_key_id: alice.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.account, "123456789012");

    // A denial carries the Query API's encoded message; root decodes it.
    let denied = as_alice
        .get_access_key_info(pb::GetAccessKeyInfoRequest {
            access_key_id: alice.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    assert_eq!(aws_error(&denied).0, "AccessDenied");
    let (_, blob) = denied
        .message()
        .split_once("Encoded authorization failure message: ")
        .unwrap_or_else(|| panic!("{}", denied.message()));
    let decoded = as_root
        .decode_authorization_message(pb::DecodeAuthorizationMessageRequest {
            encoded_message: blob.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let v: serde_json::Value = serde_json::from_str(&decoded.decoded_message).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["context"]["action"], "sts:GetAccessKeyInfo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_are_the_query_apis_with_the_aws_code_in_metadata() {
    let d = Daemon::start();
    let alice = alice_and_role(&d);
    let mut as_alice = sts(&d, &alice).await;
    let e = as_alice
        .assume_role(pb::AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            role_session_name: "s1".into(),
            duration_seconds: Some(100),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert_eq!(aws_error(&e).0, "ValidationError");
    assert_eq!(
        e.message(),
        "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    );
    let e = as_alice
        .assume_role(pb::AssumeRoleRequest {
            role_session_name: "s1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("Value null at 'roleArn'"),
        "{}",
        e.message()
    );
    let e = as_alice
        .get_federation_token(pb::GetFederationTokenRequest {
            name: "bob".into(),
            tags: vec![pb::Tag {
                key: "a*b".into(),
                value: "v".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        e.message().contains("'tags.member.1.key'"),
        "{}",
        e.message()
    );
    // A user may not call GetFederationToken without a policy allowing it.
    assert_eq!(e.code(), tonic::Code::InvalidArgument);

    // The unsigned actions reach their operation without a signature.
    let mut unsigned = SecurityTokenServiceClient::new(channel(&d).await);
    let e = unsigned
        .assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            role_session_name: "w1".into(),
            web_identity_token: "not-a-jwt".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(aws_error(&e).0, "InvalidIdentityToken", "{}", e.message());
    let e = unsigned
        .assume_role_with_saml(pb::AssumeRoleWithSamlRequest {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            principal_arn: "arn:aws:iam::123456789012:saml-provider/idp".into(),
            saml_assertion: "bm90LXNhbWw=".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(aws_error(&e).0, "InvalidIdentityToken");
    assert_eq!(
        e.message(),
        "Specified provider doesn't exist: principalArn arn:aws:iam::123456789012:saml-provider/idp"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tampered_unsigned_and_expired_signatures_are_unauthenticated() {
    let d = Daemon::start();
    let root = root_credentials(&d);

    // Unsigned.
    let mut unsigned = SecurityTokenServiceClient::new(channel(&d).await);
    let e = unsigned
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(aws_error(&e).0, "MissingAuthenticationToken");

    // A wrong secret.
    let wrong = Creds {
        id: root.id.clone(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".parse().unwrap(),
        token: None,
    };
    let e = sts(&d, &wrong)
        .await
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(aws_error(&e).0, "SignatureDoesNotMatch");

    // An unknown key.
    let unknown = Creds {
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: root.secret.expose_secret().parse().unwrap(),
        token: None,
    };
    let e = sts(&d, &unknown)
        .await
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap_err();
    assert_eq!(aws_error(&e).0, "InvalidClientTokenId");

    // Signed an hour ago: outside the clock skew.
    #[derive(Debug)]
    struct HourAgo;
    impl Clock for HourAgo {
        fn now(&self) -> Duration {
            SystemClock.now() - Duration::from_secs(3600)
        }
    }
    let mut stale = signed_with(&d, channel(&d).await, creds(&root), Arc::new(HourAgo));
    let e = stale
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(aws_error(&e).0, "SignatureDoesNotMatch");
    assert!(
        e.message().contains("expired") || e.message().contains("Signature"),
        "{}",
        e.message()
    );

    // Signed, then the body changed on the way: the header no longer
    // matches the body.
    let layer = SigV4Layer::new(creds(&root), "us-east-1", &d.addr.to_string());
    let mut tampered =
        SecurityTokenServiceClient::new(layer.layer(tamper::Tamper(channel(&d).await)));
    let e = tampered
        .get_access_key_info(pb::GetAccessKeyInfoRequest {
            access_key_id: root.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(aws_error(&e).0, "SignatureDoesNotMatch");
    assert!(
        e.message().contains("x-amz-content-sha256"),
        "{}",
        e.message()
    );

    // An expired session.
    let keys = crate::sessions::daemon_ring(&d);
    let mut old = crate::sessions::session(crate::sessions::setup(&d));
    old.issued_at = crate::sessions::now() - 7200;
    old.expires_at = crate::sessions::now() - 3600;
    let e = sts(&d, &crate::sessions::sealed(&keys, &old))
        .await
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(aws_error(&e).0, "ExpiredToken");
    assert_eq!(
        e.message(),
        "The security token included in the request is expired"
    );
}

mod tamper {
    //! Flips the last byte of the request body after signing.

    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body_util::{BodyExt as _, Full};
    use tonic::body::Body;
    use tonic::transport::Channel;
    use tower::Service;

    #[derive(Clone)]
    pub(super) struct Tamper(pub(super) Channel);

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    impl Service<http::Request<Body>> for Tamper {
        type Response = http::Response<Body>;
        type Error = BoxError;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            self.0.poll_ready(cx).map_err(Into::into)
        }

        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            let mut inner = self.0.clone();
            std::mem::swap(&mut inner, &mut self.0);
            Box::pin(async move {
                let (parts, body) = req.into_parts();
                let mut bytes = body.collect().await?.to_bytes().to_vec();
                let last = bytes.last_mut().unwrap();
                *last ^= 0x01;
                let req = http::Request::from_parts(parts, Body::new(Full::new(bytes.into())));
                inner.call(req).await.map_err(Into::into)
            })
        }
    }
}
