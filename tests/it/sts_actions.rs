//! The STS actions over the wire: real `stsd serve`, requests hand-signed
//! with `domain::sigv4::sign_request` — a user assumes a role and uses the
//! session; root is refused; a denial's encoded message decodes.

use stsd::domain::clock::{Clock as _, SystemClock};
use stsd::domain::secret::{SecretAccessKey, SessionToken};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};

use crate::daemon::{Daemon, Response};

/// Credentials: key id, secret and, for a session, its token.
struct Creds {
    id: String,
    secret: SecretAccessKey,
    token: Option<SessionToken>,
}

fn root(d: &Daemon) -> Creds {
    let text = std::fs::read_to_string(d.data_dir().join("root-credentials")).unwrap();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_owned()
    };
    Creds {
        id: get("aws_access_key_id"),
        secret: get("aws_secret_access_key").parse().unwrap(),
        token: None,
    }
}

/// POSTs `params` to `service` (`iam` or `sts`), signed with `creds`.
fn call(d: &Daemon, creds: &Creds, service: &str, params: &str) -> Response {
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
        access_key_id: &creds.id,
        secret: &creds.secret,
        security_token: creds.token.as_ref(),
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

/// `text` form-encoded.
fn enc(text: &str) -> String {
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

/// XML character references undone.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn ok(r: Response) -> Response {
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

/// The session credentials of a minting response.
fn session(r: &Response) -> Creds {
    Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: Some(SessionToken::new(r.xml("SessionToken").unwrap())),
    }
}

#[test]
fn a_user_assumes_a_role_and_signs_with_the_session() {
    let d = Daemon::start();
    let root = root(&d);
    ok(call(&d, &root, "iam", "Action=CreateUser&UserName=alice"));
    let r = ok(call(
        &d,
        &root,
        "iam",
        "Action=CreateAccessKey&UserName=alice",
    ));
    let alice = Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: None,
    };
    let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#;
    let r = ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=deploy&Path=%2Fci%2F&AssumeRolePolicyDocument={}",
            enc(trust)
        ),
    ));
    let role_id = r.xml("RoleId").unwrap().to_owned();

    let r = ok(call(
        &d,
        &alice,
        "sts",
        "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci%2Fdeploy&RoleSessionName=it-1&DurationSeconds=900&Tags.member.1.Key=Project&Tags.member.1.Value=Apollo&TransitiveTagKeys.member.1=Project",
    ));
    assert!(
        r.body.starts_with(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA"
        ),
        "{}",
        r.body
    );
    assert_eq!(r.header("content-type"), Some("text/xml"));
    let creds = session(&r);
    assert_eq!(creds.id.len(), 20);
    assert_eq!(creds.secret.expose_secret().len(), 40);
    assert!(!creds.token.as_ref().unwrap().expose_secret().is_empty());
    let expiration = r.xml("Expiration").unwrap();
    assert!(
        expiration.len() == 20 && expiration.ends_with('Z'),
        "{expiration}"
    );
    assert_eq!(
        r.xml("AssumedRoleId"),
        Some(format!("{role_id}:it-1").as_str())
    );
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:sts::123456789012:assumed-role/deploy/it-1")
    );
    let packed: u32 = r.xml("PackedPolicySize").unwrap().parse().unwrap();
    assert!((1..=100).contains(&packed));
    assert!(!r.body.contains("<SourceIdentity>"), "{}", r.body);

    // The session works where the broker checks signatures.
    let r = ok(call(&d, &creds, "sts", "Action=GetCallerIdentity"));
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:sts::123456789012:assumed-role/deploy/it-1")
    );
    assert_eq!(r.xml("UserId"), Some(format!("{role_id}:it-1").as_str()));
    assert_eq!(r.xml("Account"), Some("123456789012"));

    // GetAccessKeyInfo decodes the session key's account.
    let r = ok(call(
        &d,
        &root,
        "sts",
        &format!("Action=GetAccessKeyInfo&AccessKeyId={}", creds.id),
    ));
    assert_eq!(r.xml("Account"), Some("123456789012"));

    // GetSessionToken answers Credentials only.
    let r = ok(call(
        &d,
        &alice,
        "sts",
        "Action=GetSessionToken&DurationSeconds=900",
    ));
    assert!(
        r.body
            .contains("<GetSessionTokenResult><Credentials><AccessKeyId>ASIA")
    );
    assert!(!r.body.contains("AssumedRoleUser"));
}

#[test]
fn root_is_refused_and_denials_decode() {
    let d = Daemon::start();
    let root = root(&d);
    ok(call(&d, &root, "iam", "Action=CreateUser&UserName=alice"));
    let r = ok(call(
        &d,
        &root,
        "iam",
        "Action=CreateAccessKey&UserName=alice",
    ));
    let alice = Creds {
        id: r.xml("AccessKeyId").unwrap().to_owned(),
        secret: r.xml("SecretAccessKey").unwrap().parse().unwrap(),
        token: None,
    };
    let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#;
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument={}",
            enc(trust)
        ),
    ));
    let assume = "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fops&RoleSessionName=s1";

    let r = call(&d, &root, "sts", assume);
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);
    assert_eq!(
        r.xml("Message"),
        Some("Roles may not be assumed by root accounts.")
    );

    // The trust policy only delegates; alice's policies allow nothing.
    let r = call(&d, &alice, "sts", assume);
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);
    let message = r.xml("Message").unwrap();
    let prefix = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ops because no identity-based policy allows the sts:AssumeRole action Encoded authorization failure message: ";
    assert!(message.starts_with(prefix), "{message}");
    let blob = &message[prefix.len()..];

    let r = ok(call(
        &d,
        &root,
        "sts",
        &format!(
            "Action=DecodeAuthorizationMessage&EncodedMessage={}",
            enc(blob)
        ),
    ));
    let decoded = unescape(r.xml("DecodedMessage").unwrap());
    let v: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["context"]["action"], "sts:AssumeRole");
    assert_eq!(
        v["context"]["resource"],
        "arn:aws:iam::123456789012:role/ops"
    );

    let r = call(
        &d,
        &root,
        "sts",
        "Action=DecodeAuthorizationMessage&EncodedMessage=bm90LWEtbWVzc2FnZQ",
    );
    assert_eq!(
        (r.status, r.code()),
        (400, "InvalidAuthorizationMessageException"),
        "{}",
        r.body
    );
    let r = call(
        &d,
        &alice,
        "sts",
        "Action=AssumeRole&RoleArn=short&RoleSessionName=s1",
    );
    assert_eq!((r.status, r.code()), (400, "ValidationError"), "{}", r.body);
}
