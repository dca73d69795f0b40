//! TLS for HTTPS and gRPC on one listener, and certificate reload without
//! restart: replace the files, and a new connection gets the new
//! certificate from the same daemon process; an unusable pair is refused
//! and the current one kept.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use stsd::api::grpc::proto::v1 as pb;
use stsd::api::grpc::proto::v1::security_token_service_client::SecurityTokenServiceClient;
use stsd::client::{Credentials, SigV4Layer};
use tower::Layer as _;

use crate::client::root_credentials;
use crate::daemon::{Daemon, Options, TempDir};

fn pair() -> (rcgen::CertifiedKey<rcgen::KeyPair>, CertificateDer<'static>) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let der = c.cert.der().clone();
    (c, der)
}

fn client_config(roots: &[&CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add((*r).clone()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// The leaf certificate a new connection is served.
fn served(d: &Daemon, config: &Arc<rustls::ClientConfig>) -> CertificateDer<'static> {
    let mut conn =
        rustls::ClientConnection::new(Arc::clone(config), "localhost".try_into().unwrap()).unwrap();
    let mut tcp = TcpStream::connect(d.addr).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    conn.peer_certificates().unwrap()[0].clone().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_and_certificates_reload_without_restart() {
    let dir = TempDir::new("tls-reload");
    let (a, a_der) = pair();
    let (b, b_der) = pair();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, a.cert.pem()).unwrap();
    std::fs::write(&key, a.signing_key.serialize_pem()).unwrap();
    let d = Daemon::start_with(Options {
        extra_toml: format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nreload_interval_secs = 1\n",
            cert.display(),
            key.display()
        ),
        ..Options::default()
    });
    let pid = d.pid();
    let config = client_config(&[&a_der, &b_der]);
    assert_eq!(served(&d, &config), a_der);

    // gRPC over TLS (ALPN h2), signed.
    let tls = tokio_rustls::TlsConnector::from(client_config(&[&a_der]));
    let addr = d.addr;
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://localhost:{}", addr.port()))
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
            .unwrap();
    let root = root_credentials(&d);
    let creds = Credentials {
        access_key_id: root.id.clone(),
        secret: root.secret.expose_secret().parse().unwrap(),
        session_token: None,
    };
    let layer = SigV4Layer::new(creds, "us-east-1", &format!("localhost:{}", addr.port()));
    let me = SecurityTokenServiceClient::new(layer.layer(channel))
        .get_caller_identity(pb::GetCallerIdentityRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.arn, "arn:aws:iam::123456789012:root");

    // An unusable pair (B's certificate with A's key) is refused: A stays.
    std::fs::write(&cert, b.cert.pem()).unwrap();
    let mut waited = 0;
    while !d.stderr().contains("cannot reload the tls certificate") {
        waited += 1;
        assert!(waited < 100, "no warning: {}", d.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served(&d, &config), a_der);

    // The whole new pair: new connections get B.
    std::fs::write(&key, b.signing_key.serialize_pem()).unwrap();
    let mut waited = 0;
    while served(&d, &config) != b_der {
        waited += 1;
        assert!(waited < 100, "B never served: {}", d.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(d.pid(), pid);
    assert!(d.stderr().contains("tls certificate reloaded"));
    assert!(!d.stderr().contains("PRIVATE KEY"), "a key reached the log");
}
