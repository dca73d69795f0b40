//! Session credentials against the real daemon, before the STS actions
//! that mint them exist: the test does what another replica would — it
//! reads the daemon's `master.key`, builds the key ring of the default
//! `[sessions]` configuration exactly as `stsd::app` does, mints and seals
//! a session itself, and signs IAM and STS calls with it (by hand, with
//! the Rust SDK, and with the AWS CLI).

use std::collections::BTreeMap;

use stsd::config::{Config, Overrides};
use stsd::domain::clock::{Clock as _, SystemClock};
use stsd::domain::credential::{
    KeyRing, MfaInfo, SealingKey, SealingKeyId, Session, SessionPrincipal, mint_keys,
};
use stsd::domain::ids::AccountId;
use stsd::domain::seal::{MasterKey, SealKeyId};

use crate::client::{Credentials as Creds, call, enc, root_credentials as root};
use crate::daemon::Daemon;

const ACCOUNT: &str = "123456789012";

/// The CSPRNG, as the daemon uses it.
fn os_rng(buf: &mut [u8]) {
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf).unwrap();
}

pub(crate) fn now() -> u64 {
    SystemClock.now().as_secs()
}

/// The key ring the daemon built: its master key, the default config.
pub(crate) fn daemon_ring(d: &Daemon) -> KeyRing {
    let text = std::fs::read_to_string(d.data_dir().join("master.key")).unwrap();
    let master = MasterKey::from_base64(SealKeyId::new("master-1").unwrap(), &text).unwrap();
    let env: BTreeMap<&str, &str> = BTreeMap::new();
    let config = Config::from_toml("", "test", &env, &Overrides::default()).unwrap();
    stsd::app::session_key_ring(&config.sessions, &master)
}

