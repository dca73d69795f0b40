//! Identity-provider identifiers: SAML provider names and OIDC provider URLs.
//!
//! Owns: [`SamlProviderName`] and [`OidcProviderUrl`], the pieces of
//! `saml-provider/…` and `oidc-provider/…` ARNs. Pure.

use super::error::IdError;
use super::spec::{Spec, all_nonempty, is_word, string_newtype};

const SAML_PROVIDER_NAME: Spec = Spec {
    member: "name",
    min: 1,
    max: 128,
    pattern: r"[\w._-]+",
    matches: |v| all_nonempty(v, |c| is_word(c) || matches!(c, '.' | '-')),
};

string_newtype! {
    /// The name of a SAML provider: 1–128 characters of `[\w._-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SamlProviderName;
    spec = SAML_PROVIDER_NAME;
}

/// The model bounds of `OpenIDConnectProviderUrlType` (no pattern).
const OIDC_URL: Spec = Spec {
    member: "url",
    min: 1,
    max: 255,
    pattern: ".*",
    matches: |_| true,
};

/// The scheme every OIDC provider URL starts with.
const HTTPS: &str = "https://";

/// Checks the model bounds, then our URL shape (the model has no pattern;
/// IAM documents that the URL begins with `https://`).
fn check_oidc_url(value: &str) -> Result<(), IdError> {
    OIDC_URL.check(value)?;
    let well_formed = value.strip_prefix(HTTPS).is_some_and(|rest| {
        all_nonempty(rest, |c| {
            ('\u{21}'..='\u{7e}').contains(&c) && !matches!(c, '?' | '#')
        }) && !rest.starts_with('/')
    });
    if well_formed {
        Ok(())
    } else {
        Err(IdError::Format {
            member: OIDC_URL.member.into(),
            value: value.to_owned(),
            expected: "an https:// URL with a host and no query or fragment",
        })
    }
}

string_newtype! {
    /// The issuer URL of an OIDC provider, such as
    /// `https://token.actions.githubusercontent.com`: 1–255 characters,
    /// `https://`, a host, an optional path, and no query or fragment.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct OidcProviderUrl;
    check = check_oidc_url;
}

// === impl OidcProviderUrl ===

impl OidcProviderUrl {
    /// Host and path without the scheme or a trailing `/`: the part that
    /// follows `oidc-provider/` in the provider's ARN.
    pub fn host_and_path(&self) -> &str {
        let rest = self.0.strip_prefix(HTTPS).unwrap_or(&self.0);
        rest.strip_suffix('/').unwrap_or(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saml_names_follow_the_model() {
        assert!("My_Idp-1.0".parse::<SamlProviderName>().is_ok());
        assert!("My Idp".parse::<SamlProviderName>().is_err());
        assert!("a+b".parse::<SamlProviderName>().is_err());
    }

    #[test]
    fn oidc_urls_are_https_with_a_host() {
        let url: OidcProviderUrl = "https://idp.example.com/tenant/".parse().unwrap();
        assert_eq!(url.host_and_path(), "idp.example.com/tenant");
        let url: OidcProviderUrl = "https://localhost:8443".parse().unwrap();
        assert_eq!(url.host_and_path(), "localhost:8443");
        for bad in [
            "http://idp",
            "https://",
            "https:///path",
            "https://a b",
            "https://a?x=1",
        ] {
            let err = bad.parse::<OidcProviderUrl>().unwrap_err();
            assert!(matches!(err, IdError::Format { .. }), "{bad}: {err:?}");
        }
        let long = format!("https://{}", "a".repeat(250));
        assert!(matches!(
            long.parse::<OidcProviderUrl>().unwrap_err(),
            IdError::Constraint { .. }
        ));
    }
}
