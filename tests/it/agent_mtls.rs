//! An mTLS sidecar: `stsd agent` authenticating to the broker with a
//! client certificate (`[role] client_cert_file` / `client_key_file`,
//! `[broker] ca_file`) over real TLS. The broker (`[server.tls]` with
//! `client_ca_file` and a `[[server.tls.client_principals]]` mapping of the
//! certificate's SPIFFE URI to the user `agent`, allowed `sts:AssumeRole`)
//! vends the role `mtls-app`; the Rust SDK's `ImdsCredentialsProvider`
//! reads it from the agent and `GetCallerIdentity` over HTTPS shows the
//! assumed role. A certificate with the same URI from a CA the broker does
//! not trust: the handshake fails, the agent's health says why, and its
//! container endpoint answers 503.

use aws_config::imds::{self, credentials::ImdsCredentialsProvider};
use aws_config::provider_config::ProviderConfig;
use aws_sdk_sts::config::ProvideCredentials as _;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rcgen::ExtendedKeyUsagePurpose;

use crate::agent::{Agent, Endpoint};
use crate::client::{call, enc, root_credentials};
use crate::daemon::{Daemon, TempDir};
use crate::grpc_mtls::{Ca, leaf, mtls_daemon, new_ca, uri};
use crate::sdk_agent::{http_client, sts};
use crate::sdk_sts::runtime;

const AGENT_URI: &str = "spiffe://example.org/ns/prod/sa/agent";
const AGENT_ARN: &str = "arn:aws:iam::123456789012:user/agent";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/mtls-app";
const ASSUMED: &str = "arn:aws:sts::123456789012:assumed-role/mtls-app/mtls-pod";
/// The gRPC method the agent calls, as the broker logs its path.
const ASSUME_ROLE_PATH: &str = "/stsd.v1.SecurityTokenService/AssumeRole";

/// A broker with mTLS on, the user `agent` its certificates map to, and
/// the role `mtls-app` that trusts it.
struct Broker {
    d: Daemon,
    ca: Ca,
    _dir: TempDir,
}

fn ok(r: crate::daemon::Response) {
    assert_eq!(r.status, 200, "{}", r.body);
}

fn broker() -> Broker {
    let dir = TempDir::new("agent-mtls");
    let ca = new_ca("stsd agent test CA");
    let d = mtls_daemon(
        dir.path(),
        &ca,
        &format!(
            "[[server.tls.client_principals]]\nuri = \"{AGENT_URI}\"\nprincipal = \"{AGENT_ARN}\"\n"
        ),
    );
    let root = root_credentials(&d);
    ok(call(&d, &root, "iam", "Action=CreateUser&UserName=agent"));
    let may_assume = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#;
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=PutUserPolicy&UserName=agent&PolicyName=assume&PolicyDocument={}",
            enc(may_assume)
        ),
    ));
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{AGENT_ARN}"}},"Action":"sts:AssumeRole"}}}}"#
    );
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=mtls-app&AssumeRolePolicyDocument={}",
            enc(&trust)
        ),
    ));
    Broker { d, ca, _dir: dir }
}

/// A sidecar with a certificate for `AGENT_URI` signed by `issuer`,
/// trusting `b`'s CA, serving the container endpoint and IMDS.
fn sidecar(b: &Broker, issuer: &Ca) -> Agent {
    let (_, cert, key) = leaf(
        issuer,
        vec![uri(AGENT_URI)],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    Agent::prepare(&[
        ("client.pem", &cert),
        ("client.key", &key),
        ("ca.pem", &b.ca.pem),
    ])
    .start_in(
        &format!("https://localhost:{}", b.d.addr.port()),
        "ca_file = \"{dir}/ca.pem\"",
        &format!(
            "[role]\narn = \"{ROLE_ARN}\"\nsession_name = \"mtls-pod\"\n\
             client_cert_file = \"{{dir}}/client.pem\"\nclient_key_file = \"{{dir}}/client.key\"\n\n\
             [container]\nlisten = \"127.0.0.1:0\"\n\n\
             [imds]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
}

/// The SDK's HTTP client trusting only `ca`.
fn https_client(ca: &Ca) -> SharedHttpClient {
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(ca.pem.as_bytes()))
        .build()
        .unwrap();
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

#[test]
fn an_mtls_sidecar_vends_the_role_its_certificate_may_assume() {
    let b = broker();
    let agent = sidecar(&b, &b.ca);
    agent.wait_ready();
    let h = agent.health();
    assert_eq!(h["status"], "fresh", "{h}");
    assert_eq!(h["role_arn"], ROLE_ARN, "{h}");

    let r = agent.get(Endpoint::Container, "/v1/credentials", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let served: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(served["RoleArn"], ROLE_ARN);

    runtime().block_on(async {
        let config = ProviderConfig::empty()
            .with_http_client(http_client())
            .with_sleep_impl(TokioSleep::new());
        let client = imds::Client::builder()
            .configure(&config)
            .endpoint(agent.url(Endpoint::Imds, ""))
            .unwrap()
            .build();
        let provider = ImdsCredentialsProvider::builder()
            .configure(&config)
            .imds_client(client)
            .build();
        let c = provider.provide_credentials().await.unwrap();
        assert_eq!(Some(c.access_key_id()), served["AccessKeyId"].as_str());
        // GetCallerIdentity over HTTPS, signed with the vended session and
        // without a client certificate: the session is the caller.
        let who = sts(
            &format!("https://localhost:{}", b.d.addr.port()),
            https_client(&b.ca),
            provider,
        )
        .get_caller_identity()
        .send()
        .await
        .unwrap();
        assert_eq!(who.arn(), Some(ASSUMED));
    });
    // The agent called AssumeRole over gRPC as the certificate's user.
    let log = b.d.stderr();
    assert!(
        log.contains("client certificate mapped") && log.contains(&format!("URI:{AGENT_URI}")),
        "{log}"
    );
    assert!(log.contains(ASSUME_ROLE_PATH), "{log}");
    assert!(
        !agent.stderr().contains("PRIVATE KEY"),
        "a key reached the log"
    );
}

#[test]
fn an_mtls_sidecar_with_a_certificate_of_another_ca_serves_nothing() {
    let b = broker();
    let rogue = new_ca("rogue CA");
    let agent = sidecar(&b, &rogue);
    agent.wait_health("failing", |h| {
        h["consecutive_failures"].as_u64().unwrap() >= 1
    });
    let h = agent.health();
    assert_eq!(h["status"], "unavailable", "{h}");
    assert!(h["expiration"].is_null(), "{h}");
    let why = h["last_error"].as_str().unwrap();
    assert!(why.contains("unreachable"), "{h}");
    // The cause chain is kept: the broker dropped the connection in the
    // handshake ("connection closed" or "broken pipe", by timing), where a
    // broker that is down says "Connection refused".
    assert!(
        why.contains("connection") && !why.to_lowercase().contains("refused"),
        "{h}"
    );

    let r = agent.get(Endpoint::Container, "/v1/credentials", &[]);
    assert_eq!(r.status, 503, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["code"], "CredentialsUnavailable", "{}", r.body);
    assert_eq!(agent.get(Endpoint::Health, "/readyz", &[]).status, 503);
    // The broker refused the handshake: no call reached STS.
    let log = b.d.stderr();
    assert!(log.contains("tls handshake failed"), "{log}");
    assert!(!log.contains(ASSUME_ROLE_PATH), "{log}");
}
