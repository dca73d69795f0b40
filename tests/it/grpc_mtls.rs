//! mTLS caller authentication against the real daemon over real TLS: a
//! CA, a server certificate for `localhost`, and client certificates made
//! with rcgen (a SPIFFE URI SAN, a DNS SAN, an unmapped SAN, a root
//! mapping, and one from another CA); `client_ca_file` and
//! `[[server.tls.client_principals]]` map them to the user `billing` and
//! to root. Unsigned gRPC calls are the mapped principal; `Authorize` is
//! allowed only once `billing` has `stsd:Authorize`; an unmapped SAN is
//! UNAUTHENTICATED; the other CA's certificate fails the handshake; a
//! client without a certificate still signs with SigV4, and a signature
//! wins over a certificate; a deleted user stops authenticating on its
//! next call. `POST /v1/authorize` shares the rule.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use stsd::api::grpc::proto::v1 as pb;
use stsd::api::grpc::proto::v1::authorizer_client::AuthorizerClient;
use stsd::api::grpc::proto::v1::security_token_service_client::SecurityTokenServiceClient;
use stsd::client::{Credentials, SigV4Layer};
use tonic::transport::{Channel, Endpoint};
use tower::Layer as _;

use crate::client::{Credentials as Creds, call, enc, root_credentials};
use crate::daemon::{Daemon, Options, TempDir};
use crate::grpc_authorize::photos_request;

const BILLING_URI: &str = "spiffe://example.org/ns/prod/sa/billing";
const BILLING_ARN: &str = "arn:aws:iam::123456789012:user/billing";
const ROOT_ARN: &str = "arn:aws:iam::123456789012:root";
const ALBUM: &str = "arn:aws:photos:us-east-1:123456789012:album/summer";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A certificate and its key, as rustls wants them.
pub(crate) struct Leaf {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

pub(crate) struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert: CertificateDer<'static>,
    pub(crate) pem: String,
}

pub(crate) fn new_ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        cert: cert.der().clone(),
        issuer: Issuer::new(params, key),
    }
}

pub(crate) fn leaf(
    ca: &Ca,
    sans: Vec<SanType>,
    usage: ExtendedKeyUsagePurpose,
) -> (Leaf, String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = sans;
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    let pems = (cert.pem(), key.serialize_pem());
    (
        Leaf {
            cert: cert.der().clone(),
            key: key.serialize_der(),
        },
        pems.0,
        pems.1,
    )
}

fn client_cert(ca: &Ca, san: SanType) -> Leaf {
    leaf(ca, vec![san], ExtendedKeyUsagePurpose::ClientAuth).0
}

pub(crate) fn uri(u: &str) -> SanType {
    SanType::URI(u.try_into().unwrap())
}

pub(crate) fn dns(d: &str) -> SanType {
    SanType::DnsName(d.try_into().unwrap())
}

/// A client configuration trusting `ca`, presenting `cert` when given.
/// The server certificate and key (for `localhost`, issued by `ca`) and
/// `ca` as the client-CA bundle, written into `dir`: their paths.
pub(crate) struct TlsFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) client_ca: PathBuf,
}

pub(crate) fn tls_files(dir: &Path, ca: &Ca) -> TlsFiles {
    let (_, server_pem, server_key) = leaf(
        ca,
        vec![dns("localhost")],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        client_ca: dir.join("client-ca.pem"),
    };
    std::fs::write(&files.cert, server_pem).unwrap();
    std::fs::write(&files.key, server_key).unwrap();
    std::fs::write(&files.client_ca, &ca.pem).unwrap();
    files
}

/// A daemon on TLS with `ca`'s client certificates mapped by
/// `principals` (`[[server.tls.client_principals]]` tables); its IAM
/// calls go over HTTPS without a client certificate.
pub(crate) fn mtls_daemon(dir: &Path, ca: &Ca, principals: &str) -> Daemon {
    let files = tls_files(dir, ca);
    let d = Daemon::start_with(Options {
        extra_toml: format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nclient_ca_file = \"{}\"\n{principals}",
            files.cert.display(),
            files.key.display(),
            files.client_ca.display()
        ),
        ..Options::default()
    });
    d.use_tls(client_config(ca, None, b"http/1.1"));
    d
}

