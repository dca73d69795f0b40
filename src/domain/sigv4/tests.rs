//! End-to-end tests of the SigV4 component: sign with the client side,
//! verify with the server side, and the reference §4.3 golden example.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::domain::secret::{SecretAccessKey, SessionToken, SigningKey};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const T0: &str = "20150830T123600Z";
const BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

fn secret() -> SecretAccessKey {
    SECRET.parse().unwrap()
}

fn at(s: &str) -> AmzDate {
    AmzDate::parse_basic(s).unwrap()
}

fn now(s: &str) -> Duration {
    Duration::from_secs(u64::try_from(at(s).unix_secs()).unwrap())
}

fn sts_policy() -> VerifyPolicy {
    VerifyPolicy::new("sts", ["us-east-1"])
}

/// A signed request, owning what its view borrows.
struct Signed {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Signed {
    fn new(
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        location: SignatureLocation,
        token: Option<&SessionToken>,
    ) -> Self {
        let view = RequestView {
            method: "POST",
            path,
            query,
            headers,
            payload: Payload::Bytes(body),
        };
        let secret = secret();
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret: &secret,
            security_token: token,
            region: "us-east-1",
            service: "sts",
            timestamp: at(T0),
            location,
            normalize_path: true,
        };
        let out = sign_request(&view, &params).unwrap();
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        all.extend(out.headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
        Self {
            method: "POST",
            path: path.to_owned(),
            query: out.query,
            headers: all,
            body: body.into(),
        }
    }

    fn sts_post(token: Option<&SessionToken>) -> Self {
        let headers = [
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("Host", "sts.us-east-1.amazonaws.com"),
        ];
        Self::new("/", "", &headers, BODY, SignatureLocation::Headers, token)
    }

    fn verify_at(&self, time: &str, policy: &VerifyPolicy) -> Result<Verified, Sigv4Error> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let view = RequestView {
            method: self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            payload: Payload::Bytes(&self.body),
        };
        let auth = parse(&view)?;
        verify_with_secret(&auth, &secret(), now(time), policy)
    }
}

#[test]
fn reference_4_3_worked_example() {
    let headers = [
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("Host", "sts.us-east-1.amazonaws.com"),
    ];
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(BODY),
    };
    let secret = secret();
    let params = SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret: &secret,
        security_token: None,
        region: "us-east-1",
        service: "sts",
        timestamp: at(T0),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let out = sign_request(&view, &params).unwrap();
    assert_eq!(
        out.canonical_request,
        "POST\n/\n\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:sts.us-east-1.amazonaws.com\n\
         x-amz-date:20150830T123600Z\n\n\
         content-type;host;x-amz-date\n\
         ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843"
    );
    assert!(
        out.string_to_sign
            .ends_with("\n74f85d64795bc5f30af8b92378344f5c25c0d305498fca44ea38f6a5a1d5860f")
    );
    let key = SigningKey::derive(&secret, "20150830", "us-east-1", "sts");
    let hex: String = key
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hex,
        "a9d028e9e96178f3ed6acfa66eff308447119de7ba1dd1dc7b666bbcb5686dfd"
    );
    assert_eq!(
        out.signature.as_str(),
        "52a8540fea00e731072179f763577cbe2a45eac2c5d32fb4d785f3eefac88165"
    );
    assert_eq!(sign(&key, &out.string_to_sign), out.signature);
}

