//! `[federation]`, validated.
//!
//! Owns: [`FederationConfig`] — the clock skew of token and assertion
//! times, and each `[[federation.providers]]` entry: a provider ARN
//! (`oidc-provider/…` or `saml-provider/…`, each named once) and its claim
//! mapping, whose transitive keys must be keys it maps, and for OIDC an
//! inline JWKS (`jwks` or `jwks_file`, read and parsed here, so a bad one
//! stops the start); plus the fetching of OIDC keys ([`OidcFetchConfig`]:
//! the CA bundle, the loopback development switch, timeouts, cache TTL
//! bounds, the refetch interval, the token age). Errors name the entry's
//! line. Imports domain newtypes and the sibling modules only.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::file::{FederationSection, ProviderSection};
use crate::domain::ids::Arn;
use crate::domain::oidc::KeySet;
use crate::domain::sts::ClaimMapping;

/// `[federation]`, validated.
#[derive(Debug, Clone, Default)]
pub struct FederationConfig {
    /// Clock skew allowed on token and assertion times.
    pub clock_skew: Duration,
    /// Per-provider settings, at most one per ARN.
    pub providers: Vec<ProviderConfig>,
    /// Fetching OIDC provider keys.
    pub oidc: OidcFetchConfig,
    /// `[federation.saml]`.
    pub saml: SamlConfig,
}

/// `[federation.saml]`, validated.
#[derive(Debug, Clone, Default)]
pub struct SamlConfig {
    /// Accepted audiences (non-empty).
    pub audiences: Vec<String>,
    /// Accepted recipients; `None` for the defaults.
    pub recipients: Option<Vec<String>>,
    /// Refuse a replayed assertion ID.
    pub reject_replay: bool,
}

/// How OIDC discovery and JWKS are fetched and cached.
#[derive(Debug, Clone, Default)]
pub struct OidcFetchConfig {
    /// CA certificates trusted besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Plain http:// to loopback hosts (development only).
    pub allow_insecure_loopback: bool,
    /// Fetches to loopback, private or link-local addresses (SSRF guard off).
    pub allow_private_addresses: bool,
    /// Hosts a `jwks_uri` may name besides its issuer's (lower case).
    pub jwks_hosts: Vec<String>,
    /// Deadline of one fetch.
    pub fetch_timeout: Duration,
    /// Least time a key set is cached.
    pub cache_min_ttl: Duration,
    /// Longest time a key set is cached.
    pub cache_max_ttl: Duration,
    /// Least time between refetches for an unknown `kid`, per issuer.
    pub refetch_interval: Duration,
    /// Tokens issued longer ago are refused, when set.
    pub max_token_age: Option<Duration>,
}

/// One `[[federation.providers]]` entry.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The IAM provider's ARN.
    pub arn: Arn,
    /// What its claims or attributes become.
    pub claims: ClaimMapping,
    /// OIDC: the key set given inline, used instead of discovery.
    pub jwks: Option<KeySet>,
    /// SAML providers: the SP key that decrypts their assertions.
    pub saml_private_key_file: Option<PathBuf>,
}

// === impl FederationConfig ===

impl FederationConfig {
    /// The settings of the provider `arn`, if configured.
    pub fn provider(&self, arn: &Arn) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.arn == *arn)
    }
}

