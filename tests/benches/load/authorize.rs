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

use sha2::Digest as _;

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
    /// The gRPC messages framed for the wire (the 5-byte gRPC prefix and
    /// the encoded message), with their SHA-256: what the hyper client
    /// sends.
    pub(super) frames: Vec<(Bytes, [u8; 32])>,
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
    let frames = messages
        .iter()
        .map(|m| {
            let encoded = prost::Message::encode_to_vec(m);
            let mut frame = vec![0_u8];
            frame.extend_from_slice(&u32::try_from(encoded.len()).unwrap().to_be_bytes());
            frame.extend_from_slice(&encoded);
            let digest: [u8; 32] = sha2::Sha256::digest(&frame).into();
            (Bytes::from(frame), digest)
        })
        .collect();
    Setup {
        asker,
        messages,
        bodies,
        frames,
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
    let mut req = Request::post("/v1/authorize")
        .header("host", host)
        .header("content-type", "application/json");
    for (name, value) in sign_as_asker(setup, &view).unwrap() {
        req = req.header(name, value);
    }
    req.body(Full::new(body)).unwrap()
}

/// The HTTP/2 connection of the hyper client: `Authorizer.Authorize`
/// without tonic — hyper's HTTP/2 client, the message framed and encoded
/// once at set-up, each call signed now with stsd's SigV4 signer (the
/// canonical form `stsd::client::SigV4Layer` signs: method, path, host,
/// `x-amz-date`, `x-amz-content-sha256`). The same requests on the wire as
/// the tonic client's, with less of the generator's CPU per call.
pub(super) type H2 = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// A hyper HTTP/2 connection to `addr`.
pub(super) async fn h2_client(addr: std::net::SocketAddr) -> H2 {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    send
}

const AUTHORIZE_PATH: &str = "/stsd.v1.Authorizer/Authorize";

/// One Authorize of pool entry `n` over the hyper client.
pub(super) async fn call_h2(
    send: &mut H2,
    authority: &str,
    setup: &Setup,
    n: u64,
) -> Result<(), String> {
    use http_body_util::BodyExt as _;
    let (frame, digest) = &setup.frames[usize::try_from(n).unwrap() % POOL];
    let digest_hex = data_encoding::HEXLOWER.encode(digest);
    let headers = [
        ("host", authority),
        ("x-amz-content-sha256", digest_hex.as_str()),
    ];
    let view = RequestView {
        method: "POST",
        path: AUTHORIZE_PATH,
        query: "",
        headers: &headers,
        payload: Payload::Sha256(*digest),
    };
    let signed = sign_as_asker(setup, &view)?;
    let mut req = Request::post(format!("http://{authority}{AUTHORIZE_PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("x-amz-content-sha256", digest_hex.as_str());
    for (name, value) in signed {
        req = req.header(name, value);
    }
    let req = req.body(Full::new(frame.clone())).unwrap();
    send.ready().await.map_err(|e| e.to_string())?;
    let response = send.send_request(req).await.map_err(|e| e.to_string())?;
    let collected = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .map(|v| v.as_bytes().to_vec());
    if status.as_deref() != Some(b"0") {
        return Err(format!("grpc-status {status:?}"));
    }
    let body = collected.to_bytes();
    let message = body.get(5..).ok_or("a short gRPC frame")?;
    let answer =
        <pb::AuthorizeResponse as prost::Message>::decode(message).map_err(|e| e.to_string())?;
    if answer.decision() == pb::Decision::Allow {
        Ok(())
    } else {
        Err(format!("{answer:?}"))
    }
}

/// The headers that sign `view` as the asking service, now (scope
/// service `stsd`, as `stsd::client::SigV4Layer` signs).
fn sign_as_asker(
    setup: &Setup,
    view: &RequestView<'_>,
) -> Result<Vec<(&'static str, String)>, String> {
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
    sign_request(view, &params)
        .map(|signed| signed.headers)
        .map_err(|e| e.to_string())
}
