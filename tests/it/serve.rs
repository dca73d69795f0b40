//! Serving: health, bad input, errors, signed and presigned calls.

use std::time::Duration;

use stsd::domain::clock::{Clock as _, SystemClock};
use stsd::domain::secret::SecretAccessKey;
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};

use crate::client::root;
use crate::daemon::{Daemon, Options, Response};

fn assert_serving(d: &Daemon) {
    assert_eq!(d.get("/healthz").status, 200, "{}", d.stderr());
}

#[test]
fn health_readiness_and_request_ids() {
    let d = Daemon::start();
    let r = d.get("/healthz");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    let r = d.get("/readyz");
    assert_eq!((r.status, r.body.as_str()), (200, "ready\n"));
    let id = r.header("x-amzn-requestid").unwrap();
    assert_eq!(id.len(), 36);
    // The request id is in the log line of the request.
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        d.stderr().contains(&format!("\"request_id\":\"{id}\"")),
        "{}",
        d.stderr()
    );
    // A Query API line names the action and the error code too.
    let r = d.post(b"Action=GetCallerIdentity&Version=2011-06-15", &[]);
    let id = r.header("x-amzn-requestid").unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(100));
    let log = d.stderr();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("\"request_id\":\"{id}\"")) && l.contains("\"status\""))
        .unwrap_or_else(|| panic!("no request line for {id}: {log}"));
    for field in [
        "\"action\":\"GetCallerIdentity\"",
        "\"code\":\"MissingAuthenticationToken\"",
        "\"status\":403",
        "\"method\":\"POST\"",
        "\"path\":\"/\"",
    ] {
        assert!(line.contains(field), "{field} not in {line}");
    }
}

#[test]
fn bad_input_gets_aws_errors_and_the_daemon_keeps_serving() {
    let d = Daemon::start();
    let cases: &[(&[u8], u16, &str)] = &[
        (
            b"Action=NoSuchThing&Version=2011-06-15",
            400,
            "InvalidAction",
        ),
        (b"Action=ListUsers&Version=2011-06-15", 400, "InvalidAction"),
        (b"Version=2011-06-15", 400, "MissingAction"),
        (b"", 400, "MissingAction"),
        (
            b"Action=%zz&Version=2011-06-15",
            400,
            "InvalidParameterValue",
        ),
        (
            b"Action=GetCallerIdentity&Version=2011-06-15&RoleName=%FF%FE",
            400,
            "InvalidParameterValue",
        ),
        (
            b"Action=GetCallerIdentity&Version=2011-06-15&RoleName=\xff\xfe",
            400,
            "InvalidParameterValue",
        ),
        (b"Action=A&Action=B", 400, "ValidationError"),
        (b"=&&&=%", 400, "InvalidParameterValue"),
        (
            b"Action=GetCallerIdentity&Version=2011-06-15",
            403,
            "MissingAuthenticationToken",
        ),
    ];
    for (body, status, code) in cases {
        let r = d.post(body, &[]);
        assert_eq!(
            (r.status, r.code()),
            (*status, *code),
            "{:?}: {}",
            String::from_utf8_lossy(body),
            r.body
        );
        assert_eq!(r.header("content-type"), Some("text/xml"));
        assert_eq!(r.xml("RequestId"), r.header("x-amzn-requestid"));
        assert_serving(&d);
    }
    let r = d.post(b"Action=Nope&Version=2011-06-15", &[]);
    assert_eq!(
        r.xml("Message"),
        Some("Could not find operation Nope for version 2011-06-15")
    );
    assert_eq!(r.xml("Type"), Some("Sender"));
    assert!(
        r.body
            .starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{}",
        r.body
    );

    let r = d.post(b"Action=GetUser&Version=2010-05-08", &[]);
    assert!(
        r.body
            .starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
        "{}",
        r.body
    );

    // Not HTTP at all.
    let garbage = d.try_raw(b"\x16\x03\x01\x00\xff garbage\r\n\r\n");
    assert!(garbage.is_err() || garbage.is_ok_and(|r| r.status == 400));
    assert_serving(&d);
}

#[test]
fn oversized_bodies_get_413_and_the_daemon_keeps_serving() {
    let d = Daemon::start_with(Options {
        server_toml: "body_limit_bytes = 4096\n".into(),
        ..Options::default()
    });
    let big = format!(
        "Action=GetCallerIdentity&Version=2011-06-15&Pad={}",
        "a".repeat(5000)
    );
    let r = d.post(big.as_bytes(), &[]);
    assert_eq!(
        (r.status, r.code()),
        (413, "RequestEntityTooLarge"),
        "{}",
        r.body
    );
    assert!(r.xml("Message").unwrap().contains("4096 bytes"));
    // A lying Content-Length is refused before the body is read.
    let r = d.request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\nAction=");
    assert_eq!(r.status, 413);
    assert_serving(&d);

    // Oversized parameter values are refused naming the member.
    let long = format!(
        "Action=GetCallerIdentity&Version=2011-06-15&RoleName={}",
        "a".repeat(1000)
    );
    assert_eq!(d.post(long.as_bytes(), &[]).status, 403);
}