pub(crate) fn client_config(
    ca: &Ca,
    cert: Option<&Leaf>,
    alpn: &[u8],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let mut config = match cert {
        Some(c) => builder
            .with_client_auth_cert(
                vec![c.cert.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

/// A gRPC channel to `addr` over TLS with `config`.
async fn channel(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<Channel, String> {
    let tls = tokio_rustls::TlsConnector::from(config);
    Endpoint::from_shared(format!("http://localhost:{}", addr.port()))
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_uri| {
            let tls = tls.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let stream = tls.connect("localhost".try_into().unwrap(), tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .map_err(|e| format!("{e:?}"))
}

/// The daemon with mTLS on, and its CA.
struct Setup {
    d: Daemon,
    ca: Ca,
    _dir: TempDir,
}

fn start() -> Setup {
    let dir = TempDir::new("mtls");
    let ca = new_ca("stsd test CA");
    let d = mtls_daemon(
        dir.path(),
        &ca,
        &format!(
            "[[server.tls.client_principals]]\nuri = \"{BILLING_URI}\"\nprincipal = \"{BILLING_ARN}\"\n\
             [[server.tls.client_principals]]\ndns = \"billing.internal\"\nprincipal = \"{BILLING_ARN}\"\n\
             [[server.tls.client_principals]]\ndns = \"ops.internal\"\nprincipal = \"{ROOT_ARN}\"\n"
        ),
    );
    Setup { d, ca, _dir: dir }
}

fn ok(r: crate::daemon::Response) {
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn caller_arn(ch: Channel) -> Result<String, tonic::Status> {
    SecurityTokenServiceClient::new(ch)
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .map(|r| r.into_inner().arn)
}

fn error_type(s: &tonic::Status) -> &str {
    s.metadata()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn ask(c: &Creds) -> pb::AuthorizeRequest {
    pb::AuthorizeRequest {
        http: Some(photos_request(c)),
        source_ip: "10.1.2.3".into(),
        action: "photos:GetAlbum".into(),
        resource: ALBUM.into(),
        ..pb::AuthorizeRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_callers_are_their_mapped_principals_over_grpc() {
    let Setup { d, ca, _dir } = start();
    let root = root_credentials(&d);
    ok(call(&d, &root, "iam", "Action=CreateUser&UserName=billing"));
    let h2 = |cert: Option<&Leaf>| client_config(&ca, cert, b"h2");

    // A SPIFFE URI SAN and a DNS SAN both map to billing; unsigned calls.
    let spiffe = client_cert(&ca, uri(BILLING_URI));
    let billing = channel(d.addr, h2(Some(&spiffe))).await.unwrap();
    assert_eq!(caller_arn(billing.clone()).await.unwrap(), BILLING_ARN);
    let by_dns = client_cert(&ca, dns("Billing.Internal"));
    let ch = channel(d.addr, h2(Some(&by_dns))).await.unwrap();
    assert_eq!(caller_arn(ch).await.unwrap(), BILLING_ARN);
    // The root mapping.
    let ops = client_cert(&ca, dns("ops.internal"));
    let ch = channel(d.addr, h2(Some(&ops))).await.unwrap();
    assert_eq!(caller_arn(ch).await.unwrap(), ROOT_ARN);
    let log = d.stderr();
    assert!(
        log.contains("client certificate mapped") && log.contains(&format!("URI:{BILLING_URI}")),
        "{log}"
    );

    // Authorize as billing: refused until billing has stsd:Authorize.
    let denied = AuthorizerClient::new(billing.clone())
        .authorize(ask(&root))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    assert_eq!(error_type(&denied), "AccessDenied");
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["stsd:Authorize","sts:AssumeRole"],"Resource":"*"}}"#;
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=PutUserPolicy&UserName=billing&PolicyName=ask&PolicyDocument={}",
            enc(policy)
        ),
    ));
    let answer = AuthorizerClient::new(billing.clone())
        .authorize(ask(&root))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.principal.unwrap().arn, ROOT_ARN);

    // Roles are reached through AssumeRole, called as the mTLS user.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{BILLING_ARN}"}},"Action":"sts:AssumeRole"}}}}"#
    );
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=CreateRole&RoleName=reader&AssumeRolePolicyDocument={}",
            enc(&trust)
        ),
    ));
    let assumed = SecurityTokenServiceClient::new(billing.clone())
        .assume_role(pb::AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/reader".into(),
            role_session_name: "mtls".into(),
            ..pb::AssumeRoleRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        assumed.assumed_role_user.unwrap().arn,
        "arn:aws:sts::123456789012:assumed-role/reader/mtls"
    );
    assert!(
        assumed
            .credentials
            .unwrap()
            .access_key_id
            .starts_with("ASIA")
    );

    // A signature wins over the certificate: billing's connection, root's
    // signature.
    let creds = || Credentials {
        access_key_id: root.id.clone(),
        secret: root.secret.expose_secret().parse().unwrap(),
        session_token: None,
    };
    let host = format!("localhost:{}", d.addr.port());
    let signed = SigV4Layer::new(creds(), "us-east-1", &host).layer(billing.clone());
    let me = SecurityTokenServiceClient::new(signed)
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.arn, ROOT_ARN);

    // No certificate: SigV4 still works, and unsigned is refused as before.
    let plain = channel(d.addr, h2(None)).await.unwrap();
    let signed = SigV4Layer::new(creds(), "us-east-1", &host).layer(plain.clone());
    let me = SecurityTokenServiceClient::new(signed)
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.arn, ROOT_ARN);
    let e = caller_arn(plain).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(error_type(&e), "MissingAuthenticationToken");
    assert!(!e.message().contains("certificate"), "{e:?}");

    // An unmapped SAN from the trusted CA.
    let other = client_cert(&ca, uri("spiffe://example.org/ns/prod/sa/other"));
    let ch = channel(d.addr, h2(Some(&other))).await.unwrap();
    let e = caller_arn(ch).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e:?}");
    assert_eq!(error_type(&e), "MissingAuthenticationToken");
    assert!(
        e.message()
            .contains("client certificate is not mapped to a principal"),
        "{e:?}"
    );

    // The right SAN from another CA: the handshake fails.
    let rogue_ca = new_ca("rogue CA");
    let rogue = client_cert(&rogue_ca, uri(BILLING_URI));
    let refused = match channel(d.addr, h2(Some(&rogue))).await {
        Err(e) => e,
        Ok(ch) => {
            let e = caller_arn(ch).await.unwrap_err();
            assert!(error_type(&e).is_empty(), "answered by stsd: {e:?}");
            format!("{e:?}")
        }
    };
    let mut waited = 0;
    while !d.stderr().contains("tls handshake failed") {
        waited += 1;
        assert!(waited < 50, "{refused}: {}", d.stderr());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // billing deleted: its certificate stops authenticating on the very
    // next call, on the same connection.
    ok(call(
        &d,
        &root,
        "iam",
        "Action=DeleteUserPolicy&UserName=billing&PolicyName=ask",
    ));
    ok(call(&d, &root, "iam", "Action=DeleteUser&UserName=billing"));
    let e = caller_arn(billing).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e:?}");
    assert_eq!(error_type(&e), "InvalidClientTokenId");
    assert!(!d.stderr().contains("PRIVATE KEY"), "a key reached the log");
}

