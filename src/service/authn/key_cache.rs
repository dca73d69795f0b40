//! The cache of derived SigV4 signing keys.
//!
//! Owns: [`SigningKeyCache`], which keeps the key derived for an (access
//! key id, date, region, service) scope so that only a key's first request
//! of the day in a region pays the four HMACs of the derivation. A cached
//! key is used only after the access key has been looked up and found
//! active (or its session token opened, matched and found unexpired), so
//! the cache never outlives a deleted or deactivated key's refusal; a
//! long-term access key id names one secret for its whole life (ids are
//! never reused), so the scope is a complete cache key. Session key ids
//! are unique only with their token, so the session branch passes the id
//! joined with a fingerprint of the secret. Bounded: when full
//! it is emptied (entries are cheap to rebuild, and the day's scope changes
//! daily anyway). May import `domain`.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::domain::secret::{SecretAccessKey, SigningKey};
use crate::domain::sigv4::CredentialScope;

/// Scopes kept before the cache is emptied.
const DEFAULT_CAPACITY: usize = 16_384;

/// `(access key id, date, region, service)`.
type Scope = (String, String, String, String);

/// Derived signing keys by scope.
pub(crate) struct SigningKeyCache {
    keys: Mutex<HashMap<Scope, SigningKey>>,
    capacity: usize,
}

impl SigningKeyCache {
    /// An empty cache of at most `capacity` scopes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            keys: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
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
        let k: Scope = (
            access_key_id.to_owned(),
            scope.date.to_owned(),
            scope.region.to_owned(),
            scope.service.to_owned(),
        );
        if let Some(key) = self.keys.lock().get(&k) {
            return key.clone();
        }
        // Derived outside the lock: a concurrent miss derives twice, which
        // is harmless.
        let key = SigningKey::derive(secret, scope.date, scope.region, scope.service);
        let mut keys = self.keys.lock();
        if keys.len() >= self.capacity {
            keys.clear();
        }
        keys.insert(k, key.clone());
        key
    }

    /// Scopes held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.lock().len()
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
    fn a_full_cache_is_emptied_not_grown() {
        let cache = SigningKeyCache::with_capacity(2);
        let s = secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        for region in ["us-east-1", "us-west-2", "eu-west-1"] {
            cache.get("AKIAIOSFODNN7EXAMPLE", &scope("20250301", region), &s);
        }
        assert_eq!(cache.len(), 1);
    }
}