#[test]
fn json_errors_when_the_client_accepts_json() {
    let d = Daemon::start();
    let r = d.post(
        b"Action=Nope&Version=2011-06-15",
        &[("Accept", "application/json")],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["Error"]["Code"], "InvalidAction");
    assert_eq!(v["Error"]["Type"], "Sender");
    assert_eq!(v["RequestId"].as_str(), r.header("x-amzn-requestid"));
}

/// Signs a request to `d` for `service`: (headers to add, query).
pub(crate) fn sign(
    d: &Daemon,
    id: &str,
    secret: &SecretAccessKey,
    service: &str,
    body: &[u8],
    location: SignatureLocation,
    query: &str,
) -> (Vec<(&'static str, String)>, String) {
    let host = d.addr.to_string();
    let headers = [
        ("host", host.as_str()),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let method = if body.is_empty() { "GET" } else { "POST" };
    let view = RequestView {
        method,
        path: "/",
        query,
        headers: &headers,
        payload: Payload::Bytes(body),
    };
    let now = i64::try_from(SystemClock.now().as_secs()).unwrap();
    let params = SigningParams {
        access_key_id: id,
        secret,
        security_token: None,
        region: "us-east-1",
        service,
        timestamp: AmzDate::from_unix_secs(now).unwrap(),
        location,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    (signed.headers, signed.query)
}

fn signed_post(
    d: &Daemon,
    service: &str,
    body: &[u8],
    secret: Option<&SecretAccessKey>,
) -> Response {
    let (id, root) = root(d);
    let (headers, _) = sign(
        d,
        &id,
        secret.unwrap_or(&root),
        service,
        body,
        SignatureLocation::Headers,
        "",
    );
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    d.post(body, &pairs)
}

#[test]
fn signed_get_caller_identity_for_root() {
    let d = Daemon::start();
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let r = signed_post(&d, "sts", body, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"), "{}", r.body);
    assert_eq!(r.xml("Arn"), Some("arn:aws:iam::123456789012:root"));
    assert_eq!(r.xml("Account"), Some("123456789012"));
    assert_eq!(r.xml("UserId"), Some("123456789012"));
    assert_eq!(r.xml("RequestId"), r.header("x-amzn-requestid"));

    // Signed for the wrong service, or with the wrong secret.
    assert_eq!(
        signed_post(&d, "iam", body, None).code(),
        "SignatureDoesNotMatch"
    );
    let wrong: SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".parse().unwrap();
    let r = signed_post(&d, "sts", body, Some(&wrong));
    assert_eq!((r.status, r.code()), (403, "SignatureDoesNotMatch"));
    // A changed body after signing.
    let (id, root) = root(&d);
    let (headers, _) = sign(&d, &id, &root, "sts", body, SignatureLocation::Headers, "");
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let r = d.post(b"Action=GetCallerIdentity&Version=2011-06-16", &pairs);
    assert_eq!(r.code(), "InvalidAction");
    let r = d.post(b"Action=GetCallerIdentity&Version=2011-06-15&X=1", &pairs);
    assert_eq!(r.code(), "SignatureDoesNotMatch");
    // Logs carry neither the signature nor the secret.
    std::thread::sleep(Duration::from_millis(100));
    let logs = d.stderr();
    let auth = &headers
        .iter()
        .find(|(n, _)| *n == "authorization")
        .unwrap()
        .1;
    let signature = auth.rsplit('=').next().unwrap();
    assert!(
        !logs.contains(signature) && !logs.contains(root.expose_secret()),
        "{logs}"
    );
}

#[test]
fn presigned_get_caller_identity_in_json() {
    // The aws-iam-authenticator / Vault flow: a presigned GET, JSON answer.
    let d = Daemon::start();
    let (id, root) = root(&d);
    let (_, query) = sign(
        &d,
        &id,
        &root,
        "sts",
        b"",
        SignatureLocation::Query { expires_in: 60 },
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    let r = d.request(format!("GET /?{query} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nAccept: application/json\r\nConnection: close\r\n\r\n", d.addr).as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let result = &v["GetCallerIdentityResponse"]["GetCallerIdentityResult"];
    assert_eq!(result["Arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(
        v["GetCallerIdentityResponse"]["ResponseMetadata"]["RequestId"].as_str(),
        r.header("x-amzn-requestid")
    );
    // The query (with its signature) is never logged.
    std::thread::sleep(Duration::from_millis(100));
    assert!(!d.stderr().contains("X-Amz-Signature"), "{}", d.stderr());
}

#[test]
fn aws_cli_get_caller_identity() {
    let Ok(version) = std::process::Command::new("aws").arg("--version").output() else {
        eprintln!("SKIPPED: the AWS CLI is not installed");
        return;
    };
    assert!(version.status.success());
    let d = Daemon::start();
    let out = std::process::Command::new("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--output",
            "json",
            "--endpoint-url",
        ])
        .arg(format!("http://{}", d.addr))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            d.data_dir().join("root-credentials"),
        )
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(v["Account"], "123456789012");
}