#[test]
fn header_signed_request_verifies_and_reports_its_token() {
    let token = SessionToken::new("FQoGZXIvYXdzEXAMPLE");
    let req = Signed::sts_post(Some(&token));
    let v = req.verify_at(T0, &sts_policy()).unwrap();
    assert_eq!(v.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(v.scope().region, "us-east-1");
    assert_eq!(v.scope().service, "sts");
    assert_eq!(v.scope().date, "20150830");
    assert_eq!(v.security_token(), Some(&token));
    assert!(v.security_token_signed());
    assert_eq!(v.kind(), AuthKind::Header);
    assert_eq!(
        v.signed_headers().collect::<Vec<_>>(),
        ["content-type", "host", "x-amz-date", "x-amz-security-token"]
    );
}

#[test]
fn clock_skew_is_enforced_both_ways_with_aws_messages() {
    let req = Signed::sts_post(None);
    let policy = sts_policy();
    assert!(req.verify_at("20150830T125100Z", &policy).is_ok());
    assert!(req.verify_at("20150830T122100Z", &policy).is_ok());
    let late = req.verify_at("20150830T130100Z", &policy).unwrap_err();
    assert_eq!(late.aws_code(), "SignatureDoesNotMatch");
    assert_eq!(
        late.aws_message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z \
         (20150830T130100Z - 15 min.)"
    );
    let early = req.verify_at("20150830T121000Z", &policy).unwrap_err();
    assert_eq!(
        early.aws_message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T122500Z \
         (20150830T121000Z + 15 min.)"
    );
    let strict = VerifyPolicy {
        max_skew: Duration::from_secs(300),
        ..sts_policy()
    };
    let err = req.verify_at("20150830T124200Z", &strict).unwrap_err();
    assert!(
        err.to_string().ends_with("(20150830T124200Z - 5 min.)"),
        "{err}"
    );
}

#[test]
fn presigned_lifetime_is_capped() {
    let headers = [("Host", "sts.amazonaws.com")];
    let q = "Action=GetCallerIdentity&Version=2011-06-15";
    let long = SignatureLocation::Query { expires_in: 3600 };
    let req = Signed::new("/", q, &headers, b"", long, None);
    let policy = sts_policy();
    assert!(req.verify_at(T0, &policy).is_ok());
    assert!(req.verify_at("20150830T125100Z", &policy).is_ok());
    let err = req.verify_at("20150830T125101Z", &policy).unwrap_err();
    assert_eq!(err.aws_code(), "RequestExpired");
    let generous = VerifyPolicy {
        max_presigned_lifetime: Duration::from_secs(3600),
        ..sts_policy()
    };
    assert!(req.verify_at("20150830T133600Z", &generous).is_ok());
    assert!(req.verify_at("20150830T133601Z", &generous).is_err());

    let short = Signed::new(
        "/",
        q,
        &headers,
        b"",
        SignatureLocation::Query { expires_in: 60 },
        None,
    );
    assert!(short.verify_at("20150830T123700Z", &policy).is_ok());
    assert_eq!(
        short
            .verify_at("20150830T123701Z", &policy)
            .unwrap_err()
            .aws_code(),
        "RequestExpired"
    );
    let early = short.verify_at("20150830T122059Z", &policy).unwrap_err();
    assert!(matches!(early, Sigv4Error::SignatureNotYetCurrent { .. }));
}

#[test]
fn presigned_token_is_reported() {
    let token = SessionToken::new("tok/en+=");
    let headers = [("Host", "sts.amazonaws.com")];
    let req = Signed::new(
        "/",
        "",
        &headers,
        b"",
        SignatureLocation::Query { expires_in: 900 },
        Some(&token),
    );
    let v = req.verify_at(T0, &sts_policy()).unwrap();
    assert_eq!(
        v.security_token().map(SessionToken::expose_secret),
        Some("tok/en+=")
    );
    assert!(v.security_token_signed());
    assert_eq!(v.kind(), AuthKind::Presigned { expires_in: 900 });
}

#[test]
fn scope_is_checked_against_policy() {
    let req = Signed::sts_post(None);
    let iam = VerifyPolicy::new("iam", ["us-east-1"]);
    let err = req.verify_at(T0, &iam).unwrap_err();
    assert_eq!(
        err.aws_message(),
        "Credential should be scoped to correct service: 'iam'."
    );
    assert_eq!(err.aws_code(), "SignatureDoesNotMatch");
    let eu = VerifyPolicy::new("sts", ["eu-west-1", "eu-central-1"]);
    let err = req.verify_at(T0, &eu).unwrap_err();
    assert_eq!(err, Sigv4Error::WrongRegion("us-east-1".into()));

    let mut wrong_date = Signed::sts_post(None);
    for (n, v) in &mut wrong_date.headers {
        if n == "authorization" {
            *v = v.replace("/20150830/", "/20150831/");
        }
    }
    let err = wrong_date.verify_at(T0, &sts_policy()).unwrap_err();
    assert_eq!(
        err.aws_message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20150831' != '20150830', from '20150830T123600Z'."
    );
    let mut wrong_term = Signed::sts_post(None);
    for (n, v) in &mut wrong_term.headers {
        if n == "authorization" {
            *v = v.replace("/aws4_request", "/aws4_reqest");
        }
    }
    let err = wrong_term.verify_at(T0, &sts_policy()).unwrap_err();
    assert_eq!(err, Sigv4Error::WrongTerminator("aws4_reqest".into()));
}

#[test]
fn tampering_is_detected() {
    let policy = sts_policy();
    let mut body = Signed::sts_post(None);
    body.body.push(b'&');
    assert_eq!(
        body.verify_at(T0, &policy).unwrap_err(),
        Sigv4Error::SignatureMismatch
    );
    let mut method = Signed::sts_post(None);
    method.method = "PUT";
    assert_eq!(
        method.verify_at(T0, &policy).unwrap_err(),
        Sigv4Error::SignatureMismatch
    );
    let mut header = Signed::sts_post(None);
    header.headers[0].1.push('x');
    assert_eq!(
        header.verify_at(T0, &policy).unwrap_err(),
        Sigv4Error::SignatureMismatch
    );
    let mut dropped = Signed::sts_post(None);
    dropped.headers.remove(0);
    assert_eq!(
        dropped.verify_at(T0, &policy).unwrap_err(),
        Sigv4Error::SignedHeaderAbsent("content-type".into())
    );
    // An unsigned extra header does not matter.
    let mut extra = Signed::sts_post(None);
    extra
        .headers
        .push(("User-Agent".into(), "aws-cli/2".into()));
    assert!(extra.verify_at(T0, &policy).is_ok());
}

#[test]
fn verify_with_a_cached_key_equals_verify_with_secret() {
    let req = Signed::sts_post(None);
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let view = RequestView {
        method: req.method,
        path: &req.path,
        query: &req.query,
        headers: &headers,
        payload: Payload::Sha256(sha2_digest(&req.body)),
    };
    let auth = parse(&view).unwrap();
    auth.precheck(now(T0), &sts_policy()).unwrap();
    let scope = auth.scope();
    let key = SigningKey::derive(&secret(), scope.date, scope.region, scope.service);
    assert!(verify(&auth, &key, now(T0), &sts_policy()).is_ok());
    let other = SigningKey::derive(&secret(), scope.date, scope.region, "iam");
    assert_eq!(
        verify(&auth, &other, now(T0), &sts_policy()).unwrap_err(),
        Sigv4Error::SignatureMismatch
    );
}

fn sha2_digest(body: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(body).into()
}

#[test]
fn host_must_be_signed() {
    let headers = [
        ("X-Amz-Date", T0),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, \
         SignedHeaders=x-amz-date, Signature=00",
        ),
    ];
    let view = RequestView {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(b""),
    };
    let err = parse(&view).unwrap_err();
    assert_eq!(err, Sigv4Error::HostNotSigned);
    assert_eq!(err.aws_code(), "IncompleteSignature");
}

