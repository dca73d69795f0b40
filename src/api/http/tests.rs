//! The router in process, through `tower::ServiceExt::oneshot`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::*;
use crate::api::dispatch::{Auth, Call, Service};
use crate::api::xml::XmlResponse;
use crate::domain::clock::FixedClock;
use crate::service::authn::{AuthnSettings, StaticCredentials};

fn state(body_limit: usize, timeout: Duration) -> Arc<HttpState> {
    let mut dispatcher = Dispatcher::new();
    crate::api::sts::register(&mut dispatcher, Default::default());
    dispatcher.register(
        Service::Sts,
        "AssumeRoleWithWebIdentity",
        Auth::Unsigned,
        |c: Call| async move {
            let token = c.params.root().required("WebIdentityToken")?.to_owned();
            if token == "slow" {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            let mut r = XmlResponse::new();
            r.string("Echo", token);
            Ok(r)
        },
    );
    let authenticator = Authenticator::new(
        Arc::new(StaticCredentials::new()),
        Arc::new(FixedClock::at_secs(0)),
        AuthnSettings {
            regions: vec!["us-east-1".into()],
            max_skew: Duration::from_secs(900),
            max_presigned_lifetime: Duration::from_secs(900),
        },
    );
    let readiness = Readiness::new();
    readiness.set_ready();
    Arc::new(HttpState {
        dispatcher,
        authenticator: Arc::new(authenticator),
        authorizer: None,
        readiness,
        settings: HttpSettings {
            body_limit,
            request_timeout: timeout,
            query_limits: query::Limits::default(),
        },
        messages: None,
        audit: Arc::new(crate::service::audit::Audit::off(Arc::new(
            FixedClock::at_secs(0),
        ))),
        partition: "aws".parse().unwrap(),
        limits: None,
        ops: super::ops::OpsSettings::default(),
    })
}

async fn send(state: &Arc<HttpState>, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let resp = router(Arc::clone(state), axum::Router::new())
        .oneshot(req)
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn post(body: &'static [u8]) -> Request<Body> {
    Request::post("/")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Body::from(body))
        .unwrap()
}

fn code(xml: &str) -> &str {
    let after = xml.split_once("<Code>").unwrap().1;
    after.split_once('<').unwrap().0
}

#[tokio::test]
async fn health_and_readiness() {
    let s = state(1024, Duration::from_secs(5));
    let (status, headers, _) =
        send(&s, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[REQUEST_ID_HEADER].len(), 36);
    assert_eq!(
        send(&s, Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .0,
        StatusCode::OK
    );
    s.readiness.set_draining();
    s.readiness.set_ready(); // draining is final
    let (status, _, body) = send(&s, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    );
    assert_eq!(
        send(&s, Request::get("/x").body(Body::empty()).unwrap())
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn errors_are_aws_xml_with_the_request_id() {
    let s = state(1024, Duration::from_secs(5));
    let (status, headers, body) = send(&s, post(b"Action=Nope&Version=2011-06-15")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "text/xml");
    assert_eq!(code(&body), "InvalidAction");
    let id = headers[REQUEST_ID_HEADER].to_str().unwrap();
    assert!(
        body.contains(&format!("<RequestId>{id}</RequestId>")),
        "{body}"
    );
    assert!(body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"));

    let (_, _, body) = send(&s, post(b"Action=GetUser&Version=2010-05-08")).await;
    assert!(
        body.contains("xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""),
        "{body}"
    );
    assert_eq!(
        code(&send(&s, post(b"Version=2011-06-15")).await.2),
        "MissingAction"
    );
    assert_eq!(
        code(&send(&s, post(b"Action=%zz")).await.2),
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn signed_actions_refuse_unsigned_requests() {
    let s = state(1024, Duration::from_secs(5));
    let (status, _, body) = send(&s, post(b"Action=GetCallerIdentity&Version=2011-06-15")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "MissingAuthenticationToken")
    );
}

#[tokio::test]
async fn unsigned_actions_run_and_get_and_query_work() {
    let s = state(1024, Duration::from_secs(5));
    let (status, _, body) = send(
        &s,
        post(b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=a%3Cb"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(
            "<AssumeRoleWithWebIdentityResult><Echo>a&lt;b</Echo></AssumeRoleWithWebIdentityResult>"
        ),
        "{body}"
    );

    let get =
        Request::get("/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=q")
            .body(Body::empty())
            .unwrap();
    assert!(send(&s, get).await.2.contains("<Echo>q</Echo>"));

    // The body wins over the query.
    let both =
        Request::post("/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=q")
            .body(Body::from("WebIdentityToken=b"))
            .unwrap();
    assert!(send(&s, both).await.2.contains("<Echo>b</Echo>"));

    // A body that is not a form is not read as parameters.
    let json = Request::post("/")
        .header("content-type", "application/json")
        .body(Body::from("Action=AssumeRoleWithWebIdentity"))
        .unwrap();
    assert_eq!(code(&send(&s, json).await.2), "MissingAction");
}

#[tokio::test]
async fn json_variant_on_accept() {
    let s = state(1024, Duration::from_secs(5));
    let req = Request::post("/")
        .header("accept", "text/html, application/json;q=0.9")
        .body(Body::from(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=t",
        ))
        .unwrap();
    let (_, headers, body) = send(&s, req).await;
    assert_eq!(headers["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"]["Echo"],
        "t"
    );

    let req = Request::post("/")
        .header("accept", "application/json")
        .body(Body::from("Action=X&Version=2011-06-15"))
        .unwrap();
    let (status, _, body) = send(&s, req).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (v["Error"]["Code"].as_str(), v["Error"]["Type"].as_str()),
        (Some("InvalidAction"), Some("Sender"))
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = state(64, Duration::from_secs(5));
    let big: &'static [u8] = Box::leak(vec![b'a'; 65].into_boxed_slice());
    let (status, _, body) = send(&s, post(big)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge")
    );

    // Without Content-Length (streamed), the limit still holds.
    let chunks = futures_stream(vec![vec![b'a'; 40], vec![b'b'; 40]]);
    let req = Request::post("/").body(chunks).unwrap();
    assert_eq!(send(&s, req).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A body of `chunks` with no declared length.
fn futures_stream(chunks: Vec<Vec<u8>>) -> Body {
    struct Chunks(std::collections::VecDeque<axum::body::Bytes>);
    impl hyper::body::Body for Chunks {
        type Data = axum::body::Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Ready(
                self.get_mut()
                    .0
                    .pop_front()
                    .map(|b| Ok(hyper::body::Frame::data(b))),
            )
        }
    }
    Body::new(Chunks(
        chunks.into_iter().map(axum::body::Bytes::from).collect(),
    ))
}

#[tokio::test(start_paused = true)]
async fn slow_requests_time_out_with_503() {
    let s = state(1024, Duration::from_secs(2));
    let (status, _, body) = send(
        &s,
        post(b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=slow"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
    );
    assert!(body.contains("<Type>Receiver</Type>"));
}
