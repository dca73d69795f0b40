//! SAML sign-in: SP-initiated and IdP-initiated.
//!
//! Owns: [`start`] (an AuthnRequest with a random ID, remembered with the
//! browser session that asked until the login times out, sent by the
//! HTTP-Redirect binding) and [`consume`] (the assertion consumer
//! service: which provider signed the response — its unverified `Issuer`
//! against each sign-in provider's metadata entity ID — then every check
//! of `AssumeRoleWithSAML` and the assertion ID spent, so a replayed
//! response is refused; a response answering an AuthnRequest must answer
//! one this broker issued for that provider and still pending, taken so it
//! is answered once; an unsolicited one is accepted only where the
//! provider allows IdP-initiated sign-in). The roles offered are the
//! `Role` attribute's pairs with this provider whose trust policy allows
//! the assertion. Imports the sibling modules and `service::sts::saml`.

use super::sessions::{Digest, Evidence, PendingSaml, Person};
use super::{SamlLogin, Sso, SsoError};
use crate::domain::saml::authn_request::{authn_request, redirect_url};
use crate::domain::secret::SamlAssertion;
use crate::service::authz::Transport;
use crate::service::sts::saml::{check_login_role, response_issuer};

/// Begins an SP-initiated login at provider `name` for the session
/// `session`: the IdP URL to redirect to.
///
/// # Errors
///
/// `BadRequest` for an unknown provider.
pub fn start(sso: &Sso, session: Digest, name: &str) -> Result<String, SsoError> {
    let provider = sso
        .saml_provider(name)
        .ok_or_else(|| SsoError::BadRequest(format!("no SAML provider is named {name:?}")))?;
    // An XML ID must not start with a digit.
    let id = format!("_{}", sso.token()?.expose_secret());
    let now = sso.now();
    let xml = authn_request(
        &id,
        i64::try_from(now).unwrap_or(i64::MAX),
        &provider.sso_url,
        &sso.acs_url(),
        &sso.settings.sp_entity_id,
    );
    sso.sessions.expect_saml(
        id,
        PendingSaml {
            provider: name.to_owned(),
            session,
            started_at: now,
        },
    );
    Ok(redirect_url(&provider.sso_url, &xml, ""))
}

/// A verified response at the ACS: the signed-in person, and the pending
/// request it answers (`None` when unsolicited).
///
/// # Errors
///
/// `BadRequest` (no sign-in provider issued it), `LoginExpired` (it
/// answers no pending request of its provider, or an unsolicited response
/// where the provider does not allow them), `Refused` (every
/// `AssumeRoleWithSAML` check, a replayed assertion ID included).
pub async fn consume(
    sso: &Sso,
    response: &SamlAssertion,
    transport: &Transport,
) -> Result<(Person, Option<PendingSaml>), SsoError> {
    let provider = provider_of(sso, response).await?;
    let login = sso
        .saml
        .accept_login(&sso.sts, &provider.provider_arn, response)
        .await?;
    let pending = match &login.in_response_to {
        Some(id) => {
            let pending = sso.sessions.take_saml(id, sso.now())?;
            if pending.provider != provider.name {
                return Err(SsoError::LoginExpired);
            }
            Some(pending)
        }
        None if provider.allow_idp_initiated => None,
        None => return Err(SsoError::LoginExpired),
    };
    let mut roles = Vec::new();
    for role in &login.roles {
        match check_login_role(&sso.sts, transport, &login, role).await {
            Ok(()) => roles.push(role.clone()),
            Err(e) => tracing::debug!(role = %role, reason = e.message(), "role not offered"),
        }
    }
    let person = Person {
        display: login.accepted.subject.subject.clone(),
        via: provider.label.clone(),
        evidence: Evidence::Saml(Box::new(login)),
        roles,
    };
    Ok((person, pending))
}

/// The sign-in provider whose IdP issued `response`.
async fn provider_of<'a>(
    sso: &'a Sso,
    response: &SamlAssertion,
) -> Result<&'a SamlLogin, SsoError> {
    let not_ours = || {
        SsoError::BadRequest(
            "SAMLResponse: no SAML sign-in provider of this broker issued it".into(),
        )
    };
    let issuer = response_issuer(response)
        .ok_or_else(|| SsoError::BadRequest("SAMLResponse: not a base64 SAML response".into()))?;
    for provider in &sso.settings.saml {
        match sso.saml.entity_id(&sso.sts, &provider.provider_arn).await {
            Ok(entity) if entity == issuer => return Ok(provider),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                provider = %provider.provider_arn,
                reason = e.message(),
                "SAML sign-in provider unusable"
            ),
        }
    }
    Err(not_ours())
}
