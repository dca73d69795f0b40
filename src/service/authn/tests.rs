use std::time::Duration;

mod sessions;

use super::*;
use crate::domain::clock::FixedClock;
use crate::domain::sigv4::{AmzDate, Payload, SignatureLocation, SigningParams, sign_request};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const T0: i64 = 1_740_824_100; // 2025-03-01T10:15:00Z
const BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

fn account() -> AccountId {
    "123456789012".parse().unwrap()
}

fn authenticator(status: KeyStatus, clock_at: i64) -> Authenticator {
    let mut keys = StaticCredentials::new();
    keys.insert(
        KEY_ID.parse().unwrap(),
        StoredKey {
            secret: SECRET.parse().unwrap(),
            status,
            account: account(),
            owner: Identity::Root,
            in_store: false,
        },
    );
    let lookup: Arc<dyn CredentialLookup> = Arc::new(
        Chain::new()
            .then(Arc::new(StaticCredentials::new()))
            .then(Arc::new(keys)),
    );
    Authenticator::new(
        lookup,
        Arc::new(FixedClock::at_secs(clock_at)),
        AuthnSettings {
            regions: vec!["us-east-1".into()],
            max_skew: Duration::from_secs(900),
            max_presigned_lifetime: Duration::from_secs(900),
        },
    )
}

/// Headers and query of a request signed by `key_id`/`secret` for `service`.
fn sign(
    key_id: &str,
    secret: &str,
    service: &str,
    location: SignatureLocation,
) -> (Vec<(String, String)>, String) {
    let headers = [
        ("host", "127.0.0.1:8433"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let query = if matches!(location, SignatureLocation::Query { .. }) {
        "Action=GetCallerIdentity&Version=2011-06-15"
    } else {
        ""
    };
    let view = RequestView {
        method: "POST",
        path: "/",
        query,
        headers: &headers,
        payload: Payload::Bytes(BODY),
    };
    let secret: SecretAccessKey = secret.parse().unwrap();
    let params = SigningParams {
        access_key_id: key_id,
        secret: &secret,
        security_token: None,
        region: "us-east-1",
        service,
        timestamp: AmzDate::from_unix_secs(T0).unwrap(),
        location,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    all.extend(signed.headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
    (all, signed.query)
}

async fn run(
    a: &Authenticator,
    headers: &[(String, String)],
    query: &str,
    service: &str,
) -> Result<Caller, ServiceError> {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let view = RequestView {
        method: "POST",
        path: "/",
        query,
        headers: &pairs,
        payload: Payload::Bytes(BODY),
    };
    a.authenticate(&view, service).await
}

#[tokio::test]
async fn a_correctly_signed_root_request_authenticates() {
    let (h, q) = sign(KEY_ID, SECRET, "sts", SignatureLocation::Headers);
    let caller = run(&authenticator(KeyStatus::Active, T0 + 60), &h, &q, "sts")
        .await
        .unwrap();
    assert_eq!(caller.identity, Identity::Root);
    assert_eq!(caller.account, account());
    assert_eq!(caller.access_key_id.as_ref().unwrap().as_str(), KEY_ID);
    let partition = Partition::default();
    assert_eq!(
        caller.arn(&partition).to_string(),
        "arn:aws:iam::123456789012:root"
    );
    assert_eq!(caller.user_id(), "123456789012");
}

#[tokio::test]
async fn presigned_requests_authenticate() {
    let (h, q) = sign(
        KEY_ID,
        SECRET,
        "sts",
        SignatureLocation::Query { expires_in: 60 },
    );
    assert!(
        run(&authenticator(KeyStatus::Active, T0 + 30), &h, &q, "sts")
            .await
            .is_ok()
    );
    let e = run(&authenticator(KeyStatus::Active, T0 + 120), &h, &q, "sts")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RequestExpired);
}

#[tokio::test]
async fn refusals_carry_aws_codes() {
    let a = authenticator(KeyStatus::Active, T0);
    let (h, q) = sign(KEY_ID, SECRET, "sts", SignatureLocation::Headers);

    let unsigned: Vec<(String, String)> = vec![("host".into(), "x".into())];
    assert_eq!(
        run(&a, &unsigned, "", "sts").await.unwrap_err().code(),
        ErrorCode::MissingAuthenticationToken
    );

    let e = run(&a, &h, &q, "iam").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureDoesNotMatch);

    let (bad, q2) = sign(
        KEY_ID,
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ",
        "sts",
        SignatureLocation::Headers,
    );
    let e = run(&a, &bad, &q2, "sts").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureDoesNotMatch);
    assert!(
        e.message()
            .starts_with("The request signature we calculated does not match"),
        "{}",
        e.message()
    );

    let (other, q3) = sign(
        "AKIAJJJJJJJJJJJJJJJJ",
        SECRET,
        "sts",
        SignatureLocation::Headers,
    );
    let e = run(&a, &other, &q3, "sts").await.unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (
            ErrorCode::InvalidClientTokenId,
            "The security token included in the request is invalid."
        )
    );

    let late = authenticator(KeyStatus::Active, T0 + 16 * 60);
    let e = run(&late, &h, &q, "sts").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureDoesNotMatch);
    assert!(
        e.message().starts_with("Signature expired"),
        "{}",
        e.message()
    );

    let inactive = authenticator(KeyStatus::Inactive, T0);
    assert_eq!(
        run(&inactive, &h, &q, "sts").await.unwrap_err().code(),
        ErrorCode::InvalidClientTokenId
    );

    let mut mangled = h.clone();
    for (n, v) in &mut mangled {
        if n == "authorization" {
            *v = v.replace("Credential=", "Credentia=");
        }
    }
    assert_eq!(
        run(&a, &mangled, &q, "sts").await.unwrap_err().code(),
        ErrorCode::IncompleteSignature
    );
}

#[tokio::test]
async fn a_long_term_key_with_a_session_token_is_refused() {
    let a = authenticator(KeyStatus::Active, T0);
    let (mut h, q) = sign(KEY_ID, SECRET, "sts", SignatureLocation::Headers);
    h.push(("x-amz-security-token".into(), "token".into()));
    assert_eq!(
        run(&a, &h, &q, "sts").await.unwrap_err().code(),
        ErrorCode::InvalidClientTokenId
    );
}