/// Validates `[federation]` of the file `origin` whose text is `text`.
pub(super) fn federation_config(
    raw: FederationSection,
    origin: &str,
    text: &str,
) -> Result<FederationConfig, ConfigError> {
    let mut providers: Vec<ProviderConfig> = Vec::with_capacity(raw.providers.len());
    for (i, p) in raw.providers.into_iter().enumerate() {
        let offset = p.arn.span().start;
        let fail = |key: &str, message: String| {
            ConfigError::at_offset(
                origin,
                text,
                Some(offset),
                Some(format!("federation.providers[{i}].{key}")),
                message,
            )
        };
        let provider = provider_config(p).map_err(|(key, m)| fail(key, m))?;
        if providers.iter().any(|q| q.arn == provider.arn) {
            return Err(fail("arn", format!("{} is configured twice", provider.arn)));
        }
        providers.push(provider);
    }
    let o = raw.oidc;
    if let Some(h) = o.jwks_hosts.iter().find(|h| !is_host_name(h)) {
        return Err(ConfigError::at_offset(
            origin,
            text,
            None,
            Some("federation.oidc.jwks_hosts".into()),
            format!("'{h}' is not a host name (no scheme, port or path)"),
        ));
    }
    let saml = raw.saml;
    if saml.audiences.iter().all(String::is_empty) {
        return Err(ConfigError::at_offset(
            origin,
            text,
            None,
            Some("federation.saml.audiences".into()),
            "at least one audience is required".to_owned(),
        ));
    }
    Ok(FederationConfig {
        clock_skew: Duration::from_secs(raw.clock_skew_secs.0),
        providers,
        oidc: OidcFetchConfig {
            ca_file: raw.ca_file,
            allow_insecure_loopback: raw.allow_insecure_loopback,
            allow_private_addresses: raw.allow_private_addresses,
            jwks_hosts: o
                .jwks_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            fetch_timeout: Duration::from_secs(o.fetch_timeout_secs.0),
            cache_min_ttl: Duration::from_secs(o.cache_min_ttl_secs.0),
            cache_max_ttl: Duration::from_secs(o.cache_max_ttl_secs.0),
            refetch_interval: Duration::from_secs(o.refetch_interval_secs.0),
            max_token_age: o.max_token_age_secs.map(|b| Duration::from_secs(b.0)),
        },
        saml: SamlConfig {
            audiences: saml.audiences,
            recipients: saml.recipients,
            reject_replay: saml.reject_replay,
        },
    })
}

/// Whether `h` is a bare host name or IP address.
fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
        && (!h.contains(':') || h.starts_with('['))
}

/// One entry, or the key and message of its first fault.
fn provider_config(p: ProviderSection) -> Result<ProviderConfig, (&'static str, String)> {
    let arn = p.arn.into_inner();
    let resource = arn.resource();
    let is_provider = arn.service() == "iam"
        && arn.account_id().is_some()
        && (resource.starts_with("oidc-provider/") || resource.starts_with("saml-provider/"));
    if !is_provider {
        return Err((
            "arn",
            format!("{arn} is not the ARN of an IAM OIDC or SAML provider"),
        ));
    }
    let jwks = inline_jwks(&arn, p.jwks, p.jwks_file)?;
    if p.saml_private_key_file.is_some() && !resource.starts_with("saml-provider/") {
        return Err((
            "saml_private_key_file",
            format!("{arn} is not a SAML provider"),
        ));
    }
    let c = p.claims;
    if let Some(k) = c.transitive.iter().find(|k| !c.tags.contains_key(*k)) {
        return Err((
            "claims.transitive",
            format!("{k} is not a key of claims.tags"),
        ));
    }
    if let Some(name) = c
        .keys
        .keys()
        .find(|n| n.is_empty() || n.contains(':') || n.len() > 128)
    {
        return Err((
            "claims.keys",
            format!("'{name}' is not a condition key name (1–128 characters, no ':')"),
        ));
    }
    let claim_names = c
        .tags
        .values()
        .chain(c.keys.values())
        .chain(c.source_identity.iter());
    if claim_names.clone().any(String::is_empty) {
        return Err(("claims", "a claim name is empty".to_owned()));
    }
    Ok(ProviderConfig {
        arn,
        claims: ClaimMapping {
            tags: c.tags.into_iter().collect(),
            transitive: c.transitive,
            source_identity: c.source_identity,
            keys: c.keys.into_iter().collect(),
        },
        jwks,
        saml_private_key_file: p.saml_private_key_file,
    })
}

/// An entry's inline key set: `jwks` or the file `jwks_file`, for an OIDC
/// provider only.
fn inline_jwks(
    arn: &Arn,
    text: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<KeySet>, (&'static str, String)> {
    let (key, bytes) = match (text, file) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(("jwks_file", "set jwks or jwks_file, not both".to_owned()));
        }
        (Some(text), None) => ("jwks", text.into_bytes()),
        (None, Some(path)) => (
            "jwks_file",
            std::fs::read(&path).map_err(|e| ("jwks_file", format!("{}: {e}", path.display())))?,
        ),
    };
    if !arn.resource().starts_with("oidc-provider/") {
        return Err((key, format!("{arn} is not an OIDC provider")));
    }
    let keys = KeySet::parse(&bytes).map_err(|e| (key, e.to_string()))?;
    if keys.is_empty() {
        return Err((key, "the key set has no usable signature key".to_owned()));
    }
    Ok(Some(keys))
}