#[test]
fn post_authorize_accepts_an_mtls_caller_without_a_signature() {
    let Setup { d, ca, _dir } = start();
    let root = root_credentials(&d);
    ok(call(&d, &root, "iam", "Action=CreateUser&UserName=billing"));
    let body = format!(
        r#"{{"Request": {{"Method": "GET", "Host": "photos.example.com", "Path": "/albums/summer",
              "Headers": {headers}, "PayloadSha256": "{EMPTY_SHA256}"}},
            "Action": "photos:GetAlbum", "Resource": "{ALBUM}"}}"#,
        headers = serde_json::to_string(
            &photos_request(&root)
                .headers
                .iter()
                .map(|h| serde_json::json!({"Name": h.name, "Value": h.value}))
                .collect::<Vec<_>>()
        )
        .unwrap()
    );
    let post = |d: &Daemon| {
        let raw = format!(
            "POST /v1/authorize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        d.request(raw.as_bytes())
    };

    // Unsigned, with billing's certificate: billing asks, and needs the
    // permission.
    let spiffe = client_cert(&ca, uri(BILLING_URI));
    let mut with_cert = client_config(&ca, Some(&spiffe), b"http/1.1");
    let denied = {
        let iam = client_config(&ca, None, b"http/1.1");
        d.use_tls(Arc::clone(&with_cert));
        let r = post(&d);
        d.use_tls(iam);
        r
    };
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(denied.body.contains("AccessDenied"), "{}", denied.body);
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"stsd:Authorize","Resource":"*"}}"#;
    ok(call(
        &d,
        &root,
        "iam",
        &format!(
            "Action=PutUserPolicy&UserName=billing&PolicyName=ask&PolicyDocument={}",
            enc(policy)
        ),
    ));
    d.use_tls(Arc::clone(&with_cert));
    let r = post(&d);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["Principal"]["Arn"], ROOT_ARN, "{}", r.body);

    // An unmapped certificate, unsigned: MissingAuthenticationToken.
    let other = client_cert(&ca, dns("nobody.internal"));
    with_cert = client_config(&ca, Some(&other), b"http/1.1");
    d.use_tls(with_cert);
    let r = post(&d);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("MissingAuthenticationToken"), "{}", r.body);
    assert!(r.body.contains("not mapped to a principal"), "{}", r.body);
}

#[test]
fn check_config_validates_the_client_ca_and_the_mappings() {
    let dir = TempDir::new("mtls-check");
    let ca = new_ca("check CA");
    tls_files(dir.path(), &ca);
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("not-a-ca.pem"), "no certificate here\n").unwrap();
    let check = |ca_file: &str, principal: &str| {
        let config = path("stsd.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\ndata_dir = \"{}\"\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nclient_ca_file = \"{}\"\n\
                 [[server.tls.client_principals]]\nuri = \"{BILLING_URI}\"\nprincipal = \"{principal}\"\n",
                path("data").display(),
                path("cert.pem").display(),
                path("key.pem").display(),
                path(ca_file).display(),
            ),
        )
        .unwrap();
        let out = crate::daemon::stsd(&["check-config", "--config", config.to_str().unwrap()]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (good, out) = check("client-ca.pem", BILLING_ARN);
    assert!(good, "{out}");
    let (good, out) = check("not-a-ca.pem", BILLING_ARN);
    assert!(!good);
    assert!(out.contains("cannot load the client CA bundle"), "{out}");
    let (good, out) = check("missing.pem", BILLING_ARN);
    assert!(!good);
    assert!(out.contains("missing.pem"), "{out}");
    let (good, out) = check("client-ca.pem", "arn:aws:iam::123456789012:role/billing");
    assert!(!good);
    assert!(
        out.contains(":9:") && out.contains("server.tls.client_principals[0].principal"),
        "{out}"
    );
}
