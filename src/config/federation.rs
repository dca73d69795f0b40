//! `[federation]`, validated.
//!
//! Owns: [`FederationConfig`] — the clock skew of token and assertion
//! times, and each `[[federation.providers]]` entry: a provider ARN
//! (`oidc-provider/…` or `saml-provider/…`, each named once) and its claim
//! mapping, whose transitive keys must be keys it maps. Errors name the
//! entry's line. Imports domain newtypes and the sibling modules only.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::file::{FederationSection, ProviderSection};
use crate::domain::ids::Arn;
use crate::domain::sts::ClaimMapping;

/// `[federation]`, validated.
#[derive(Debug, Clone, Default)]
pub struct FederationConfig {
    /// Clock skew allowed on token and assertion times.
    pub clock_skew: Duration,
    /// Per-provider settings, at most one per ARN.
    pub providers: Vec<ProviderConfig>,
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

/// One `[[federation.providers]]` entry.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The IAM provider's ARN.
    pub arn: Arn,
    /// What its claims or attributes become.
    pub claims: ClaimMapping,
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
        saml: SamlConfig {
            audiences: saml.audiences,
            recipients: saml.recipients,
            reject_replay: saml.reject_replay,
        },
    })
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
        saml_private_key_file: p.saml_private_key_file,
    })
}