#[test]
fn signing_refuses_what_cannot_verify() {
    let secret = secret();
    let params = |location| SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret: &secret,
        security_token: None,
        region: "us-east-1",
        service: "sts",
        timestamp: at(T0),
        location,
        normalize_path: true,
    };
    let no_host = [("Content-Type", "text/plain")];
    let view = RequestView {
        method: "GET",
        path: "/",
        query: "",
        headers: &no_host,
        payload: Payload::Bytes(b""),
    };
    assert_eq!(
        sign_request(&view, &params(SignatureLocation::Headers)).unwrap_err(),
        Sigv4Error::HostNotSigned
    );
    let host = [("Host", "h"), ("Bad Name", "x")];
    let view = RequestView {
        headers: &host,
        ..view
    };
    assert!(matches!(
        sign_request(&view, &params(SignatureLocation::Headers)),
        Err(Sigv4Error::MalformedSignedHeaders(_))
    ));
    let host = [("Host", "h")];
    let view = RequestView {
        headers: &host,
        ..view
    };
    assert_eq!(
        sign_request(&view, &params(SignatureLocation::Query { expires_in: 0 })).unwrap_err(),
        Sigv4Error::InvalidExpires("0".into())
    );
    let token = SessionToken::new("secret-token");
    let with_token = SigningParams {
        security_token: Some(&token),
        ..params(SignatureLocation::Headers)
    };
    let out = sign_request(&view, &with_token).unwrap();
    assert!(!format!("{out:?}").contains("secret-token"));
    assert!(!format!("{with_token:?}").contains("secret-token"));
}

proptest! {
    #[test]
    fn sign_then_verify_round_trips(
        path in "(/[a-zA-Z0-9 %._~-]{0,8}){1,4}",
        query in "([a-zA-Z0-9%._~ -]{1,6}(=[a-zA-Z0-9%+._~ -]{0,6})?&?){0,4}",
        value in "[ -~]{0,20}",
        body in proptest::collection::vec(any::<u8>(), 0..64),
        presigned in any::<bool>(),
    ) {
        let headers = [("Host", "sts.amazonaws.com"), ("X-Custom", value.as_str())];
        let location = if presigned {
            SignatureLocation::Query { expires_in: 300 }
        } else {
            SignatureLocation::Headers
        };
        // Skip inputs that already carry authentication parameters.
        prop_assume!(!query.contains("X-Amz"));
        let req = Signed::new(&path, &query, &headers, &body, location, None);
        prop_assert!(req.verify_at(T0, &sts_policy()).is_ok());
        let mut tampered = req;
        tampered.body.push(0);
        prop_assert!(tampered.verify_at(T0, &sts_policy()).is_err());
    }

    #[test]
    fn arbitrary_requests_never_panic(
        method in "\\PC{0,8}",
        path in "\\PC{0,30}",
        query in "\\PC{0,60}",
        names in proptest::collection::vec(
            "(Authorization|X-Amz-Date|Date|Host|X-Amz-Security-Token|\\PC{0,10})", 0..6),
        values in proptest::collection::vec("\\PC{0,80}", 6),
        authz in "AWS4-HMAC-SHA256 (Credential=\\PC{0,40})?,? ?(SignedHeaders=\\PC{0,20})?,? ?(Signature=\\PC{0,64})?",
    ) {
        let mut headers: Vec<(&str, &str)> =
            names.iter().zip(&values).map(|(n, v)| (n.as_str(), v.as_str())).collect();
        headers.push(("Authorization", authz.as_str()));
        for hs in [&headers[..], &headers[..headers.len() - 1]] {
            let view = RequestView {
                method: &method,
                path: &path,
                query: &query,
                headers: hs,
                payload: Payload::Bytes(b""),
            };
            if let Ok(auth) = parse(&view) {
                let _ = auth.canonical_request(true);
                let _ = verify_with_secret(&auth, &secret(), now(T0), &sts_policy());
            }
        }
    }
}
