//! The Authorize workloads of the load generator (issue 6): a service
//! user allowed `stsd:Authorize` asks about requests a reader user signed
//! for the `photos` service.
//!
//! - `authorize-grpc`: `Authorizer.Authorize` over gRPC (HTTP/2 on
//!   loopback, tonic's client), each call signed by
//!   `stsd::client::SigV4Layer` (body hashed, fresh `X-Amz-Date`); the
//!   generator's connections are tasks with one call in flight each,
//!   sharing `STSD_BENCH_GRPC_CHANNELS` HTTP/2 connections as a service
//!   shares its channel.
//! - `authorize-json`: the same question as `POST /v1/authorize` over
//!   HTTP/1.1 keep-alive, signed per request.
//!
//! The requests asked about come from a pool signed once at set-up (well
//! inside the 15-minute skew window): the daemon verifies every one in
//! full on every call (it keeps no answer), so reusing them only spares
//! the generator's CPU, which shares the machine with the daemon.

use std::sync::Arc;

use http::Request;
use http_body_util::Full;
use hyper::body::Bytes;
use stsd::api::grpc::proto::v1 as pb;
use stsd::api::grpc::proto::v1::authorizer_client::AuthorizerClient;
use stsd::client::{Credentials, SigV4, SigV4Layer};
use stsd::domain::clock::{Clock, SystemClock};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use tonic::transport::{Channel, Endpoint};
use tower::Layer as _;

use super::{ACCOUNT, Creds};

/// Requests in the pool.
const POOL: usize = 64;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
pub(super) const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["photos:Get*","photos:List*"],"Resource":"*"},{"Effect":"Deny","Action":"photos:DeleteAlbum","Resource":"*"}]}"#;
pub(super) const MAY_AUTHORIZE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"stsd:Authorize","Resource":"arn:aws:photos:*:*:*"}]}"#;

/// What the Authorize workloads send.
pub(super) struct Setup {
    /// The asking service's credentials.
    pub(super) asker: Creds,
    /// gRPC messages asking about pre-signed requests.
    pub(super) messages: Vec<pb::AuthorizeRequest>,
    /// The same questions as `POST /v1/authorize` bodies.
    pub(super) bodies: Vec<Bytes>,
}

/// The pool of questions about requests `reader` signed.
pub(super) fn setup(asker: Creds, reader: &Creds) -> Setup {
    let now = i64::try_from(SystemClock.now().as_secs()).unwrap();
    let mut messages = Vec::with_capacity(POOL);
    let mut bodies = Vec::with_capacity(POOL);
    for n in 0..POOL {
        let path = format!("/albums/a{n}");
        let host = "photos.example.com";
        let headers = [("host", host), ("accept", "application/json")];
        let view = RequestView {
            method: "GET",
            path: &path,
            query: "max=10",
            headers: &headers,
            payload: Payload::Bytes(b""),
        };
        let params = SigningParams {
            access_key_id: &reader.key_id,
            secret: &reader.secret,
            security_token: None,
            region: "us-east-1",
            service: "photos",
            timestamp: AmzDate::from_unix_secs(now).unwrap(),
            location: SignatureLocation::Headers,
            normalize_path: true,
        };
        let signed = sign_request(&view, &params).unwrap();
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.extend(
            signed
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone())),
        );
        let resource = format!("arn:aws:photos:us-east-1:{ACCOUNT}:album/a{n}");
        messages.push(pb::AuthorizeRequest {
            http: Some(pb::HttpRequest {
                method: "GET".into(),
                scheme: "https".into(),
                host: host.into(),
                path: path.clone(),
                query: signed.query.clone(),
                headers: all
                    .iter()
                    .map(|(k, v)| pb::HttpHeader {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                payload_sha256: EMPTY_SHA256.into(),
            }),
            source_ip: "10.1.2.3".into(),
            action: "photos:GetAlbum".into(),
            resource: resource.clone(),
            ..pb::AuthorizeRequest::default()
        });
        let json = serde_json::json!({
            "Request": {
                "Method": "GET", "Scheme": "https", "Host": host, "Path": path,
                "Query": signed.query,
                "Headers": all.iter().map(|(k, v)| serde_json::json!({"Name": k, "Value": v})).collect::<Vec<_>>(),
                "PayloadSha256": EMPTY_SHA256,
            },
            "SourceIp": "10.1.2.3", "Action": "photos:GetAlbum", "Resource": resource,
        });
        bodies.push(Bytes::from(serde_json::to_vec(&json).unwrap()));
    }
    Setup {
        asker,
        messages,
        bodies,
    }
}

/// A signed gRPC client.
pub(super) type Client = AuthorizerClient<SigV4<Channel>>;

/// A signed gRPC client on its own HTTP/2 connection.
pub(super) async fn client(
    addr: std::net::SocketAddr,
    asker: &Creds,
) -> AuthorizerClient<SigV4<Channel>> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .tcp_nodelay(true)
        .connect()
        .await
        .unwrap();
    let creds = Credentials {
        access_key_id: asker.key_id.clone(),
        secret: asker.secret.expose_secret().parse().unwrap(),
        session_token: None,
    };
    let layer =
        SigV4Layer::with_clock(creds, "us-east-1", &addr.to_string(), Arc::new(SystemClock));
    AuthorizerClient::new(layer.layer(channel))
}

/// One gRPC Authorize of pool entry `n`: whether it answered Allow, or
/// the error text.
pub(super) async fn call(
    client: &mut AuthorizerClient<SigV4<Channel>>,
    setup: &Setup,
    n: u64,
) -> Result<(), String> {
    let m = setup.messages[usize::try_from(n).unwrap() % POOL].clone();
    match client.authorize(m).await {
        Ok(r) if r.get_ref().decision() == pb::Decision::Allow => Ok(()),
        Ok(r) => Err(format!("{:?}", r.into_inner())),
        Err(e) => Err(e.to_string()),
    }
}

/// `POST /v1/authorize` of pool entry `n`, signed by the asker now.
pub(super) fn json_request(host: &str, setup: &Setup, n: u64) -> Request<Full<Bytes>> {
    let body = setup.bodies[usize::try_from(n).unwrap() % POOL].clone();
    let headers = [("host", host), ("content-type", "application/json")];
    let view = RequestView {
        method: "POST",
        path: "/v1/authorize",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(&body),
    };
    let now = i64::try_from(SystemClock.now().as_secs()).unwrap();
    let params = SigningParams {
        access_key_id: &setup.asker.key_id,
        secret: &setup.asker.secret,
        security_token: None,
        region: "us-east-1",
        service: "stsd",
        timestamp: AmzDate::from_unix_secs(now).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut req = Request::post("/v1/authorize")
        .header("host", host)
        .header("content-type", "application/json");
    for (name, value) in signed.headers {
        req = req.header(name, value);
    }
    req.body(Full::new(body)).unwrap()
}
