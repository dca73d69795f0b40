//! `Authorizer` and `Sessions` over gRPC with a tonic client signed by
//! `stsd::client::SigV4Layer`, against the real daemon: a role session
//! (minted by AssumeRole over the Query API) signs a request for another
//! service, which asks `Authorize`; `Simulate`; `Sessions.List` shows who
//! holds credentials for the role; `Sessions.Revoke` makes the very next
//! `Authorize` and the very next broker call refuse the session, and
//! leaves a sibling session alone until the role is revoked.

use std::sync::Arc;

use stsd::api::grpc::proto::v1 as pb;
use stsd::api::grpc::proto::v1::authorizer_client::AuthorizerClient;
use stsd::api::grpc::proto::v1::sessions_client::SessionsClient;
use stsd::client::{Credentials, SigV4, SigV4Layer};
use stsd::domain::clock::{Clock as _, SystemClock};
use stsd::domain::secret::SessionToken;
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use tonic::transport::{Channel, Endpoint};
use tower::Layer as _;

use crate::client::{Credentials as Creds, call, enc, root_credentials};
use crate::daemon::Daemon;

const ALBUM: &str = "arn:aws:photos:us-east-1:123456789012:album/summer";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async fn channel(d: &Daemon) -> Channel {
    Endpoint::from_shared(format!("http://{}", d.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn layer(d: &Daemon, c: &Creds) -> SigV4Layer {
    let creds = Credentials {
        access_key_id: c.id.clone(),
        secret: c.secret.expose_secret().parse().unwrap(),
        session_token: c
            .token
            .as_ref()
            .map(|t| SessionToken::new(t.expose_secret())),
    };
    SigV4Layer::with_clock(
        creds,
        "us-east-1",
        &d.addr.to_string(),
        Arc::new(SystemClock),
    )
}

async fn authorizer(d: &Daemon, c: &Creds) -> AuthorizerClient<SigV4<Channel>> {
    AuthorizerClient::new(layer(d, c).layer(channel(d).await))
}

async fn sessions(d: &Daemon, c: &Creds) -> SessionsClient<SigV4<Channel>> {
    SessionsClient::new(layer(d, c).layer(channel(d).await))
}

/// A `GET /albums/summer` to `photos` signed by `c` now.
pub(crate) fn photos_request(c: &Creds) -> pb::HttpRequest {
    let host = "photos.example.com";
    let headers = [("host", host)];
    let view = RequestView {
        method: "GET",
        path: "/albums/summer",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(b""),
    };
    let params = SigningParams {
        access_key_id: &c.id,
        secret: &c.secret,
        security_token: c.token.as_ref(),
        region: "us-east-1",
        service: "photos",
        timestamp: AmzDate::from_unix_secs(SystemClock.now_secs()).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut all = vec![pb::HttpHeader {
        name: "host".into(),
        value: host.into(),
    }];
    all.extend(signed.headers.iter().map(|(k, v)| pb::HttpHeader {
        name: (*k).into(),
        value: v.clone(),
    }));
    pb::HttpRequest {
        method: "GET".into(),
        scheme: "https".into(),
        host: host.into(),
        path: "/albums/summer".into(),
        query: String::new(),
        headers: all,
        payload_sha256: EMPTY_SHA256.into(),
    }
}

fn ask(c: &Creds, action: &str) -> pb::AuthorizeRequest {
    pb::AuthorizeRequest {
        http: Some(photos_request(c)),
        source_ip: "10.1.2.3".into(),
        action: action.into(),
        resource: ALBUM.into(),
        ..pb::AuthorizeRequest::default()
    }
}

/// bob with a key who may assume `reader`, which may read photos.
fn bob_and_role(d: &Daemon) -> Creds {
    let root = root_credentials(d);
    let ok = |r: crate::daemon::Response| assert_eq!(r.status, 200, "{}", r.body);
    ok(call(d, &root, "iam", "Action=CreateUser&UserName=bob"));
    let assume = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#;
    ok(call(
        d,
        &root,
        "iam",
        &format!(
            "Action=PutUserPolicy&UserName=bob&PolicyName=a&PolicyDocument={}",
            enc(assume)
        ),
    ));
    let r = call(d, &root, "iam", "Action=CreateAccessKey&UserName=bob");
    assert_eq!(r.status, 200, "{}", r.body);
    let bob = Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: None,
    };
    let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}}"#;
    ok(call(
        d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=reader&AssumeRolePolicyDocument={}",
            enc(trust)
        ),
    ));
    let read = r#"{"Version":"2012-10-17","Statement":{"Sid":"Read","Effect":"Allow","Action":"photos:Get*","Resource":"*"}}"#;
    ok(call(
        d,
        &root,
        "iam",
        &format!(
            "Action=PutRolePolicy&RoleName=reader&PolicyName=read&PolicyDocument={}",
            enc(read)
        ),
    ));
    bob
}

