//! One bounded HTTPS GET of a discovery document or a key set.
//!
//! Owns: [`Fetcher`] — hyper's client over hyper-rustls (the server's
//! hyper and rustls; HTTP/1.1), the URL rule (`https://` only; plain
//! `http://` only to a loopback host and only with `[federation]
//! allow_insecure_loopback`), a connect timeout and an overall deadline,
//! no redirects followed, a size limit on the body, and the split of
//! failures into unreachable (connection, TLS, timeout, 5xx) and unusable
//! (another status, too large), plus the `max-age` of `Cache-Control`.
//!
//! The SSRF guard (SECURITY.md): the issuer URL comes from whoever may call
//! `iam:CreateOpenIDConnectProvider`, and `jwks_uri` from the IdP's
//! discovery document, so neither may make stsd reach what only it can
//! reach. [`FetchPolicy`]: a redirect is never followed (any 3xx is
//! refused, naming it); a host that is an IP literal, or whose DNS answer
//! is, in a loopback, private, link-local, CGNAT, unique-local, multicast
//! or unspecified range is refused unless `[federation]
//! allow_private_addresses` — checked in the resolver hyper connects
//! through ([`GuardedResolver`]), so the address checked is the address
//! connected to (no DNS rebinding between check and use); `jwks_uri` must
//! be on the issuer's host or a host of `[federation.oidc] jwks_hosts`
//! ([`FetchPolicy::check_jwks_host`]).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

use crate::domain::oidc::jwks::MAX_DOCUMENT_BYTES;
use crate::service::sts::web_identity::KeyError;

/// A document and how long it may be cached, by its headers.
#[derive(Debug)]
pub struct Fetched {
    /// The body.
    pub body: Bytes,
    /// `Cache-Control: max-age`, when given (`no-store` / `no-cache` give
    /// zero).
    pub max_age: Option<u64>,
}

/// Where fetches may go (the SSRF guard).
#[derive(Debug, Clone, Default)]
pub struct FetchPolicy {
    /// Plain `http://` to a loopback host (development only).
    pub allow_insecure_loopback: bool,
    /// Hosts resolving to loopback, private or link-local addresses (an
    /// IdP inside the network, and the tests' IdPs on 127.0.0.1).
    pub allow_private_addresses: bool,
    /// Hosts a `jwks_uri` may name besides its issuer's host (lower case).
    pub jwks_hosts: Vec<String>,
}

/// The HTTP client of the key source.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Empty<Bytes>>,
    timeout: Duration,
    policy: FetchPolicy,
}

/// hyper's DNS resolver with the address rule of [`FetchPolicy`]: the
/// addresses of a name that are not public are dropped, and a name with
/// none left fails to connect, naming them.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

// === impl Fetcher ===

impl Fetcher {
    /// A client trusting `tls`'s roots; each fetch takes at most
    /// `timeout`.
    pub fn new(tls: rustls::ClientConfig, timeout: Duration, policy: FetchPolicy) -> Self {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            allow_private: policy.allow_private_addresses,
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Self {
            client,
            timeout,
            policy,
        }
    }

    /// The policy it fetches under.
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// GETs `url`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Unreachable`] or [`KeyError::Unusable`].
    pub async fn get(&self, url: &str) -> Result<Fetched, KeyError> {
        let uri = self.check_url(url)?;
        let request = Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, "stsd")
            .body(Empty::new())
            .map_err(|e| KeyError::Unusable(format!("{url}: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                // The address guard refused every address of the name:
                // a refusal, like an IP literal's, not an outage.
                if refused_by_guard(&e) {
                    KeyError::Unusable(format!("{url}: {}", chain(&e)))
                } else {
                    KeyError::Unreachable(format!("{url}: {}", chain(&e)))
                }
            })?;
            let status = response.status();
            if status.is_redirection() {
                return Err(KeyError::Unusable(format!(
                    "{url} answered HTTP {status}: redirects are not followed"
                )));
            }
            if status.is_server_error() {
                return Err(KeyError::Unreachable(format!(
                    "{url} answered HTTP {status}"
                )));
            }
            if status != StatusCode::OK {
                return Err(KeyError::Unusable(format!("{url} answered HTTP {status}")));
            }
            let max_age = max_age(response.headers());
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        KeyError::Unusable(format!(
                            "{url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes"
                        ))
                    } else {
                        KeyError::Unreachable(format!("{url}: {e}"))
                    }
                })?
                .to_bytes();
            Ok(Fetched { body, max_age })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                KeyError::Unreachable(format!(
                    "{url} did not answer within {} s",
                    self.timeout.as_secs()
                ))
            })?
    }

    /// `url` when it is https (or http to loopback with the dev setting)
    /// and, when its host is an IP literal, a public one (or private ones
    /// are allowed): hyper connects to a literal without resolving it.
    fn check_url(&self, url: &str) -> Result<Uri, KeyError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| KeyError::Unusable(format!("{url} is not a URL")))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.policy.allow_insecure_loopback && is_loopback(uri.host()) => {}
            _ => {
                return Err(KeyError::Unusable(format!(
                    "{url} is not an https:// URL (plain http:// is refused, except to a loopback host with [federation] allow_insecure_loopback)"
                )));
            }
        }
        let literal = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal
            && !self.policy.allow_private_addresses
            && !is_public(ip)
        {
            return Err(KeyError::Unusable(format!(
                "{url}: {ip} is a loopback, private or link-local address (allowed only with [federation] allow_private_addresses)"
            )));
        }
        Ok(uri)
    }
}

