//! The key source and its fetcher against a small HTTP server on
//! loopback (plain HTTP, which the development switch allows there): the
//! cache, the bounded refetch for an unknown `kid`, and how each failure
//! is classed. Over HTTPS with a private CA it runs in
//! tests/python/test_federation_oidc.py.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fetch::{FetchPolicy, Fetcher};
use super::{HttpKeySource, JwksSettings};
use crate::domain::clock::FixedClock;
use crate::domain::oidc::testing::{RSA_A, RSA_B, Signer};
use crate::service::sts::web_identity::KeyError;

/// Canned responses by path: (status line, extra headers, body); a path
/// absent from the map never answers.
#[derive(Default)]
struct Routes {
    map: HashMap<String, (String, String, String)>,
    hits: HashMap<String, usize>,
}

type Shared = Arc<Mutex<Routes>>;

async fn serve() -> (SocketAddr, Shared) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes: Shared = Arc::default();
    let r = Arc::clone(&routes);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let r = Arc::clone(&r);
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let answer = {
                    let mut r = r.lock();
                    *r.hits.entry(path.clone()).or_default() += 1;
                    r.map.get(&path).cloned()
                };
                let Some((status, headers, body)) = answer else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    (addr, routes)
}

fn route(routes: &Shared, path: &str, status: &str, headers: &str, body: String) {
    routes.lock().map.insert(
        path.to_owned(),
        (status.to_owned(), headers.to_owned(), body),
    );
}

fn hits(routes: &Shared, path: &str) -> usize {
    routes.lock().hits.get(path).copied().unwrap_or(0)
}

fn fetcher(timeout: Duration, loopback: bool) -> Fetcher {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let policy = FetchPolicy {
        allow_insecure_loopback: loopback,
        allow_private_addresses: true,
        jwks_hosts: Vec::new(),
    };
    Fetcher::new(tls, timeout, policy)
}

fn jwks(signers: &[(&Signer, &str)]) -> String {
    let keys: Vec<_> = signers.iter().map(|(s, kid)| s.jwk(kid)).collect();
    serde_json::json!({ "keys": keys }).to_string()
}

async fn provider(max_age: &str) -> (String, Shared, Arc<FixedClock>, HttpKeySource) {
    let (addr, routes) = serve().await;
    let issuer = format!("http://{addr}");
    let discovery = serde_json::json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    route(
        &routes,
        "/.well-known/openid-configuration",
        "200 OK",
        "",
        discovery.to_string(),
    );
    let a = Signer::rsa(RSA_A);
    route(&routes, "/jwks", "200 OK", max_age, jwks(&[(&a, "a")]));
    let clock = Arc::new(FixedClock::at_secs(1_800_000_000));
    let source = HttpKeySource::new(
        fetcher(Duration::from_secs(2), true),
        clock.clone(),
        JwksSettings {
            min_ttl: Duration::from_secs(1),
            max_ttl: Duration::from_secs(3600),
            refetch_interval: Duration::from_secs(30),
        },
    );
    (issuer, routes, clock, source)
}

#[tokio::test]
async fn key_sets_are_cached_and_refetched_at_a_bounded_rate() {
    let (issuer, routes, clock, source) = provider("cache-control: max-age=600\r\n").await;
    let keys = source.keys_of(&issuer, None).await.unwrap();
    assert!(keys.has_kid("a"));
    source.keys_of(&issuer, None).await.unwrap();
    assert_eq!(
        hits(&routes, "/jwks"),
        1,
        "the second call is served from the cache"
    );

    // The OP rotates; a token with the new kid makes the source refetch.
    let (a, b) = (Signer::rsa(RSA_A), Signer::rsa(RSA_B));
    route(
        &routes,
        "/jwks",
        "200 OK",
        "",
        jwks(&[(&b, "b"), (&a, "a")]),
    );
    let keys = source.keys_of(&issuer, Some("b")).await.unwrap();
    assert!(keys.has_kid("b"));
    assert_eq!(hits(&routes, "/jwks"), 2);
    // A kid the set has: no refetch. Made-up kids: no more than one
    // refetch per interval (this one's was spent on "b"), however many
    // arrive.
    source.keys_of(&issuer, Some("a")).await.unwrap();
    for n in 0..20 {
        let keys = source
            .keys_of(&issuer, Some(&format!("made-up-{n}")))
            .await
            .unwrap();
        assert!(keys.has_kid("b"));
    }
    assert_eq!(hits(&routes, "/jwks"), 2);
    clock.advance(Duration::from_secs(31));
    source.keys_of(&issuer, Some("made-up")).await.unwrap();
    assert_eq!(hits(&routes, "/jwks"), 3);
    source
        .keys_of(&issuer, Some("made-up-again"))
        .await
        .unwrap();
    assert_eq!(hits(&routes, "/jwks"), 3);
}