/// A session of `principal` in the default account, valid for an hour.
pub(crate) fn session(principal: SessionPrincipal) -> Session {
    let account: AccountId = ACCOUNT.parse().unwrap();
    let (access_key_id, secret) = mint_keys(account, &mut os_rng);
    Session {
        access_key_id,
        secret,
        account,
        principal,
        policy: None,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        mfa: None,
        issued_at: now() - 5,
        expires_at: now() + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

pub(crate) fn sealed(ring: &KeyRing, s: &Session) -> Creds {
    Creds {
        id: s.access_key_id.to_string(),
        secret: s.secret.clone(),
        token: Some(ring.seal(s, &mut os_rng).unwrap()),
    }
}

/// Creates role `Deploy` (trusting the account) allowed `iam:GetUser` and
/// `iam:ListUsers`, and user `alice`; returns the role's principal.
pub(crate) fn setup(d: &Daemon) -> SessionPrincipal {
    let r = call(d, &root(d), "iam", "Action=CreateUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}"#;
    let r = call(
        d,
        &root(d),
        "iam",
        &format!(
            "Action=CreateRole&RoleName=Deploy&Path=%2Fops%2F&AssumeRolePolicyDocument={}",
            enc(trust)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let role_id = r.xml("RoleId").unwrap().to_owned();
    let allow = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}}"#;
    let r = call(
        d,
        &root(d),
        "iam",
        &format!(
            "Action=PutRolePolicy&RoleName=Deploy&PolicyName=read&PolicyDocument={}",
            enc(allow)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    SessionPrincipal::AssumedRole {
        role_arn: "arn:aws:iam::123456789012:role/ops/Deploy".parse().unwrap(),
        role_id: role_id.parse().unwrap(),
        session_name: "it-session".into(),
    }
}

#[test]
fn role_sessions_are_honoured_by_sts_and_iam() {
    let d = Daemon::start();
    let keys = daemon_ring(&d);
    let principal = setup(&d);
    let role_id = match &principal {
        SessionPrincipal::AssumedRole { role_id, .. } => role_id.to_string(),
        _ => unreachable!(),
    };
    let s = session(principal);
    let creds = sealed(&keys, &s);

    let r = call(&d, &creds, "sts", "Action=GetCallerIdentity");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:sts::123456789012:assumed-role/Deploy/it-session")
    );
    assert_eq!(
        r.xml("UserId"),
        Some(format!("{role_id}:it-session").as_str())
    );
    assert_eq!(r.xml("Account"), Some(ACCOUNT));

    // The role's policies apply.
    let r = call(&d, &creds, "iam", "Action=ListUsers");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&d, &creds, "iam", "Action=CreateUser&UserName=bob");
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);
    assert!(
        r.body.contains(
            "User: arn:aws:sts::123456789012:assumed-role/Deploy/it-session is not authorized to perform: iam:CreateUser"
        ),
        "{}",
        r.body
    );

    // A session policy narrows them.
    let mut narrowed = s.clone();
    narrowed.policy = Some(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#
            .into(),
    );
    let narrow = sealed(&keys, &narrowed);
    let r = call(&d, &narrow, "iam", "Action=GetUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&d, &narrow, "iam", "Action=ListUsers");
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);
    assert!(r.body.contains("session policy"), "{}", r.body);

    // Policy changes take effect on live sessions: the role loses ListUsers.
    let r = call(
        &d,
        &root(&d),
        "iam",
        "Action=DeleteRolePolicy&RoleName=Deploy&PolicyName=read",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&d, &creds, "iam", "Action=ListUsers");
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);

    // Neither the token nor the secret reaches the log.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let logs = d.stderr();
    let token = creds.token.as_ref().unwrap().expose_secret();
    assert!(!logs.contains(token), "the token was logged");
    assert!(
        !logs.contains(s.secret.expose_secret()),
        "the secret was logged"
    );
}

#[test]
fn bad_sessions_are_refused_with_aws_codes() {
    let d = Daemon::start();
    let keys = daemon_ring(&d);
    let principal = setup(&d);

    // Expired.
    let mut old = session(principal.clone());
    old.issued_at = now() - 7200;
    old.expires_at = now() - 3600;
    let r = call(&d, &sealed(&keys, &old), "sts", "Action=GetCallerIdentity");
    assert_eq!((r.status, r.code()), (403, "ExpiredToken"), "{}", r.body);
    assert_eq!(
        r.xml("Message"),
        Some("The security token included in the request is expired")
    );

    // Sealed under a key the daemon does not hold (retired, or another
    // deployment's).
    let master = MasterKey::from_base64(
        SealKeyId::new("master-1").unwrap(),
        &std::fs::read_to_string(d.data_dir().join("master.key")).unwrap(),
    )
    .unwrap();
    let retired = KeyRing::new(
        SealingKey::derive(&master, SealingKeyId::new("s0").unwrap()),
        vec![],
    );
    let r = call(
        &d,
        &sealed(&retired, &session(principal.clone())),
        "sts",
        "Action=GetCallerIdentity",
    );
    assert_eq!(
        (r.status, r.code()),
        (403, "InvalidClientTokenId"),
        "{}",
        r.body
    );

    // A token of another session.
    let one = sealed(&keys, &session(principal.clone()));
    let mut two = sealed(&keys, &session(principal));
    two.token = one.token;
    let r = call(&d, &two, "sts", "Action=GetCallerIdentity");
    assert_eq!(r.code(), "InvalidClientTokenId", "{}", r.body);

    // GetSessionToken sessions: root's without MFA may call STS, not IAM.
    let gts = sealed(&keys, &session(SessionPrincipal::Root));
    let r = call(&d, &gts, "sts", "Action=GetCallerIdentity");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.xml("Arn"), Some("arn:aws:iam::123456789012:root"));
    let r = call(&d, &gts, "iam", "Action=ListUsers");
    assert_eq!(
        (r.status, r.code()),
        (403, "InvalidClientTokenId"),
        "{}",
        r.body
    );
    let mut with_mfa = session(SessionPrincipal::Root);
    with_mfa.mfa = Some(MfaInfo {
        serial: "arn:aws:iam::123456789012:mfa/root-device".parse().unwrap(),
        authenticated_at: now() - 10,
    });
    let r = call(&d, &sealed(&keys, &with_mfa), "iam", "Action=ListUsers");
    assert_eq!(r.status, 200, "{}", r.body);

    // A federated user cannot call IAM, whatever its policy.
    let mut fed = session(SessionPrincipal::FederatedUser {
        name: "fed".into(),
        caller_arn: "arn:aws:iam::123456789012:root".parse().unwrap(),
        caller_user_id: ACCOUNT.into(),
    });
    fed.policy = Some(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#
            .into(),
    );
    let fed = sealed(&keys, &fed);
    let r = call(&d, &fed, "sts", "Action=GetCallerIdentity");
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:sts::123456789012:federated-user/fed")
    );
    assert_eq!(r.xml("UserId"), Some("123456789012:fed"));
    let r = call(&d, &fed, "iam", "Action=ListUsers");
    assert_eq!(r.code(), "InvalidClientTokenId", "{}", r.body);
}

#[test]
fn the_rust_sdk_and_the_aws_cli_accept_session_credentials() {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

    let d = Daemon::start();
    let keys = daemon_ring(&d);
    let s = session(setup(&d));
    let creds = sealed(&keys, &s);
    let token = creds.token.as_ref().unwrap().expose_secret().to_owned();

    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            &creds.id,
            creds.secret.expose_secret(),
            Some(token.clone()),
            None,
            "stsd-session-test",
        ))
        .endpoint_url(format!("http://{}", d.addr))
        .http_client(http)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .build();
    let iam = aws_sdk_iam::Client::from_conf(config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let users = iam.list_users().send().await.unwrap();
        assert!(users.users().iter().any(|u| u.user_name() == "alice"));
        let denied = iam.create_user().user_name("bob").send().await.unwrap_err();
        assert_eq!(
            denied.as_service_error().and_then(|e| e.meta().code()),
            Some("AccessDenied")
        );
    });

    let Ok(version) = std::process::Command::new("aws").arg("--version").output() else {
        eprintln!("SKIPPED: the AWS CLI is not installed");
        return;
    };
    assert!(version.status.success());
    let out = std::process::Command::new("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--output",
            "json",
            "--endpoint-url",
        ])
        .arg(format!("http://{}", d.addr))
        .env("AWS_ACCESS_KEY_ID", &creds.id)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret.expose_secret())
        .env("AWS_SESSION_TOKEN", &token)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["Arn"],
        "arn:aws:sts::123456789012:assumed-role/Deploy/it-session"
    );
}