/// A session of `reader` named `name`, assumed by bob over the Query API.
fn session(d: &Daemon, bob: &Creds, name: &str) -> Creds {
    let r = call(
        d,
        bob,
        "sts",
        &format!(
            "Action=AssumeRole&RoleArn={}&RoleSessionName={name}",
            enc("arn:aws:iam::123456789012:role/reader")
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: Some(SessionToken::new(r.xml("SessionToken").unwrap())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_simulate_list_and_revoke_over_grpc() {
    let d = Daemon::start();
    let root = root_credentials(&d);
    let bob = bob_and_role(&d);
    let first = session(&d, &bob, "first");
    let second = session(&d, &bob, "second");
    let mut az = authorizer(&d, &root).await;

    let a = az
        .authorize(ask(&first, "photos:GetAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.decision(), pb::Decision::Allow, "{a:?}");
    let p = a.principal.unwrap();
    assert_eq!(p.arn, "arn:aws:sts::123456789012:assumed-role/reader/first");
    assert_eq!(p.r#type, "AssumedRole");
    assert_eq!(a.statements.len(), 1);
    assert_eq!(a.statements[0].sid, "Read");
    assert_eq!(a.statements[0].kind(), pb::PolicyKind::Identity);
    assert!(a.cache_ttl.unwrap().seconds > 0);

    let denied = az
        .authorize(ask(&first, "photos:DeleteAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(denied.decision(), pb::Decision::ImplicitDeny);
    assert_eq!(denied.error_code, "AccessDenied");

    // Tampered path: unauthenticated, no principal.
    let mut tampered = ask(&first, "photos:GetAlbum");
    tampered.http.as_mut().unwrap().path = "/albums/winter".into();
    let t = az.authorize(tampered).await.unwrap().into_inner();
    assert_eq!(
        (t.decision(), t.error_code.as_str()),
        (pb::Decision::Unauthenticated, "SignatureDoesNotMatch")
    );
    assert!(t.principal.is_none());

    // Bad input is an error naming the field.
    let mut bad = ask(&first, "photos:GetAlbum");
    bad.source_ip = "nowhere".into();
    let e = az.authorize(bad).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("SourceIp"), "{}", e.message());

    // Simulate the role's policies.
    let sim = az
        .simulate(pb::SimulateRequest {
            principal: Some(pb::simulate_request::Principal::PrincipalArn(
                "arn:aws:iam::123456789012:role/reader".into(),
            )),
            action: "photos:GetAlbum".into(),
            resource: ALBUM.into(),
            ..pb::SimulateRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sim.decision(), pb::Decision::Allow);
    // IAM names an inline policy by its name (SourcePolicyId).
    assert_eq!(sim.matched_policies, ["read"]);

    // Who holds credentials for the role right now.
    let mut ss = sessions(&d, &root).await;
    let listed = ss
        .list(pb::ListRequest {
            filter: Some(pb::list_request::Filter::RoleArn(
                "arn:aws:iam::123456789012:role/reader".into(),
            )),
            ..pb::ListRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut keys: Vec<&str> = listed
        .sessions
        .iter()
        .map(|s| s.access_key_id.as_str())
        .collect();
    keys.sort_unstable();
    let mut want = vec![first.id.as_str(), second.id.as_str()];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert!(listed.sessions.iter().all(|s| s.request_id.len() == 36));

    // Revoke one session: its very next Authorize and broker call fail;
    // its sibling still works.
    let revoked = ss
        .revoke(pb::RevokeRequest {
            target: Some(pb::revoke_request::Target::AccessKeyId(first.id.clone())),
            ..pb::RevokeRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!revoked.revocation_id.is_empty());
    let gone = az
        .authorize(ask(&first, "photos:GetAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (gone.decision(), gone.error_code.as_str()),
        (pb::Decision::Unauthenticated, "InvalidClientTokenId")
    );
    let broker = call(&d, &first, "sts", "Action=GetCallerIdentity");
    assert_eq!(broker.status, 403, "{}", broker.body);
    assert!(
        broker.body.contains("InvalidClientTokenId"),
        "{}",
        broker.body
    );
    let sibling = az
        .authorize(ask(&second, "photos:GetAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sibling.decision(), pb::Decision::Allow);

    // Revoke the role: the sibling goes too; a session minted after works.
    ss.revoke(pb::RevokeRequest {
        target: Some(pb::revoke_request::Target::RoleArn(
            "arn:aws:iam::123456789012:role/reader".into(),
        )),
        ..pb::RevokeRequest::default()
    })
    .await
    .unwrap();
    let sibling = az
        .authorize(ask(&second, "photos:GetAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sibling.decision(), pb::Decision::Unauthenticated);
    // Sessions are revoked by issue second: wait for the next one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let third = session(&d, &bob, "third");
    let fresh = az
        .authorize(ask(&third, "photos:GetAlbum"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fresh.decision(), pb::Decision::Allow, "{fresh:?}");

    // A caller without stsd:RevokeSessions is refused.
    let mut as_bob = sessions(&d, &bob).await;
    let e = as_bob
        .revoke(pb::RevokeRequest {
            target: Some(pb::revoke_request::Target::AccessKeyId(third.id.clone())),
            ..pb::RevokeRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        e.metadata().get("x-amzn-errortype").unwrap(),
        "AccessDenied"
    );
}
