//! Where environment overrides come from.
//!
//! Owns: the [`Source`] trait configuration reads its overrides through
//! (linkerd's `Strings`): the process environment in production
//! ([`Environment`]), a map in tests, so no test mutates the environment.
//! Also the names of every variable stsd reads. Imports std only.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// `STSD_DATA_DIR`: the embedded store's data directory.
pub const DATA_DIR: &str = "STSD_DATA_DIR";
/// `STSD_LISTEN`: the address the Query API listens on.
pub const LISTEN: &str = "STSD_LISTEN";
/// `STSD_ACCOUNT_ID`: the default account.
pub const ACCOUNT_ID: &str = "STSD_ACCOUNT_ID";
/// `STSD_ROOT_ACCESS_KEY_ID`: the default account's root access key id.
pub const ROOT_ACCESS_KEY_ID: &str = "STSD_ROOT_ACCESS_KEY_ID";
/// `STSD_ROOT_SECRET_ACCESS_KEY`: the default account's root secret key.
pub const ROOT_SECRET_ACCESS_KEY: &str = "STSD_ROOT_SECRET_ACCESS_KEY";
/// `STSD_MASTER_KEY`: the master key, 32 bytes in base64.
pub const MASTER_KEY: &str = "STSD_MASTER_KEY";
/// `STSD_MASTER_KEY_FILE`: a 0600 file holding the master key in base64.
pub const MASTER_KEY_FILE: &str = "STSD_MASTER_KEY_FILE";

/// `STSD_FEDERATION_CA_FILE`: a PEM bundle of CA certificates trusted,
/// besides the system's, for OIDC discovery, JWKS and metadata fetches.
pub const FEDERATION_CA_FILE: &str = "STSD_FEDERATION_CA_FILE";

/// `STSD_STORE_BACKEND`: `embedded` or `redis` (overrides `store.backend`).
pub const STORE_BACKEND: &str = "STSD_STORE_BACKEND";
/// `STSD_REDIS_URL`: the Redis URL (overrides `store.redis.url`); may
/// carry a password, so it is never logged.
pub const REDIS_URL: &str = "STSD_REDIS_URL";
/// `STSD_REDIS_URLS`: comma-separated cluster seeds or sentinel addresses
/// (overrides `store.redis.urls`).
pub const REDIS_URLS: &str = "STSD_REDIS_URLS";

/// Every variable stsd reads, for documentation and `check-config`.
pub const ALL: [&str; 11] = [
    DATA_DIR,
    LISTEN,
    ACCOUNT_ID,
    ROOT_ACCESS_KEY_ID,
    ROOT_SECRET_ACCESS_KEY,
    MASTER_KEY,
    MASTER_KEY_FILE,
    FEDERATION_CA_FILE,
    STORE_BACKEND,
    REDIS_URL,
    REDIS_URLS,
];

/// A set of named string settings.
pub trait Source {
    /// The value of `name`; `Ok(None)` when unset or empty (an empty
    /// variable, as container runtimes often set, counts as unset).
    ///
    /// # Errors
    ///
    /// A value that is not valid UTF-8.
    fn get(&self, name: &str) -> Result<Option<String>, NotUnicode>;
}

/// A variable whose value is not UTF-8. The value is not kept: it may be a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not valid UTF-8")]
pub struct NotUnicode(pub String);

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Environment;

// === impl Environment ===

impl Source for Environment {
    fn get(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        match std::env::var(name) {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(NotUnicode(name.to_owned())),
        }
    }
}

impl<S: BuildHasher> Source for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        Ok(HashMap::get(self, name).filter(|v| !v.is_empty()).cloned())
    }
}

impl Source for BTreeMap<&str, &str> {
    fn get(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        Ok(BTreeMap::get(self, name)
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_sources_and_empty_means_unset() {
        let map = BTreeMap::from([(LISTEN, "127.0.0.1:1"), (DATA_DIR, "")]);
        assert_eq!(
            Source::get(&map, LISTEN).unwrap().as_deref(),
            Some("127.0.0.1:1")
        );
        assert_eq!(Source::get(&map, DATA_DIR).unwrap(), None);
        assert_eq!(Source::get(&map, ACCOUNT_ID).unwrap(), None);
    }
}
