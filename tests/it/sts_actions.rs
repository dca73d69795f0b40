//! The STS actions over the wire: real `stsd serve`, requests hand-signed
//! with `domain::sigv4::sign_request` — a user assumes a role and uses the
//! session; root is refused; a denial's encoded message decodes.

use stsd::domain::secret::SessionToken;

use crate::client::{Credentials as Creds, call, enc, root_credentials as root};
use crate::daemon::{Daemon, Response};

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
