//! The Rust SDK's credential providers against `stsd agent`: a broker
//! trusting a cluster's service-account tokens (the JWKS of
//! `tests/fixtures/oidc`, inline), a sidecar agent assuming a role with a
//! projected-token file and serving the container endpoint (with an
//! authorization token file) and IMDSv2, and `aws-config`'s
//! `EcsCredentialsProvider` and `ImdsCredentialsProvider` resolving
//! credentials from it; `aws-sdk-sts` then calls `GetCallerIdentity` on
//! the broker with them and must see the role's assumed-role ARN.
//!
//! `EcsCredentialsProvider` reads `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)` from the process
//! environment only (`ProviderConfig`'s environment override is
//! crate-private), and a multi-threaded test binary must not change its
//! own environment: so this binary runs itself again, as a child process
//! with those variables, for that one ignored test
//! ([`ecs_provider_in_a_child_process`]), which prints what it saw.

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::imds::{self, credentials::ImdsCredentialsProvider};
use aws_config::provider_config::ProviderConfig;
use aws_sdk_sts::config::{BehaviorVersion, ProvideCredentials, Region};
use aws_sdk_sts::error::DisplayErrorContext;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::agent::{Agent, Endpoint, clear_env, output_within};
use crate::client::root;
use crate::daemon::{Daemon, Options};
use crate::sdk_iam::client as iam_client;
use crate::sdk_sts::runtime;
use crate::sdk_web_identity::{ARN as PROVIDER_ARN, ISSUER, KEY_A, jwks, token};

const ACCOUNT: &str = "123456789012";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/app";
const ASSUMED: &str = "arn:aws:sts::123456789012:assumed-role/app/app-pod";
const SUBJECT: &str = "system:serviceaccount:prod:app";
const AUTH_TOKEN: &str = "rust-agent-auth-4e1a9c";
/// The broker's URL, for the child process.
const BROKER_VAR: &str = "STSD_IT_BROKER";
/// What the child process prints before each finding.
const CHILD_SAYS: &str = "ecs-child:";

/// The SDK's HTTP client: rustls on ring (default features are off).
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// What the credential providers are built with: the HTTP client, tokio's
/// sleep, the real environment and clock.
fn provider_config() -> ProviderConfig {
    ProviderConfig::empty()
        .with_http_client(http_client())
        .with_sleep_impl(TokioSleep::new())
}

/// An STS client of `endpoint` resolving its credentials with `provider`.
pub(crate) fn sts(
    endpoint: &str,
    http: SharedHttpClient,
    provider: impl ProvideCredentials + 'static,
) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(http)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .time_source(SharedTimeSource::new(SystemTimeSource::new()))
        .credentials_provider(provider)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// A broker, the role `app` trusting the `prod:app` service account, and
/// a ready sidecar agent with a token file for it.
struct Sidecar {
    d: Daemon,
    agent: Agent,
}

fn sidecar() -> Sidecar {
    let d = Daemon::start_with(Options {
        extra_toml: format!(
            "[[federation.providers]]\narn = \"{PROVIDER_ARN}\"\njwks = '{}'\n",
            jwks(KEY_A)
        ),
        ..Options::default()
    });
    runtime().block_on(async {
        let (id, secret) = root(&d);
        let iam = iam_client(&d, &id, secret.expose_secret());
        iam.create_open_id_connect_provider()
            .url(ISSUER)
            .client_id_list("sts.amazonaws.com")
            .send()
            .await
            .unwrap();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"k8s.example.test/cluster-1:sub":"{SUBJECT}"}}}}}}]}}"#
        );
        iam.create_role()
            .role_name("app")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
    });
    let agent = Agent::prepare(&[("token", &token(KEY_A, SUBJECT)), ("auth", AUTH_TOKEN)])
        .start_in(
            &format!("http://{}", d.addr),
            "",
            &format!(
                "[role]\narn = \"{ROLE_ARN}\"\nsession_name = \"app-pod\"\n\
                 web_identity_token_file = \"{{dir}}/token\"\n\n\
                 [container]\nlisten = \"127.0.0.1:0\"\nauthorization_token_file = \"{{dir}}/auth\"\n\n\
                 [imds]\nlisten = \"127.0.0.1:0\"\n"
            ),
        );
    agent.wait_ready();
    Sidecar { d, agent }
}

