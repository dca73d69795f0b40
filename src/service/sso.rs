//! Browser sign-in to a role (issue 9): the use cases behind the web
//! pages and `stsd login`.
//!
//! Owns: [`Sso`] — the deployment's sign-in settings ([`SsoSettings`]:
//! the OIDC and SAML providers people sign in through, how long a login
//! may take and a signed-in browser stays signed in, whether IAM users
//! sign in with a password), the table of browser sessions
//! ([`sessions`]), and the flows:
//!
//! - [`oidc`]: authorization code with PKCE, `state` and `nonce` through
//!   the [`RelyingParty`] port (the `openidconnect` crate in
//!   `adapters::oidc_rp`); the verified ID token then offers the roles
//!   whose trust policy allows it, decided by the shared evaluator exactly
//!   as `AssumeRoleWithWebIdentity` would (nothing minted to find out);
//! - [`saml`]: SP-initiated (an AuthnRequest by the HTTP-Redirect
//!   binding, its ID remembered so the response must answer it) and
//!   IdP-initiated responses, through the same checks as
//!   `AssumeRoleWithSAML`; the `Role` attribute offers the roles;
//! - [`user`]: an IAM user's account (ID or alias), name, password and,
//!   when the user has an MFA device, its code — a session of the user,
//!   as `GetSessionToken` makes;
//! - [`pick`]: minting the chosen role's session through the STS use
//!   case of the evidence (a role not offered is refused, and the STS
//!   checks run again);
//! - [`cli`]: `stsd login`'s loopback redirect — a one-time code bound to
//!   a PKCE challenge, exchanged once for the minted credentials.
//!
//! Secrets (session ids, CSRF tokens, PKCE verifiers, ID tokens,
//! credentials) stay in redacting types. May import `domain` and the
//! sibling services.

pub mod cli;
mod error;
pub mod oidc;
pub mod pick;
pub mod saml;
pub mod sessions;
pub mod user;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::ids::Arn;
use crate::domain::oidc::WebIdentityToken;
use crate::domain::secret::BearerToken;
use crate::service::iam::{Entropy, Iam};
use crate::service::sts::Sts;
use crate::service::sts::saml::Saml;
use crate::service::sts::web_identity::WebIdentity;

pub use error::SsoError;
pub use sessions::{SessionId, WebSession, WebSessions};

/// An OIDC provider people sign in through.
#[derive(Debug, Clone)]
pub struct OidcLogin {
    /// The short name in URLs (`/web/oidc/<name>/start`).
    pub name: String,
    /// What the sign-in page shows.
    pub label: String,
    /// The issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// This broker's client ID at the provider; also an audience the IAM
    /// OIDC provider of the issuer lists.
    pub client_id: String,
    /// The client secret, for a confidential client.
    pub client_secret: Option<BearerToken>,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// The account whose roles are offered (where the IAM OIDC provider
    /// of the issuer lives).
    pub account: crate::domain::ids::AccountId,
    /// Roles to consider; empty: every role of the account.
    pub roles: Vec<Arn>,
}

/// A SAML provider people sign in through.
#[derive(Debug, Clone)]
pub struct SamlLogin {
    /// The short name in URLs (`/web/saml/<name>/start`).
    pub name: String,
    /// What the sign-in page shows.
    pub label: String,
    /// The IAM SAML provider.
    pub provider_arn: Arn,
    /// The IdP's single sign-on URL (HTTP-Redirect binding).
    pub sso_url: String,
    /// Whether unsolicited (IdP-initiated) responses are accepted.
    pub allow_idp_initiated: bool,
}

/// The deployment's sign-in choices.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// The broker's external base URL (`https://sts.example.com`), no
    /// trailing slash: redirect URIs and the ACS URL are built on it.
    pub public_url: String,
    /// The SP entity ID in AuthnRequests and SP metadata.
    pub sp_entity_id: String,
    /// OIDC providers.
    pub oidc: Vec<OidcLogin>,
    /// SAML providers.
    pub saml: Vec<SamlLogin>,
    /// Whether IAM users sign in with their password.
    pub users: bool,
    /// Longest time from leaving for the IdP to coming back, seconds.
    pub login_ttl_secs: u64,
    /// How long a browser stays signed in, seconds.
    pub session_ttl_secs: u64,
    /// Lifetime of the credentials minted for an IAM user, seconds.
    pub user_session_secs: u32,
    /// Role sessions: `DurationSeconds` asked for (the role's maximum and
    /// the identity's limits still apply); `None`: one hour.
    pub role_session_secs: Option<u32>,
}