// === impl FetchPolicy ===

impl FetchPolicy {
    /// `jwks_uri` when its host is `issuer`'s or one of `jwks_hosts`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Unusable`] naming both hosts.
    pub fn check_jwks_host(&self, issuer: &str, jwks_uri: &str) -> Result<(), KeyError> {
        let host = |u: &str| {
            u.parse::<Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_ascii_lowercase))
        };
        let (Some(issuer_host), Some(jwks_host)) = (host(issuer), host(jwks_uri)) else {
            return Err(KeyError::Unusable(format!(
                "the jwks_uri {} of {issuer} is not a URL with a host",
                jwks_uri.chars().take(256).collect::<String>()
            )));
        };
        if jwks_host == issuer_host || self.jwks_hosts.contains(&jwks_host) {
            return Ok(());
        }
        Err(KeyError::Unusable(format!(
            "the jwks_uri of {issuer} is on the host {}, which is neither the issuer's host nor in [federation.oidc] jwks_hosts",
            jwks_host.chars().take(256).collect::<String>()
        )))
    }
}

// === impl GuardedResolver ===

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (kept, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = resolved
                .into_iter()
                .partition(|a| allow_private || is_public(a.ip()));
            if kept.is_empty() {
                let refused: Vec<String> = refused.iter().map(|a| a.ip().to_string()).collect();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves only to loopback, private or link-local addresses ({}), allowed only with [federation] allow_private_addresses",
                        refused.join(", ")
                    ),
                ));
            }
            Ok(kept.into_iter())
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, private
/// (RFC 1918, unique local `fc00::/7`), link-local (`169.254/16`,
/// `fe80::/10`: cloud metadata endpoints live there), CGNAT (`100.64/10`),
/// `0/8`, multicast, broadcast, or unspecified; IPv4-mapped IPv6 addresses
/// are judged as the IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether `host` is `localhost` or a loopback address.
pub(crate) fn is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `max-age` of `Cache-Control`; zero for `no-store` / `no-cache`.
fn max_age(headers: &http::HeaderMap) -> Option<u64> {
    let mut found = None;
    for value in headers.get_all(http::header::CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-store" || lower == "no-cache" {
                return Some(0);
            }
            if let Some(n) = lower.strip_prefix("max-age=") {
                found = n.trim_matches('"').parse().ok().or(found);
            }
        }
    }
    found
}

/// Whether `e` comes from [`GuardedResolver`] refusing a name.
fn refused_by_guard(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// An error and its sources, on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_and_loopback_rules() {
        let mut h = http::HeaderMap::new();
        assert_eq!(max_age(&h), None);
        h.insert(
            http::header::CACHE_CONTROL,
            "public, max-age=600".parse().unwrap(),
        );
        assert_eq!(max_age(&h), Some(600));
        h.insert(http::header::CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(max_age(&h), Some(0));
        for (host, loopback) in [
            ("127.0.0.1", true),
            ("127.9.9.9", true),
            ("[::1]", true),
            ("localhost", true),
            ("10.0.0.1", false),
            ("example.com", false),
        ] {
            assert_eq!(is_loopback(Some(host)), loopback, "{host}");
        }
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for (ip, public) in [
            ("8.8.8.8", true),
            ("93.184.216.34", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("224.0.0.1", false),
            ("255.255.255.255", false),
            ("::1", false),
            ("::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("ff02::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
        ] {
            assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn jwks_uri_must_be_on_the_issuer_host_or_a_configured_one() {
        let policy = FetchPolicy {
            jwks_hosts: vec!["www.googleapis.com".into()],
            ..FetchPolicy::default()
        };
        let iss = "https://accounts.example.com";
        policy
            .check_jwks_host(iss, "https://ACCOUNTS.example.com/keys")
            .unwrap();
        policy
            .check_jwks_host(iss, "https://www.googleapis.com/oauth2/v3/certs")
            .unwrap();
        for bad in [
            "https://169.254.169.254/latest/meta-data",
            "https://accounts.example.com.evil.test/keys",
            "/relative",
        ] {
            let e = policy.check_jwks_host(iss, bad).unwrap_err().to_string();
            assert!(e.contains("jwks_uri"), "{bad}: {e}");
        }
    }
}
