//! Building browser sign-in.
//!
//! Owns: [`build`] — `[web]` into the sign-in service (`service::sso`)
//! and the pages' state: the public URL (configured, else the listener's
//! own `http(s)://address`), the SP entity ID (configured, else the first
//! `[federation.saml]` audience), each OIDC provider's client secret read
//! from its 0600 file, the relying party over the federation CA bundle,
//! and the session tables. Imports `config`, `adapters`, `service` and
//! `api::web`.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::adapters::jwks::tls::client_config;
use crate::adapters::oidc_rp::OpenIdRp;
use crate::api::web::WebState;
use crate::app::AppError;
use crate::config::Config;
use crate::config::secrets::read_private_file;
use crate::domain::clock::Clock;
use crate::domain::secret::BearerToken;
use crate::service::iam::Iam;
use crate::service::sso::{OidcLogin, SamlLogin, Sso, SsoSettings, WebSessions};
use crate::service::sts::Sts;
use crate::service::sts::saml::Saml;
use crate::service::sts::web_identity::WebIdentity;

/// The base URL the broker is reached at.
pub(super) fn public_url(config: &Config, local: SocketAddr, tls: bool) -> String {
    config.web.public_url.clone().unwrap_or_else(|| {
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://{local}")
    })
}

/// What the pages serve with.
#[expect(
    clippy::too_many_arguments,
    reason = "the composition root hands each part its own inputs"
)]
pub(super) fn build(
    config: &Config,
    local: SocketAddr,
    tls: bool,
    sts: Arc<Sts>,
    web: Arc<WebIdentity>,
    saml: Arc<Saml>,
    iam: Arc<Iam>,
    clock: Arc<dyn Clock>,
    audit: Arc<crate::service::audit::Audit>,
    limiter: Option<Arc<crate::service::limits::Limiter>>,
) -> Result<WebState, AppError> {
    let w = &config.web;
    let mut oidc = Vec::with_capacity(w.oidc.len());
    for p in &w.oidc {
        let client_secret = match &p.client_secret_file {
            Some(path) => Some(BearerToken::new(read_private_file(path)?.trim())),
            None => None,
        };
        oidc.push(OidcLogin {
            name: p.name.clone(),
            label: p.label.clone(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret,
            scopes: p.scopes.clone(),
            account: p.account.unwrap_or(config.accounts.default),
            roles: p.roles.clone(),
        });
    }
    let saml_logins = w
        .saml
        .iter()
        .map(|p| SamlLogin {
            name: p.name.clone(),
            label: p.label.clone(),
            provider_arn: p.provider_arn.clone(),
            sso_url: p.sso_url.clone(),
            allow_idp_initiated: p.allow_idp_initiated,
        })
        .collect();
    let o = &config.federation.oidc;
    let rp = OpenIdRp::new(
        client_config(o.ca_file.as_deref())?,
        o.fetch_timeout,
        o.allow_insecure_loopback,
        clock,
    );
    let settings = SsoSettings {
        public_url: public_url(config, local, tls),
        sp_entity_id: w.sp_entity_id.clone().unwrap_or_else(|| {
            config
                .federation
                .saml
                .audiences
                .first()
                .cloned()
                .unwrap_or_else(|| "urn:amazon:webservices".to_owned())
        }),
        oidc,
        saml: saml_logins,
        users: w.users,
        login_ttl_secs: w.login_ttl_secs,
        session_ttl_secs: w.session_ttl_secs,
        user_session_secs: w.user_session_secs,
        role_session_secs: w.role_session_secs,
    };
    let sso = Sso {
        sessions: WebSessions::new(settings.session_ttl_secs, settings.login_ttl_secs),
        settings,
        sts,
        web,
        saml,
        iam,
        rp: Arc::new(rp),
    };
    // Secure cookies whenever browsers reach the broker over TLS, also
    // through a TLS-terminating proxy.
    let secure = tls || sso.settings.public_url.starts_with("https://");
    Ok(WebState {
        sso: Arc::new(sso),
        secure,
        region: config.region.clone(),
        body_limit: config.server.body_limit,
        audit,
        limiter,
    })
}
