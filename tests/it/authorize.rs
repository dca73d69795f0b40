//! Authorize over HTTP JSON with requests signed by AWS's own Rust signer
//! (`aws-sigv4`, as the Rust SDK signs): a service received a request from
//! a user's key or from a role session the Rust SDK's `AssumeRole`
//! returned, and asks stsd `POST /v1/authorize` — itself signed by
//! `aws-sigv4` for the credential scope service `stsd`. Header and
//! presigned (query) signatures; tampered requests; the very next call
//! after a policy change.

use std::time::{Duration, SystemTime};

use stsd::domain::clock::{Clock as _, SystemClock};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::client::root;
use crate::daemon::Daemon;
use crate::sdk_iam::client as iam_client;
use crate::sdk_sts::{runtime, sts};

const ACCOUNT: &str = "123456789012";
const ALBUM: &str = "arn:aws:photos:us-east-1:123456789012:album/summer";
const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"photos:Get*","Resource":"*"}]}"#;
const DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"photos:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const MAY_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;

/// A request signed by `aws-sigv4`: method, URL (with any presigned
/// parameters), headers.
struct Signed {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
}

/// Signs `method url` with `headers` and `body` for `service` in
/// `region`, in headers or (presigned) in the query.
#[expect(clippy::too_many_arguments, reason = "every signing input, named")]
fn aws_sign(
    creds: &Credentials,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    service: &str,
    region: &str,
    location: SignatureLocation,
) -> Signed {
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::UNIX_EPOCH + SystemClock.now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    Signed {
        method: method.to_owned(),
        url: request.uri().to_string(),
        headers: request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect(),
    }
}