/// The error of a first fetch whose JWKS answers `status` with `body`.
async fn failure(status: &str, body: String) -> KeyError {
    let (issuer, routes, _clock, source) = provider("").await;
    route(&routes, "/jwks", status, "", body);
    source.keys_of(&issuer, None).await.unwrap_err()
}

#[tokio::test]
async fn each_failure_is_classed() {
    let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(600 * 1024));
    let e = failure("200 OK", big).await;
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("larger")),
        "{e:?}"
    );
    let e = failure("503 Service Unavailable", String::new()).await;
    assert!(matches!(e, KeyError::Unreachable(_)), "{e:?}");
    let e = failure("404 Not Found", String::new()).await;
    assert!(matches!(e, KeyError::Unusable(_)), "{e:?}");
    let e = failure("200 OK", "not json".to_owned()).await;
    assert!(matches!(e, KeyError::Unusable(_)), "{e:?}");

    // A discovery document naming another issuer.
    let (issuer, routes, _clock, source) = provider("").await;
    let other = serde_json::json!({"issuer": "https://elsewhere.example", "jwks_uri": format!("{issuer}/jwks")});
    route(
        &routes,
        "/.well-known/openid-configuration",
        "200 OK",
        "",
        other.to_string(),
    );
    let e = source.keys_of(&issuer, None).await.unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("names the issuer")),
        "{e:?}"
    );
    // The failure is held: the IdP is not asked again at once, even when
    // it has recovered.
    let hits_before = hits(&routes, "/.well-known/openid-configuration");
    let good = serde_json::json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    route(
        &routes,
        "/.well-known/openid-configuration",
        "200 OK",
        "",
        good.to_string(),
    );
    for _ in 0..5 {
        assert_eq!(source.keys_of(&issuer, None).await.unwrap_err(), e);
    }
    assert_eq!(
        hits(&routes, "/.well-known/openid-configuration"),
        hits_before
    );

    // Nothing listens: unreachable.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let e = source
        .keys_of(&format!("http://{closed}"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyError::Unreachable(_)), "{e:?}");
}

#[tokio::test]
async fn plain_http_only_to_loopback_with_the_switch_and_timeouts_bound_a_fetch() {
    let (addr, routes) = serve().await;
    route(
        &routes,
        "/doc",
        "200 OK",
        "cache-control: max-age=42\r\n",
        "{}".to_owned(),
    );
    let url = format!("http://{addr}/doc");
    let strict = fetcher(Duration::from_secs(2), false);
    let e = strict.get(&url).await.unwrap_err();
    assert!(
        matches!(&e, KeyError::Unusable(m) if m.contains("https")),
        "{e:?}"
    );
    let dev = fetcher(Duration::from_secs(1), true);
    let got = dev.get(&url).await.unwrap();
    assert_eq!((got.body.as_ref(), got.max_age), (&b"{}"[..], Some(42)));
    for refused in [
        "http://192.0.2.1/jwks",
        "http://example.com/jwks",
        "ftp://127.0.0.1/x",
    ] {
        assert!(
            matches!(dev.get(refused).await, Err(KeyError::Unusable(_))),
            "{refused}"
        );
    }
    // A path the server never answers: the deadline ends the fetch.
    let e = dev.get(&format!("http://{addr}/hangs")).await.unwrap_err();
    assert!(
        matches!(&e, KeyError::Unreachable(m) if m.contains("did not answer")),
        "{e:?}"
    );
}
