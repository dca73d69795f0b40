//! The SSRF guard of discovery and JWKS fetches against a real HTTPS
//! server on loopback (rustls, a self-signed certificate for `localhost`
//! and `127.0.0.1` that the fetcher trusts): each refusal — a private
//! address as an IP literal and after DNS, a redirect, a `jwks_uri` on
//! another host — happens before any byte of the refused document is
//! fetched, and the same server is reachable once the policy allows it,
//! so no refusal is an accident of the setup.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fetch::{FetchPolicy, Fetcher};
use super::{HttpKeySource, JwksSettings};
use crate::domain::clock::FixedClock;
use crate::domain::oidc::testing::{RSA_A, Signer};
use crate::service::sts::web_identity::KeyError;

/// (status line, extra headers, body) by path, and the hits of each path.
type Routes = Arc<
    Mutex<(
        HashMap<String, (String, String, String)>,
        HashMap<String, usize>,
    )>,
>;

struct Server {
    addr: SocketAddr,
    routes: Routes,
    cert: CertificateDer<'static>,
}

impl Server {
    async fn start() -> Self {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap();
        let cert = c.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.signing_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let r = Arc::clone(&routes);
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (acceptor, r) = (acceptor.clone(), Arc::clone(&r));
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    let mut buf = vec![0_u8; 4096];
                    let n = tls.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let answer = {
                        let mut r = r.lock();
                        *r.1.entry(path.clone()).or_default() += 1;
                        r.0.get(&path).cloned()
                    };
                    let (status, headers, body) =
                        answer.unwrap_or(("404 Not Found".into(), String::new(), String::new()));
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self { addr, routes, cert }
    }

    fn route(&self, path: &str, status: &str, headers: &str, body: String) {
        self.routes.lock().0.insert(
            path.to_owned(),
            (status.to_owned(), headers.to_owned(), body),
        );
    }

    fn hits(&self, path: &str) -> usize {
        self.routes.lock().1.get(path).copied().unwrap_or(0)
    }

    /// A fetcher trusting this server's certificate, under `policy`.
    fn fetcher(&self, policy: FetchPolicy) -> Fetcher {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Fetcher::new(tls, Duration::from_secs(5), policy)
    }

    fn source(&self, policy: FetchPolicy) -> HttpKeySource {
        HttpKeySource::new(
            self.fetcher(policy),
            Arc::new(FixedClock::at_secs(1_800_000_000)),
            JwksSettings {
                min_ttl: Duration::from_secs(1),
                max_ttl: Duration::from_secs(3600),
                refetch_interval: Duration::from_secs(30),
            },
        )
    }

    /// An IdP at `https://<host>:<port>` whose discovery names `jwks_uri`.
    fn idp(&self, host: &str, jwks_uri: &str) -> String {
        let issuer = format!("https://{host}:{}", self.addr.port());
        let discovery = serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri});
        self.route(
            "/.well-known/openid-configuration",
            "200 OK",
            "",
            discovery.to_string(),
        );
        let a = Signer::rsa(RSA_A);
        let jwks = serde_json::json!({"keys": [a.jwk("a")]}).to_string();
        self.route("/jwks", "200 OK", "", jwks);
        issuer
    }
}

fn allow_private() -> FetchPolicy {
    FetchPolicy {
        allow_private_addresses: true,
        ..FetchPolicy::default()
    }
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let s = Server::start().await;
    let port = s.addr.port();
    let issuer = s.idp("127.0.0.1", &format!("https://127.0.0.1:{port}/jwks"));
    // An IP literal: refused before connecting.
    let e = s
        .source(FetchPolicy::default())
        .keys_of(&issuer, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("127.0.0.1 is a loopback, private or link-local address") && m.contains("allow_private_addresses")),
        "{e:?}"
    );
    // A name resolving to loopback: refused by the resolver hyper
    // connects through.
    let e = s
        .fetcher(FetchPolicy::default())
        .get(&format!("https://localhost:{port}/jwks"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("localhost resolves only to loopback, private or link-local addresses")),
        "{e:?}"
    );
    // Link-local (cloud metadata) and private literals too.
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://[::ffff:127.0.0.1]/jwks",
    ] {
        let e = s
            .fetcher(FetchPolicy::default())
            .get(url)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, KeyError::Unusable(m) if m.contains("allow_private_addresses")),
            "{url}: {e:?}"
        );
    }
    assert_eq!(s.hits("/.well-known/openid-configuration"), 0);
    assert_eq!(s.hits("/jwks"), 0);
    // The same IdP, allowed: it serves (the refusals were the guard's).
    let keys = s
        .source(allow_private())
        .keys_of(&issuer, None)
        .await
        .unwrap();
    assert!(keys.has_kid("a"));
    assert_eq!(s.hits("/jwks"), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let s = Server::start().await;
    let port = s.addr.port();
    let issuer = s.idp("127.0.0.1", &format!("https://127.0.0.1:{port}/moved"));
    s.route(
        "/moved",
        "302 Found",
        &format!("location: https://127.0.0.1:{port}/jwks\r\n"),
        String::new(),
    );
    let e = s
        .source(allow_private())
        .keys_of(&issuer, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("302") && m.contains("redirects are not followed")),
        "{e:?}"
    );
    assert_eq!(s.hits("/moved"), 1);
    assert_eq!(s.hits("/jwks"), 0, "the redirect was not followed");
}

#[tokio::test]
async fn jwks_uri_must_stay_on_the_issuer_host_or_a_configured_one() {
    let s = Server::start().await;
    let port = s.addr.port();
    // The issuer is 127.0.0.1; its discovery points at another host name
    // (localhost: the same server, so only the host rule can refuse it).
    let issuer = s.idp("127.0.0.1", &format!("https://localhost:{port}/jwks"));
    let e = s
        .source(allow_private())
        .keys_of(&issuer, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("on the host localhost") && m.contains("jwks_hosts")),
        "{e:?}"
    );
    assert_eq!(s.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(s.hits("/jwks"), 0);
    // Listed in jwks_hosts: fetched.
    let policy = FetchPolicy {
        jwks_hosts: vec!["localhost".into()],
        ..allow_private()
    };
    let keys = s.source(policy).keys_of(&issuer, None).await.unwrap();
    assert!(keys.has_kid("a"));
    assert_eq!(s.hits("/jwks"), 1);
}

#[tokio::test]
async fn oversized_documents_are_refused_over_https() {
    let s = Server::start().await;
    let port = s.addr.port();
    let issuer = s.idp("127.0.0.1", &format!("https://127.0.0.1:{port}/jwks"));
    let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(600 * 1024));
    s.route("/jwks", "200 OK", "", big);
    let e = s
        .source(allow_private())
        .keys_of(&issuer, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("larger than 524288 bytes")),
        "{e:?}"
    );
}