/// The authorization request of an OIDC login, as the relying party
/// builds it.
#[derive(Debug)]
pub struct OidcStart {
    /// The random `state`.
    pub state: BearerToken,
    /// The random `nonce`.
    pub nonce: BearerToken,
    /// The PKCE code verifier (S256 challenge sent).
    pub verifier: BearerToken,
}

/// What the relying party port returns from a code exchange.
#[derive(Debug)]
pub struct VerifiedIdToken {
    /// The ID token as received (signature, issuer, audience, expiry and
    /// nonce verified).
    pub token: WebIdentityToken,
    /// `sub`.
    pub subject: String,
    /// `email`, when given.
    pub email: Option<String>,
    /// `preferred_username` or `name`, when given.
    pub name: Option<String>,
}

/// The OpenID Connect relying party (port; `adapters::oidc_rp`).
#[async_trait]
pub trait RelyingParty: Send + Sync + std::fmt::Debug {
    /// The provider's authorization URL for `start` (code flow, S256
    /// PKCE, `state`, `nonce`), redirecting to `redirect_uri`.
    async fn authorization_url(
        &self,
        provider: &OidcLogin,
        redirect_uri: &str,
        start: &OidcStart,
    ) -> Result<String, SsoError>;

    /// Exchanges `code` (with the PKCE verifier) and verifies the ID
    /// token, its nonce included.
    async fn exchange(
        &self,
        provider: &OidcLogin,
        redirect_uri: &str,
        code: &str,
        start: &OidcStart,
    ) -> Result<VerifiedIdToken, SsoError>;
}

/// Browser sign-in: settings, the STS and IAM services it calls, the
/// relying party, and the session table.
#[derive(Debug)]
pub struct Sso {
    /// The settings.
    pub settings: SsoSettings,
    /// STS: minting, the shared evaluator's trust decisions.
    pub sts: Arc<Sts>,
    /// Web identity's key sources (the ID token is checked again as a
    /// web-identity token when a role is picked).
    pub web: Arc<WebIdentity>,
    /// The SAML checks.
    pub saml: Arc<Saml>,
    /// IAM: users, login profiles, aliases.
    pub iam: Arc<Iam>,
    /// The OIDC relying party.
    pub rp: Arc<dyn RelyingParty>,
    /// Browser sessions, pending SAML requests and `stsd login` codes.
    pub sessions: WebSessions,
}

// === impl Sso ===

impl Sso {
    /// The OIDC provider named `name`.
    pub fn oidc_provider(&self, name: &str) -> Option<&OidcLogin> {
        self.settings.oidc.iter().find(|p| p.name == name)
    }

    /// The SAML provider named `name`.
    pub fn saml_provider(&self, name: &str) -> Option<&SamlLogin> {
        self.settings.saml.iter().find(|p| p.name == name)
    }

    /// The assertion consumer service URL (AWS's `/saml` path).
    pub fn acs_url(&self) -> String {
        format!("{}/saml", self.settings.public_url)
    }

    /// The redirect URI of OIDC provider `name`.
    pub fn oidc_redirect_uri(&self, name: &str) -> String {
        format!("{}/web/oidc/{name}/callback", self.settings.public_url)
    }

    /// Now, seconds since the epoch, from the injected clock.
    pub(crate) fn now(&self) -> u64 {
        self.sts.now()
    }

    /// A fresh random token (32 bytes, base64url) from the injected
    /// CSPRNG.
    pub(crate) fn token(&self) -> Result<BearerToken, SsoError> {
        random_token(&*self.sts.entropy)
    }
}

/// 32 bytes of `entropy`, base64url without padding.
pub(crate) fn random_token(entropy: &dyn Entropy) -> Result<BearerToken, SsoError> {
    let mut raw = zeroize::Zeroizing::new([0_u8; 32]);
    entropy
        .fill(raw.as_mut_slice())
        .map_err(|_| SsoError::Internal("the random number generator failed".into()))?;
    Ok(BearerToken::new(
        data_encoding::BASE64URL_NOPAD.encode(raw.as_slice()),
    ))
}
