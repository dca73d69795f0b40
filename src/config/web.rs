//! `[web]`: browser sign-in and `stsd login` (issue 9).
//!
//! Owns: [`WebSection`] (as written: every key defaulted, unknown keys
//! refused) and [`WebConfig`] (validated: provider names are URL-safe and
//! unique, issuers and SSO URLs are absolute URLs, the public URL has no
//! trailing slash, IdP-facing lifetimes are bounded). The client secret of
//! a confidential OIDC client is read from a 0600 file by the composition
//! root, never stored here. Imports std, serde, toml and domain newtypes.
//!
//! ```toml
//! [web]
//! public_url = "https://sts.example.com"   # default: the listen address
//! users = true                              # IAM users sign in with a password
//! login_ttl_secs = 600
//! session_ttl_secs = 3600
//!
//! [[web.oidc]]
//! name = "corp"
//! label = "Corp SSO"
//! issuer = "https://login.example.com"
//! client_id = "stsd"
//! # client_secret_file = "/etc/stsd/oidc-client-secret"
//! scopes = ["email", "profile"]
//! # account = "123456789012"   # whose roles are offered (default account)
//! # roles = ["arn:aws:iam::123456789012:role/Dev"]  # default: every role
//!
//! [[web.saml]]
//! name = "corp-saml"
//! label = "Corp SAML"
//! provider_arn = "arn:aws:iam::123456789012:saml-provider/corp"
//! sso_url = "https://idp.example.com/sso"
//! allow_idp_initiated = true
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::error::ConfigError;
use super::file::Bounded;
use crate::domain::ids::{AccountId, Arn};

/// `[web]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// The broker's external base URL; default: `http(s)://<listen>`.
    pub public_url: Option<Spanned<String>>,
    /// The SP entity ID; default: the first `[federation.saml]` audience.
    pub sp_entity_id: Option<String>,
    /// IAM users sign in with their password.
    pub users: bool,
    /// Longest sign-in at an IdP, seconds.
    pub login_ttl_secs: Bounded<10, 3600>,
    /// How long a browser stays signed in, seconds.
    pub session_ttl_secs: Bounded<60, 43_200>,
    /// Lifetime of an IAM user's credentials, seconds.
    pub user_session_secs: Bounded<900, 129_600>,
    /// `DurationSeconds` of role sessions; default: one hour.
    pub role_session_secs: Option<Bounded<900, 43_200>>,
    /// `[[web.oidc]]`.
    pub oidc: Vec<WebOidcSection>,
    /// `[[web.saml]]`.
    pub saml: Vec<WebSamlSection>,
}

/// One `[[web.oidc]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebOidcSection {
    /// Short name in URLs.
    pub name: Spanned<String>,
    /// What the sign-in page shows; default: the name.
    pub label: Option<String>,
    /// The issuer URL.
    pub issuer: String,
    /// This broker's client ID.
    pub client_id: String,
    /// A 0600 file holding the client secret (confidential clients).
    pub client_secret_file: Option<PathBuf>,
    /// Scopes besides `openid`; default `email`, `profile`.
    pub scopes: Option<Vec<String>>,
    /// Whose roles are offered; default: the default account.
    pub account: Option<AccountId>,
    /// Roles considered; default: every role of the account.
    #[serde(default)]
    pub roles: Vec<Arn>,
}

/// One `[[web.saml]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSamlSection {
    /// Short name in URLs.
    pub name: Spanned<String>,
    /// What the sign-in page shows; default: the name.
    pub label: Option<String>,
    /// The IAM SAML provider.
    pub provider_arn: Arn,
    /// The IdP's SSO URL (HTTP-Redirect binding).
    pub sso_url: String,
    /// Accept unsolicited responses.
    #[serde(default = "yes")]
    pub allow_idp_initiated: bool,
}

fn yes() -> bool {
    true
}

impl Default for WebSection {
    fn default() -> Self {
        Self {
            public_url: None,
            sp_entity_id: None,
            users: true,
            login_ttl_secs: Bounded(600),
            session_ttl_secs: Bounded(3600),
            user_session_secs: Bounded(3600),
            role_session_secs: None,
            oidc: Vec::new(),
            saml: Vec::new(),
        }
    }
}

/// `[web]`, validated.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// The external base URL, no trailing slash; `None`: from the listener.
    pub public_url: Option<String>,
    /// The SP entity ID; `None`: the first SAML audience.
    pub sp_entity_id: Option<String>,
    /// IAM users sign in.
    pub users: bool,
    /// Seconds.
    pub login_ttl_secs: u64,
    /// Seconds.
    pub session_ttl_secs: u64,
    /// Seconds.
    pub user_session_secs: u32,
    /// Seconds.
    pub role_session_secs: Option<u32>,
    /// OIDC providers.
    pub oidc: Vec<WebOidc>,
    /// SAML providers.
    pub saml: Vec<WebSaml>,
}

