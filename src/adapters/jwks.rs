//! OIDC provider keys over HTTPS, cached: the adapter of the `IdpKeys`
//! port (`service::sts::web_identity::keys`).
//!
//! Owns: [`HttpKeySource`] — discovery (`<iss>/.well-known/openid-configuration`,
//! whose `issuer` must equal the token's `iss`), then its `jwks_uri`, each
//! a bounded GET ([`fetch`]: https, private CA bundle ([`tls`]), timeouts,
//! size limit); the key set cached per issuer in moka for the JWKS's
//! `Cache-Control: max-age`, bounded by the configured minimum and maximum
//! (an hour when the header is absent), concurrent misses sharing one
//! fetch, a failed fetch remembered for [`FAILURE_HOLD`]; and the refetch on an unknown `kid` at most once per
//! `refetch_interval` per issuer, whatever the request rate, so tokens
//! with made-up `kid`s cannot turn stsd into a load generator against the
//! IdP. May import `service` and `domain`, hyper, rustls and moka; never
//! `api`.

pub mod fetch;
pub mod tls;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;
use parking_lot::Mutex;

use crate::domain::clock::Clock;
use crate::domain::ids::OidcProviderUrl;
use crate::domain::oidc::KeySet;
use crate::service::sts::web_identity::{IdpKeys, KeyError};
use crate::telemetry::metrics::IdpDocument;
use fetch::Fetcher;

/// How long a key set is kept when its response says nothing.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// At most this many issuers' key sets are cached.
const MAX_ISSUERS: u64 = 1_000;
/// How long a failed fetch is remembered: requests in that time get the
/// same error instead of hammering an IdP that is down.
pub const FAILURE_HOLD: Duration = Duration::from_secs(5);

/// The key source's settings.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// The shortest time a key set is cached, whatever its headers say.
    pub min_ttl: Duration,
    /// The longest.
    pub max_ttl: Duration,
    /// The least time between two refetches for an unknown `kid`, per
    /// issuer.
    pub refetch_interval: Duration,
}

/// Key sets fetched by discovery, cached.
#[derive(Debug, Clone)]
pub struct HttpKeySource {
    fetcher: Fetcher,
    cache: Cache<String, Result<Cached, KeyError>>,
    clock: Arc<dyn Clock>,
    settings: JwksSettings,
    /// When each issuer was last refetched for an unknown `kid`, seconds.
    refetched: Arc<Mutex<HashMap<String, u64>>>,
}

/// A cached key set and how long it lives.
#[derive(Debug, Clone)]
struct Cached {
    keys: Arc<KeySet>,
    ttl: Duration,
}

/// Each entry lives for its own TTL.
struct ByTtl;

impl Expiry<String, Result<Cached, KeyError>> for ByTtl {
    #[expect(
        clippy::disallowed_types,
        reason = "moka's Expiry trait names its own creation instant; unused here"
    )]
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Result<Cached, KeyError>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.as_ref().map_or(FAILURE_HOLD, |c| c.ttl))
    }
}

// === impl HttpKeySource ===

impl HttpKeySource {
    /// A source fetching with `fetcher`, timing refetches with `clock`.
    pub fn new(fetcher: Fetcher, clock: Arc<dyn Clock>, settings: JwksSettings) -> Self {
        Self {
            fetcher,
            cache: Cache::builder()
                .max_capacity(MAX_ISSUERS)
                .expire_after(ByTtl)
                .build(),
            clock,
            settings,
            refetched: Arc::default(),
        }
    }

    /// Discovery, then the key set.
    async fn fetch(&self, issuer: &str) -> Result<Cached, KeyError> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery = self.fetcher.get(&discovery_url).await;
        record(IdpDocument::OidcDiscovery, discovery.is_ok());
        let discovery = discovery?;
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let doc: Discovery = serde_json::from_slice(&discovery.body).map_err(|_| {
            KeyError::Unusable(format!(
                "{discovery_url} is not a discovery document with issuer and jwks_uri"
            ))
        })?;
        if doc.issuer != issuer {
            return Err(KeyError::Unusable(format!(
                "{discovery_url} names the issuer {}, not {issuer}",
                doc.issuer.chars().take(256).collect::<String>()
            )));
        }
        self.fetcher
            .policy()
            .check_jwks_host(issuer, &doc.jwks_uri)?;
        let jwks = self.fetcher.get(&doc.jwks_uri).await;
        let keys = jwks.and_then(|jwks| {
            KeySet::parse(&jwks.body)
                .map(|keys| (jwks, keys))
                .map_err(|e| KeyError::Unusable(format!("{}: {e}", doc.jwks_uri)))
        });
        record(IdpDocument::Jwks, keys.is_ok());
        let (jwks, keys) = keys?;
        let ttl = jwks.max_age.map_or(DEFAULT_TTL, Duration::from_secs).clamp(
            self.settings.min_ttl,
            self.settings.max_ttl.max(self.settings.min_ttl),
        );
        tracing::info!(
            issuer,
            keys = keys.len(),
            ttl_secs = ttl.as_secs(),
            "fetched the key set of an OIDC provider"
        );
        Ok(Cached {
            keys: Arc::new(keys),
            ttl,
        })
    }

    /// Whether a refetch of `issuer` is due; records it when it is.
    fn refetch_due(&self, issuer: &str) -> bool {
        let now = self.clock.now().as_secs();
        let mut last = self.refetched.lock();
        let due = last
            .get(issuer)
            .is_none_or(|t| now.saturating_sub(*t) >= self.settings.refetch_interval.as_secs());
        if due {
            if last.len() >= 10 * usize::try_from(MAX_ISSUERS).unwrap_or(usize::MAX) {
                last.clear();
            }
            last.insert(issuer.to_owned(), now);
        }
        due
    }

    /// [`IdpKeys::keys`] for the issuer URL `issuer` (any scheme the
    /// fetcher allows).
    async fn keys_of(
        &self,
        issuer: &str,
        unknown_kid: Option<&str>,
    ) -> Result<Arc<KeySet>, KeyError> {
        crate::telemetry::metrics::metrics().cache(
            crate::telemetry::metrics::Cache::Jwks,
            self.cache.contains_key(issuer),
        );
        let cached = self
            .cache
            .get_with(issuer.to_owned(), self.fetch(issuer))
            .await?;
        let Some(kid) = unknown_kid else {
            return Ok(cached.keys);
        };
        if cached.keys.has_kid(kid) || !self.refetch_due(issuer) {
            return Ok(cached.keys);
        }
        // A failed refetch keeps the set that works.
        let fresh = self.fetch(issuer).await?;
        self.cache
            .insert(issuer.to_owned(), Ok(fresh.clone()))
            .await;
        Ok(fresh.keys)
    }
}

#[async_trait]
impl IdpKeys for HttpKeySource {
    async fn keys(
        &self,
        issuer: &OidcProviderUrl,
        unknown_kid: Option<&str>,
    ) -> Result<Arc<KeySet>, KeyError> {
        self.keys_of(issuer.as_str(), unknown_kid).await
    }
}

/// Counts a fetch in `stsd_idp_refreshes_total`.
fn record(document: IdpDocument, ok: bool) {
    crate::telemetry::metrics::metrics().idp_refresh(document, ok);
}

#[cfg(test)]
mod ssrf_tests;
#[cfg(test)]
mod tests;