/// The `Request` member describing `s` with body `body`.
fn parts(s: &Signed, body: &[u8]) -> Value {
    let uri: http::Uri = s.url.parse().unwrap();
    let mut headers: Vec<Value> = s
        .headers
        .iter()
        .map(|(k, v)| json!({"Name": k, "Value": v}))
        .collect();
    if !s
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("host"))
    {
        headers.push(json!({"Name": "host", "Value": uri.authority().unwrap().as_str()}));
    }
    json!({
        "Method": s.method,
        "Scheme": uri.scheme_str().unwrap(),
        "Host": uri.authority().unwrap().as_str(),
        "Path": uri.path(),
        "Query": uri.query().unwrap_or_default(),
        "Headers": headers,
        "PayloadSha256": hex(&Sha256::digest(body)),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /v1/authorize` with `body`, signed by `aws-sigv4` as `asker`.
fn authorize(d: &Daemon, asker: &Credentials, body: &Value) -> (u16, Value) {
    let payload = serde_json::to_vec(body).unwrap();
    let host = d.addr.to_string();
    let url = format!("http://{host}/v1/authorize");
    let signed = aws_sign(
        asker,
        "POST",
        &url,
        &[("host", &host), ("content-type", "application/json")],
        &payload,
        "stsd",
        "us-east-1",
        SignatureLocation::Headers,
    );
    let mut raw = format!(
        "POST /v1/authorize HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        payload.len()
    )
    .into_bytes();
    for (k, v) in &signed.headers {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&payload);
    let response = d.request(&raw);
    (
        response.status,
        serde_json::from_str(&response.body).unwrap(),
    )
}

fn creds(id: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::new(id, secret, token.map(str::to_owned), None, "stsd-test")
}

/// A user with the inline policy `doc` and an access key.
async fn user(d: &Daemon, name: &str, doc: &str) -> Credentials {
    let (root_id, root_secret) = root(d);
    let iam = iam_client(d, &root_id, root_secret.expose_secret());
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(name)
        .policy_name("p")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    creds(key.access_key_id(), key.secret_access_key(), None)
}

fn root_creds(d: &Daemon) -> Credentials {
    let (id, secret) = root(d);
    creds(&id, secret.expose_secret(), None)
}

#[test]
fn aws_sigv4_header_and_presigned_requests_are_decided() {
    let d = Daemon::start();
    runtime().block_on(async {
        let alice = user(&d, "az-alice", READ).await;
        let asker = root_creds(&d);
        let url = "https://photos.example.com/albums/summer?max=10&b=a%20b";
        let headers = [("host", "photos.example.com"), ("x-album-owner", "alice")];
        let signed = aws_sign(&alice, "GET", url, &headers, b"", "photos", "us-east-1", SignatureLocation::Headers);
        let (status, a) = authorize(&d, &asker, &json!({"Request": parts(&signed, b""), "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(status, 200, "{a}");
        assert_eq!(a["Decision"], "Allow", "{a}");
        assert_eq!(a["Principal"]["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/az-alice"));
        assert_eq!(a["Statements"][0]["Sid"], "Read");

        let (_, denied) = authorize(&d, &asker, &json!({"Request": parts(&signed, b""), "Action": "photos:PutAlbum", "Resource": ALBUM}));
        assert_eq!(denied["Decision"], "ImplicitDeny");
        assert_eq!(denied["ErrorCode"], "AccessDenied");

        // Tampering with a signed header or the query.
        let mut changed = parts(&signed, b"");
        for h in changed["Headers"].as_array_mut().unwrap() {
            if h["Name"] == "x-album-owner" {
                h["Value"] = json!("mallory");
            }
        }
        assert_ne!(changed, parts(&signed, b""));
        let (_, t) = authorize(&d, &asker, &json!({"Request": changed, "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!((t["Decision"].as_str(), t["ErrorCode"].as_str()), (Some("Unauthenticated"), Some("SignatureDoesNotMatch")), "{t}");
        let mut changed = parts(&signed, b"");
        changed["Query"] = json!("max=11&b=a%20b");
        let (_, q) = authorize(&d, &asker, &json!({"Request": changed, "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(q["ErrorCode"], "SignatureDoesNotMatch");

        // A body signed with its hash; another body does not verify.
        let body = br#"{"title":"beach"}"#;
        let put = aws_sign(&alice, "PUT", url, &[("host", "photos.example.com")], body, "photos", "us-east-1", SignatureLocation::Headers);
        let (_, ok) = authorize(&d, &asker, &json!({"Request": parts(&put, body), "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(ok["Decision"], "Allow", "{ok}");
        let (_, bad) = authorize(&d, &asker, &json!({"Request": parts(&put, b"other"), "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(bad["ErrorCode"], "SignatureDoesNotMatch");

        // Presigned by aws-sigv4: the signature is in the query.
        let presigned = aws_sign(&alice, "GET", "https://photos.example.com/albums/summer", &[("host", "photos.example.com")], b"", "photos", "us-east-1", SignatureLocation::QueryParams);
        assert!(presigned.url.contains("X-Amz-Signature="), "{}", presigned.url);
        let (_, p) = authorize(&d, &asker, &json!({"Request": parts(&presigned, b""), "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(p["Decision"], "Allow", "{p}");
        let mut moved = parts(&presigned, b"");
        moved["Path"] = json!("/albums/winter");
        let (_, m) = authorize(&d, &asker, &json!({"Request": moved, "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(m["ErrorCode"], "SignatureDoesNotMatch");

        // Another region's scope.
        let west = aws_sign(&alice, "GET", url, &headers, b"", "photos", "eu-west-1", SignatureLocation::Headers);
        let (_, w) = authorize(&d, &asker, &json!({"Request": parts(&west, b""), "Action": "photos:GetAlbum", "Resource": ALBUM}));
        assert_eq!(w["Decision"], "Unauthenticated");
    });
}

#[test]
fn rust_sdk_session_is_decided_and_a_policy_change_applies_on_the_next_call() {
    let d = Daemon::start();
    runtime().block_on(async {
        let bob = user(&d, "az-bob", MAY_ASSUME).await;
        let (root_id, root_secret) = root(&d);
        let iam = iam_client(&d, &root_id, root_secret.expose_secret());
        let role = iam
            .create_role()
            .role_name("az-reader")
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
        let role_arn = role.role().unwrap().arn().to_owned();
        iam.put_role_policy()
            .role_name("az-reader")
            .policy_name("read")
            .policy_document(READ)
            .send()
            .await
            .unwrap();
        let out = sts(&d, bob.clone())
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("rust")
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        let session = creds(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token()),
        );
        let asker = root_creds(&d);
        let signed = aws_sign(
            &session,
            "GET",
            "https://photos.example.com/albums/summer",
            &[("host", "photos.example.com")],
            b"",
            "photos",
            "us-east-1",
            SignatureLocation::Headers,
        );
        assert!(
            signed
                .headers
                .iter()
                .any(|(k, _)| k == "x-amz-security-token")
        );
        let body =
            json!({"Request": parts(&signed, b""), "Action": "photos:GetAlbum", "Resource": ALBUM});
        let (_, a) = authorize(&d, &asker, &body);
        assert_eq!(a["Decision"], "Allow", "{a}");
        assert_eq!(
            a["Principal"]["Arn"],
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/az-reader/rust")
        );
        assert_eq!(a["Principal"]["Type"], "AssumedRole");
        iam.put_role_policy()
            .role_name("az-reader")
            .policy_name("stop")
            .policy_document(DENY_ALL)
            .send()
            .await
            .unwrap();
        let (_, after) = authorize(&d, &asker, &body);
        assert_eq!(after["Decision"], "ExplicitDeny", "{after}");
    });
}
