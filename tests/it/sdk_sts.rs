//! The Rust AWS SDK's STS client (`aws-sdk-sts`) and `aws-config`'s
//! `AssumeRoleProvider` (both with default features off, on the same
//! hyper 1 + rustls/ring stack as stsd) against a real `stsd serve`: a user
//! assumes a role and calls `GetCallerIdentity` with the session, directly
//! and through the provider.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_sts::config::{
    BehaviorVersion, Credentials, ProvideCredentials, Region, SharedCredentialsProvider,
};
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use stsd::domain::clock::{Clock as _, SystemClock};

use crate::client::root;
use crate::daemon::Daemon;
use crate::sdk_iam::client as iam_client;

const ACCOUNT: &str = "123456789012";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const MAY_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;

/// The `SdkConfig` every client and provider here is built from: stsd's
/// endpoint, an explicit behavior version, the rustls/ring client, tokio's
/// sleep and the system clock, and `credentials`.
pub(crate) fn sdk_config(d: &Daemon, credentials: SharedCredentialsProvider) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", d.addr))
        .http_client(http)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .time_source(SharedTimeSource::new(SystemTimeSource::new()))
        .credentials_provider(credentials)
        .build()
}

pub(crate) fn sts(d: &Daemon, credentials: Credentials) -> aws_sdk_sts::Client {
    let conf = sdk_config(d, SharedCredentialsProvider::new(credentials));
    aws_sdk_sts::Client::new(&conf)
}

fn static_credentials(id: &str, secret: &str) -> Credentials {
    Credentials::new(id, secret, None, None, "stsd-test")
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A user allowed `sts:AssumeRole` and a role (path `/sdk/`) trusting the
/// account: `(user key id, user secret, role arn, role id)`.
async fn user_and_role(d: &Daemon, user: &str, role: &str) -> (String, String, String, String) {
    let (root_id, root_secret) = root(d);
    let iam = iam_client(d, &root_id, root_secret.expose_secret());
    iam.create_user().user_name(user).send().await.unwrap();
    iam.put_user_policy()
        .user_name(user)
        .policy_name("assume")
        .policy_document(MAY_ASSUME)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let created = iam
        .create_role()
        .role_name(role)
        .path("/sdk/")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let created = created.role().unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
        created.arn().to_owned(),
        created.role_id().to_owned(),
    )
}

/// Whole seconds from now until `t`.
fn secs_until(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH + SystemClock.now())
        .unwrap()
        .as_secs()
}

fn is_access_key_of_session(id: &str) -> bool {
    id.len() == 20
        && id.starts_with("ASIA")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

#[test]
fn rust_sdk_assume_role_then_caller_identity() {
    let d = Daemon::start();
    runtime().block_on(async {
        let (id, secret, role_arn, role_id) = user_and_role(&d, "rs-assumer", "rs-role").await;
        let user = sts(&d, static_credentials(&id, &secret));
        let out = user
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("rust-sdk")
            .duration_seconds(900)
            .send()
            .await
            .unwrap();
        let creds = out.credentials().unwrap();
        assert!(
            is_access_key_of_session(creds.access_key_id()),
            "{}",
            creds.access_key_id()
        );
        assert_eq!(creds.secret_access_key().len(), 40);
        assert!(!creds.session_token().is_empty());
        let expires = SystemTime::try_from(*creds.expiration()).unwrap();
        let left = secs_until(expires);
        assert!((840..=960).contains(&left), "expires in {left} s");
        let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/rs-role/rust-sdk");
        let assumed = out.assumed_role_user().unwrap();
        assert_eq!(assumed.arn(), arn);
        assert_eq!(assumed.assumed_role_id(), format!("{role_id}:rust-sdk"));

        let session = sts(
            &d,
            Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                Some(expires),
                "stsd-session",
            ),
        );
        let who = session.get_caller_identity().send().await.unwrap();
        assert_eq!(who.arn(), Some(arn.as_str()));
        assert_eq!(who.user_id(), Some(format!("{role_id}:rust-sdk").as_str()));
        assert_eq!(who.account(), Some(ACCOUNT));

        // Typed errors: a duration below 900 s, and root assuming a role.
        let short = user
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("too-short")
            .duration_seconds(899)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(short.meta().code(), Some("ValidationError"), "{short:?}");
        let (root_id, root_secret) = root(&d);
        let root = sts(
            &d,
            static_credentials(&root_id, root_secret.expose_secret()),
        );
        let denied = root
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("as-root")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(denied.meta().code(), Some("AccessDenied"), "{denied:?}");
    });
}

#[test]
fn aws_config_assume_role_provider() {
    let d = Daemon::start();
    runtime().block_on(async {
        let (id, secret, role_arn, role_id) = user_and_role(&d, "rs-source", "rs-provided").await;
        let source = static_credentials(&id, &secret);
        // The provider's own STS client comes from this config (endpoint,
        // HTTP client, sleep, clock); its credentials are `source`.
        let base = sdk_config(&d, SharedCredentialsProvider::new(source.clone()));
        let provider = AssumeRoleProvider::builder(&role_arn)
            .session_name("rust-provider")
            .session_length(Duration::from_secs(900))
            .configure(&base)
            .build_from_provider(source)
            .await;

        let creds = provider.provide_credentials().await.unwrap();
        assert!(
            is_access_key_of_session(creds.access_key_id()),
            "{}",
            creds.access_key_id()
        );
        assert!(creds.session_token().is_some());
        let left = secs_until(creds.expiry().unwrap());
        assert!((840..=960).contains(&left), "expires in {left} s");

        // A client whose credentials come from the provider.
        let conf = sdk_config(&d, SharedCredentialsProvider::new(provider));
        let who = aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(
            who.arn(),
            Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/rs-provided/rust-provider").as_str())
        );
        assert_eq!(
            who.user_id(),
            Some(format!("{role_id}:rust-provider").as_str())
        );
    });
}