/// One OIDC sign-in provider, validated.
#[derive(Debug, Clone)]
pub struct WebOidc {
    /// Short name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Issuer.
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// Client secret file.
    pub client_secret_file: Option<PathBuf>,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// Account whose roles are offered; `None`: the default account.
    pub account: Option<AccountId>,
    /// Roles considered.
    pub roles: Vec<Arn>,
}

/// One SAML sign-in provider, validated.
#[derive(Debug, Clone)]
pub struct WebSaml {
    /// Short name.
    pub name: String,
    /// Label.
    pub label: String,
    /// The IAM SAML provider.
    pub provider_arn: Arn,
    /// The SSO URL.
    pub sso_url: String,
    /// Accept IdP-initiated responses.
    pub allow_idp_initiated: bool,
}

/// Validates `[web]` of the file `origin` whose text is `text`.
pub(super) fn web_config(
    raw: WebSection,
    origin: &str,
    text: &str,
) -> Result<WebConfig, ConfigError> {
    let fail = |offset: usize, key: String, message: String| {
        ConfigError::at_offset(origin, text, Some(offset), Some(key), message)
    };
    let public_url = match raw.public_url {
        None => None,
        Some(u) => {
            let offset = u.span().start;
            let url = u.into_inner();
            if !is_absolute(&url) {
                return Err(fail(
                    offset,
                    "web.public_url".into(),
                    format!("{url:?} is not an http(s) URL"),
                ));
            }
            Some(url.trim_end_matches('/').to_owned())
        }
    };
    let mut names: Vec<String> = Vec::new();
    let mut check_name = |name: &Spanned<String>, key: String| {
        let n = name.get_ref();
        let ok = !n.is_empty()
            && n.len() <= 64
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(fail(
                name.span().start,
                key,
                format!("{n:?} must be 1–64 letters, digits, '-' or '_'"),
            ));
        }
        if names.contains(n) {
            return Err(fail(
                name.span().start,
                key,
                format!("{n:?} is used by two sign-in providers"),
            ));
        }
        names.push(n.clone());
        Ok(())
    };
    let mut oidc = Vec::with_capacity(raw.oidc.len());
    for (i, p) in raw.oidc.into_iter().enumerate() {
        check_name(&p.name, format!("web.oidc[{i}].name"))?;
        let at = p.name.span().start;
        if !is_absolute(&p.issuer) {
            return Err(fail(
                at,
                format!("web.oidc[{i}].issuer"),
                format!("{:?} is not an http(s) URL", p.issuer),
            ));
        }
        if p.client_id.is_empty() {
            return Err(fail(
                at,
                format!("web.oidc[{i}].client_id"),
                "must not be empty".into(),
            ));
        }
        let name = p.name.into_inner();
        oidc.push(WebOidc {
            label: p.label.unwrap_or_else(|| name.clone()),
            name,
            issuer: p.issuer,
            client_id: p.client_id,
            client_secret_file: p.client_secret_file,
            scopes: p
                .scopes
                .unwrap_or_else(|| vec!["email".into(), "profile".into()]),
            account: p.account,
            roles: p.roles,
        });
    }
    let mut saml = Vec::with_capacity(raw.saml.len());
    for (i, p) in raw.saml.into_iter().enumerate() {
        check_name(&p.name, format!("web.saml[{i}].name"))?;
        let at = p.name.span().start;
        if !is_absolute(&p.sso_url) {
            return Err(fail(
                at,
                format!("web.saml[{i}].sso_url"),
                format!("{:?} is not an http(s) URL", p.sso_url),
            ));
        }
        if !p.provider_arn.resource().starts_with("saml-provider/") {
            return Err(fail(
                at,
                format!("web.saml[{i}].provider_arn"),
                format!("{} is not a SAML provider ARN", p.provider_arn),
            ));
        }
        let name = p.name.into_inner();
        saml.push(WebSaml {
            label: p.label.unwrap_or_else(|| name.clone()),
            name,
            provider_arn: p.provider_arn,
            sso_url: p.sso_url,
            allow_idp_initiated: p.allow_idp_initiated,
        });
    }
    Ok(WebConfig {
        public_url,
        sp_entity_id: raw.sp_entity_id,
        users: raw.users,
        login_ttl_secs: raw.login_ttl_secs.0,
        session_ttl_secs: raw.session_ttl_secs.0,
        user_session_secs: u32::try_from(raw.user_session_secs.0).unwrap_or(u32::MAX),
        role_session_secs: raw
            .role_session_secs
            .map(|b| u32::try_from(b.0).unwrap_or(u32::MAX)),
        oidc,
        saml,
    })
}

/// Whether `url` is `http://host…` or `https://host…`.
fn is_absolute(url: &str) -> bool {
    ["https://", "http://"].iter().any(|s| {
        url.strip_prefix(s)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    })
}
