//! A connection URL that may carry a password.
//!
//! Owns: [`SecretUrl`], the type of `redis://user:password@host:port/db`
//! (and `rediss://`, Sentinel and Cluster seed addresses): `Debug` prints
//! the scheme, host and port only, with any user name, password, path and
//! query left out, so a URL reaches no log line with its credentials; the
//! text zeroizes on drop; [`SecretUrl::expose_secret`] is the one accessor.
//! Pure: std, subtle and zeroize.

use std::fmt;

use zeroize::Zeroizing;

/// A URL whose user-info part may hold credentials.
#[derive(Clone)]
pub struct SecretUrl(Zeroizing<String>);

// === impl SecretUrl ===

impl SecretUrl {
    /// Wraps `url` (not validated: the consumer parses it).
    pub fn new(url: String) -> Self {
        Self(Zeroizing::new(url))
    }

    /// The whole URL, credentials included: only for the client that
    /// connects with it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// `scheme://host:port`, without user-info, path or query: safe to log.
    pub fn redacted(&self) -> String {
        let text = self.0.as_str();
        let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if scheme.is_empty() {
            host.to_owned()
        } else {
            format!("{scheme}://{host}")
        }
    }

    /// The scheme before `://`, if any.
    pub fn scheme(&self) -> Option<&str> {
        self.0.split_once("://").map(|(s, _)| s)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl PartialEq for SecretUrl {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretUrl {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redacted_leave_credentials_out() {
        let url = SecretUrl::new("rediss://app:hunter2@redis.internal:6380/0?x=y".into());
        assert_eq!(url.redacted(), "rediss://redis.internal:6380");
        let printed = format!("{url:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("app"),
            "{printed}"
        );
        assert_eq!(url.scheme(), Some("rediss"));
        assert_eq!(
            url.expose_secret(),
            "rediss://app:hunter2@redis.internal:6380/0?x=y"
        );
        let bare = SecretUrl::new("127.0.0.1:7000".into());
        assert_eq!(bare.redacted(), "127.0.0.1:7000");
        assert_eq!(bare.scheme(), None);
    }
}
