//! One bounded HTTPS GET of a discovery document or a key set.
//!
//! Owns: [`Fetcher`] — hyper's client over hyper-rustls (the server's
//! hyper and rustls; HTTP/1.1), the URL rule (`https://` only; plain
//! `http://` only to a loopback host and only with `[federation]
//! allow_insecure_loopback`), a connect timeout and an overall deadline,
//! no redirects followed, a size limit on the body, and the split of
//! failures into unreachable (connection, TLS, timeout, 5xx) and unusable
//! (another status, too large), plus the `max-age` of `Cache-Control`.

use std::net::IpAddr;
use std::time::Duration;

use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
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

/// The HTTP client of the key source.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    allow_insecure_loopback: bool,
}

// === impl Fetcher ===

impl Fetcher {
    /// A client trusting `tls`'s roots; each fetch takes at most
    /// `timeout`.
    pub fn new(
        tls: rustls::ClientConfig,
        timeout: Duration,
        allow_insecure_loopback: bool,
    ) -> Self {
        let mut http = HttpConnector::new();
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
            allow_insecure_loopback,
        }
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
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| KeyError::Unreachable(format!("{url}: {}", chain(&e))))?;
            let status = response.status();
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

    /// `url` when it is https, or http to loopback with the dev setting.
    fn check_url(&self, url: &str) -> Result<Uri, KeyError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| KeyError::Unusable(format!("{url} is not a URL")))?;
        match uri.scheme_str() {
            Some("https") => Ok(uri),
            Some("http") if self.allow_insecure_loopback && is_loopback(uri.host()) => Ok(uri),
            _ => Err(KeyError::Unusable(format!(
                "{url} is not an https:// URL (plain http:// is refused, except to a loopback host with [federation] allow_insecure_loopback)"
            ))),
        }
    }
}

/// Whether `host` is `localhost` or a loopback address.
fn is_loopback(host: Option<&str>) -> bool {
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

/// An error and its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
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
}