/// What the child process saw with `vars` in its environment: its
/// `ecs-child:` lines.
fn ecs_child(s: &Sidecar, vars: &[(&str, String)]) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    clear_env(&mut cmd);
    cmd.args([
        "sdk_agent::ecs_provider_in_a_child_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(BROKER_VAR, format!("http://{}", s.d.addr))
    .env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        s.agent.url(Endpoint::Container, "/v1/credentials"),
    );
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = output_within(&mut cmd, 60);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        // libtest prints the test's name on the same line first.
        .filter_map(|l| l.split_once(CHILD_SAYS).map(|(_, said)| said))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rust_sdk_ecs_credentials_provider_through_the_agent() {
    let s = sidecar();
    let auth_file = s.agent.dir.path().join("auth").display().to_string();
    let served = s.agent.get(
        Endpoint::Container,
        "/v1/credentials",
        &[("Authorization", AUTH_TOKEN)],
    );
    assert_eq!(served.status, 200, "{}", served.body);
    let served: serde_json::Value = serde_json::from_str(&served.body).unwrap();
    let key = served["AccessKeyId"].as_str().unwrap();

    // The token from a file, as EKS Pod Identity configures it.
    let seen = ecs_child(&s, &[("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", auth_file)]);
    assert_eq!(
        seen,
        format!(" key={key} account={ACCOUNT} arn={ASSUMED}"),
        "{}",
        s.agent.stderr()
    );
    // The token in the variable.
    let seen = ecs_child(
        &s,
        &[("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH_TOKEN.to_owned())],
    );
    assert!(seen.ends_with(&format!(" arn={ASSUMED}")), "{seen}");
    // A wrong token: the provider fails with the agent's 401.
    let seen = ecs_child(
        &s,
        &[(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "not-the-token".to_owned(),
        )],
    );
    assert!(
        seen.starts_with(" error=") && seen.contains("401"),
        "{seen}"
    );
    // Every read was served from the agent's memory.
    assert_eq!(s.agent.health()["broker_calls"], 1);
}

/// Resolves credentials with `EcsCredentialsProvider` from this process's
/// environment and calls `GetCallerIdentity` with them, printing what it
/// saw; run by [`rust_sdk_ecs_credentials_provider_through_the_agent`]
/// in a child process, since the provider reads the environment only.
#[test]
#[ignore = "run in a child process by rust_sdk_ecs_credentials_provider_through_the_agent"]
fn ecs_provider_in_a_child_process() {
    let Ok(broker) = std::env::var(BROKER_VAR) else {
        eprintln!("{BROKER_VAR} is not set: nothing to do outside the parent test");
        return;
    };
    runtime().block_on(async {
        let provider = EcsCredentialsProvider::builder()
            .configure(&provider_config())
            .build();
        match provider.provide_credentials().await {
            Err(e) => println!("{CHILD_SAYS} error={}", DisplayErrorContext(&e)),
            Ok(c) => {
                let account = c.account_id().map(|a| a.as_str().to_owned());
                // The client resolves the credentials again through the
                // provider, as an application's client does.
                let who = sts(&broker, http_client(), provider)
                    .get_caller_identity()
                    .send()
                    .await
                    .unwrap();
                println!(
                    "{CHILD_SAYS} key={} account={} arn={}",
                    c.access_key_id(),
                    account.unwrap_or_default(),
                    who.arn().unwrap_or_default()
                );
            }
        }
    });
}

#[test]
fn rust_sdk_imds_credentials_provider_through_the_agent() {
    let s = sidecar();
    runtime().block_on(async {
        let config = provider_config();
        let client = imds::Client::builder()
            .configure(&config)
            .endpoint(s.agent.url(Endpoint::Imds, ""))
            .unwrap()
            .build();
        let provider = ImdsCredentialsProvider::builder()
            .configure(&config)
            .imds_client(client)
            .build();
        let c = provider.provide_credentials().await.unwrap();
        assert!(c.access_key_id().starts_with("ASIA"), "{c:?}");
        assert!(c.session_token().is_some_and(|t| t.len() > 20));
        let left = c
            .expiry()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let served = s.agent.health()["expiration"].as_u64().unwrap();
        assert_eq!(left, served, "the SDK read the agent's expiry");
        let who = sts(&format!("http://{}", s.d.addr), http_client(), provider)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(who.arn(), Some(ASSUMED));
        assert_eq!(who.account(), Some(ACCOUNT));
    });
    assert_eq!(s.agent.health()["broker_calls"], 1);
    let log = s.agent.stderr();
    assert!(
        !log.contains(AUTH_TOKEN),
        "the authorization token reached the log"
    );
}
