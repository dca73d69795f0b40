//! The cache of derived SigV4 signing keys.
//!
//! Owns: [`SigningKeyCache`], which keeps the key derived for an (access
//! key id, date, region, service) scope so that only a key's first request
//! of the day in a region pays the four HMACs of the derivation. A cached
//! key is used only after the access key has been looked up and found
//! active (or its session token opened, matched and found unexpired), so
//! the cache never outlives a deleted or deactivated key's refusal; a
//! long-term access key id names one secret for its whole life (ids are
//! never reused), so the scope is a complete cache key. Sessions do not
//! use it: their keys are kept with the opened token (`session.rs`), as
//! `ASIA…` ids are unique only with their token. Bounded (moka, size from
//! `[caches] signing_keys`): the least useful scopes are evicted (entries
//! are cheap to rebuild, and the day's scope changes daily anyway). May
//! import `domain`.

use moka::sync::Cache;

use crate::domain::secret::{SecretAccessKey, SigningKey};
use crate::domain::sigv4::CredentialScope;

/// Scopes kept when no size is configured.
pub(super) const DEFAULT_CAPACITY: u64 = 16_384;

/// Derived signing keys by `access key id \n date \n region \n service`.
pub(crate) struct SigningKeyCache {
    keys: Cache<String, SigningKey>,
}

impl SigningKeyCache {
    /// An empty cache of at most `capacity` scopes.
    pub(crate) fn with_capacity(capacity: u64) -> Self {
        Self {
            keys: Cache::new(capacity.max(1)),
        }
    }

    /// The signing key of `scope` for `access_key_id`, derived from
    /// `secret` on a miss.
    pub(crate) fn get(
        &self,
        access_key_id: &str,
        scope: &CredentialScope<'_>,
        secret: &SecretAccessKey,
    ) -> SigningKey {
        let k = [access_key_id, scope.date, scope.region, scope.service].join("\n");
        let hit = self.keys.get(&k);
        crate::telemetry::metrics::metrics()
            .cache(crate::telemetry::metrics::Cache::SigningKeys, hit.is_some());
        if let Some(key) = hit {
            return key;
        }
        // Derived outside the lock: a concurrent miss derives twice, which
        // is harmless.
        let key = SigningKey::derive(secret, scope.date, scope.region, scope.service);
        self.keys.insert(k, key.clone());
        key
    }

    /// Scopes held (moka's count, which lags until pending work has run).
    pub(crate) fn entry_count(&self) -> u64 {
        self.keys.entry_count()
    }

    /// Runs moka's pending maintenance now.
    pub(crate) fn run_pending_tasks(&self) {
        self.keys.run_pending_tasks();
    }

    /// Scopes held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.keys.run_pending_tasks();
        self.keys.entry_count()
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(date: &'a str, region: &'a str) -> CredentialScope<'a> {
        CredentialScope {
            date,
            region,
            service: "sts",
            terminator: "aws4_request",
        }
    }

    fn secret(s: &str) -> SecretAccessKey {
        s.parse().unwrap()
    }

    #[test]
    fn hits_return_the_derived_key_and_scopes_are_separate() {
        let cache = SigningKeyCache::with_capacity(8);
        let s = secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let a = cache.get("AKIAIOSFODNN7EXAMPLE", &scope("20250301", "us-east-1"), &s);
        let expected = SigningKey::derive(&s, "20250301", "us-east-1", "sts");
        assert!(a == expected);
        // A hit does not derive again: a different secret under the same
        // scope still yields the cached key.
        let other = secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let again = cache.get(
            "AKIAIOSFODNN7EXAMPLE",
            &scope("20250301", "us-east-1"),
            &other,
        );
        assert!(again == expected);
        let next_day = cache.get("AKIAIOSFODNN7EXAMPLE", &scope("20250302", "us-east-1"), &s);
        assert!(next_day != expected);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_full_cache_stays_within_its_size() {
        let cache = SigningKeyCache::with_capacity(2);
        let s = secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        for region in ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"] {
            cache.get("AKIAIOSFODNN7EXAMPLE", &scope("20250301", region), &s);
        }
        assert!(cache.len() <= 2, "{} scopes held", cache.len());
    }
}
