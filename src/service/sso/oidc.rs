//! OIDC sign-in: authorization code with PKCE, `state` and `nonce`.
//!
//! Owns: [`start`] (fresh `state`, `nonce` and PKCE verifier from the
//! injected CSPRNG, kept in the browser session; the provider's
//! authorization URL from the [`RelyingParty`](super::RelyingParty)) and
//! [`finish`] (the callback's `state` must equal the session's in
//! constant time and the login must be in time; the relying party
//! exchanges the code with the verifier and verifies the ID token and its
//! nonce; the pending login is consumed whatever the outcome, so a
//! callback is accepted once). The roles offered are those whose trust
//! policy allows the token, each decided by
//! `web_identity::check_web_identity` — the same code path
//! `AssumeRoleWithWebIdentity` runs, minting nothing. Imports the sibling
//! modules and `service::sts`, `service::iam::scan`.

use parking_lot::Mutex;

use super::sessions::{Evidence, PendingOidc, Person, WebSession};
use super::{OidcLogin, OidcStart, Sso, SsoError, VerifiedIdToken};
use crate::domain::ids::{Arn, RoleSessionName};
use crate::domain::secret::BearerToken;
use crate::service::authz::Transport;
use crate::service::iam::scan::list_all;
use crate::service::store::model::RoleRecord;
use crate::service::sts::session_policy::SessionPolicies;
use crate::service::sts::web_identity::{WebIdentityRequest, check_web_identity};

/// Most roles considered for one person (the rest are not listed).
pub const MAX_CANDIDATES: usize = 1_000;

/// Begins a login at provider `name` for `session`: the URL to send the
/// browser to.
///
/// # Errors
///
/// `BadRequest` for an unknown provider; the relying party's failure.
pub async fn start(sso: &Sso, session: &Mutex<WebSession>, name: &str) -> Result<String, SsoError> {
    let provider = sso
        .oidc_provider(name)
        .ok_or_else(|| SsoError::BadRequest(format!("no OIDC provider is named {name:?}")))?;
    let start = OidcStart {
        state: sso.token()?,
        nonce: sso.token()?,
        verifier: sso.token()?,
    };
    let url = sso
        .rp
        .authorization_url(provider, &sso.oidc_redirect_uri(name), &start)
        .await?;
    session.lock().login = Some(PendingOidc {
        provider: name.to_owned(),
        start,
        started_at: sso.now(),
    });
    Ok(url)
}

/// Completes the login of `session` at provider `name` with the
/// callback's `code` and `state`: the signed-in person and the roles
/// offered.
///
/// # Errors
///
/// `LoginExpired` (no pending login, another provider's, a wrong state,
/// too late), `Idp` (the exchange or the ID token), `Refused`/`Internal`
/// (the store).
pub async fn finish(
    sso: &Sso,
    session: &Mutex<WebSession>,
    name: &str,
    code: &str,
    state: &str,
    transport: &Transport,
) -> Result<Person, SsoError> {
    let pending = session.lock().login.take().ok_or(SsoError::LoginExpired)?;
    if pending.provider != name || !pending.answers(state) {
        return Err(SsoError::LoginExpired);
    }
    if !sso.sessions.login_in_time(pending.started_at, sso.now()) {
        return Err(SsoError::LoginExpired);
    }
    let provider = sso.oidc_provider(name).ok_or(SsoError::LoginExpired)?;
    let verified = sso
        .rp
        .exchange(provider, &sso.oidc_redirect_uri(name), code, &pending.start)
        .await?;
    let session_name = session_name(&verified)?;
    let roles = offered_roles(sso, provider, &verified, &session_name, transport).await?;
    let display = verified
        .email
        .clone()
        .or_else(|| verified.name.clone())
        .unwrap_or_else(|| verified.subject.clone());
    Ok(Person {
        display,
        via: provider.label.clone(),
        evidence: Evidence::Oidc {
            provider: name.to_owned(),
            token: verified.token,
            session_name,
        },
        roles,
    })
}

/// The candidate roles whose trust policy allows the token.
async fn offered_roles(
    sso: &Sso,
    provider: &OidcLogin,
    verified: &VerifiedIdToken,
    session_name: &RoleSessionName,
    transport: &Transport,
) -> Result<Vec<Arn>, SsoError> {
    let candidates: Vec<Arn> = if provider.roles.is_empty() {
        list_all::<RoleRecord>(&*sso.sts.store, provider.account)
            .await?
            .into_iter()
            .map(|r| r.arn)
            .collect()
    } else {
        provider.roles.clone()
    };
    let mut offered = Vec::new();
    for role_arn in candidates.into_iter().take(MAX_CANDIDATES) {
        let request = WebIdentityRequest {
            role_arn: role_arn.clone(),
            session_name: session_name.clone(),
            token: verified.token.clone(),
            duration: sso.settings.role_session_secs,
            policies: SessionPolicies::default(),
            request_id: String::new(),
        };
        match check_web_identity(&sso.sts, &sso.web, transport, request).await {
            Ok(()) => offered.push(role_arn),
            Err(e) => tracing::debug!(role = %role_arn, reason = e.message(), "role not offered"),
        }
    }
    Ok(offered)
}

/// A role session name from the token's claims: the email, else the
/// name, else the subject, reduced to `[\w+=,.@-]` and 2–64 characters;
/// else the hex of the subject's SHA-256, cut to 32 characters.
///
/// # Errors
///
/// `Internal` if not even that parses (it always does).
pub fn session_name(verified: &VerifiedIdToken) -> Result<RoleSessionName, SsoError> {
    let candidates = [
        verified.email.as_deref(),
        verified.name.as_deref(),
        Some(verified.subject.as_str()),
    ];
    if let Some(name) = candidates.into_iter().flatten().find_map(sanitize) {
        return Ok(name);
    }
    let d = ring::digest::digest(&ring::digest::SHA256, verified.subject.as_bytes());
    let hex: String = data_encoding::HEXLOWER
        .encode(d.as_ref())
        .chars()
        .take(32)
        .collect();
    hex.parse()
        .map_err(|_| SsoError::Internal("no role session name could be made".into()))
}

/// `raw` kept to the session-name alphabet and length, if anything is
/// left.
pub fn sanitize(raw: &str) -> Option<RoleSessionName> {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if cleaned.len() < 2 {
        return None;
    }
    cleaned.parse().ok()
}

/// The PKCE S256 challenge of `verifier` (RFC 7636): base64url without
/// padding of SHA-256.
pub fn pkce_challenge(verifier: &BearerToken) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.expose_secret().as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(d.as_ref())
}
