//! What the wire tests share to talk to a daemon as a client: the root
//! credentials it generated, hand-signed IAM and STS calls (signed with
//! `domain::sigv4::sign_request`, with a session token when there is one),
//! and form encoding.

use std::path::Path;

use stsd::domain::clock::{Clock as _, SystemClock};
use stsd::domain::secret::{SecretAccessKey, SessionToken};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};

use crate::daemon::{Daemon, Response};
use crate::serve::sign;

/// An access key id and its secret.
pub(crate) type Creds = (String, SecretAccessKey);

/// The credentials in the shared-credentials file `file` under `data`.
pub(crate) fn credentials_file(data: &Path, file: &str) -> Creds {
    let text = std::fs::read_to_string(data.join(file)).unwrap();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_owned()
    };
    (
        get("aws_access_key_id"),
        get("aws_secret_access_key").parse().unwrap(),
    )
}

/// The default account's root credentials, as the first start wrote them.
pub(crate) fn root(d: &Daemon) -> Creds {
    credentials_file(&d.data_dir(), "root-credentials")
}

/// A header-signed IAM Query call with `params` (already form-encoded),
/// with `extra` headers.
pub(crate) fn iam_with(
    d: &Daemon,
    creds: &Creds,
    params: &str,
    extra: &[(&str, &str)],
) -> Response {
    let body = format!("{params}&Version=2010-05-08");
    let (headers, _) = sign(
        d,
        &creds.0,
        &creds.1,
        "iam",
        body.as_bytes(),
        SignatureLocation::Headers,
        "",
    );
    let mut pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    pairs.extend_from_slice(extra);
    d.post(body.as_bytes(), &pairs)
}

/// A header-signed IAM Query call with `params` (already form-encoded).
pub(crate) fn iam(d: &Daemon, creds: &Creds, params: &str) -> Response {
    iam_with(d, creds, params, &[])
}

/// `text` percent-encoded for a form value (unreserved characters kept).
pub(crate) fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Credentials that may carry a session token.
pub(crate) struct Credentials {
    pub(crate) id: String,
    pub(crate) secret: SecretAccessKey,
    pub(crate) token: Option<SessionToken>,
}

/// The default account's root credentials, without a token.
pub(crate) fn root_credentials(d: &Daemon) -> Credentials {
    let (id, secret) = root(d);
    Credentials {
        id,
        secret,
        token: None,
    }
}

/// `POST /` of `params` to `service` (`iam` or `sts`), signed in headers
/// by `c` (with its session token, if any) at the current time.
pub(crate) fn call(d: &Daemon, c: &Credentials, service: &str, params: &str) -> Response {
    let version = if service == "iam" {
        "2010-05-08"
    } else {
        "2011-06-15"
    };
    let body = format!("{params}&Version={version}");
    let host = d.addr.to_string();
    let headers = [
        ("host", host.as_str()),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(body.as_bytes()),
    };
    let now = i64::try_from(SystemClock.now().as_secs()).unwrap();
    let signing = SigningParams {
        access_key_id: &c.id,
        secret: &c.secret,
        security_token: c.token.as_ref(),
        region: "us-east-1",
        service,
        timestamp: AmzDate::from_unix_secs(now).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sign_request(&view, &signing).unwrap();
    let pairs: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    d.post(body.as_bytes(), &pairs)
}
