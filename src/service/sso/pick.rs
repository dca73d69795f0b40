//! Minting the role a signed-in person picked.
//!
//! Owns: [`pick`] — the role must be one the person was offered (a
//! forged form naming another is refused before anything else), then the
//! STS use case of the evidence runs in full: `AssumeRoleWithWebIdentity`
//! with the ID token (verified again, the trust policy decided again) or
//! the SAML login's `AssumeRoleWithSAML` core. What it mints is what the
//! credentials page and `stsd login` hand out. Imports the sibling modules
//! and `service::sts`.

use super::sessions::{Evidence, Issued, Person};
use super::{Sso, SsoError};
use crate::domain::ids::Arn;
use crate::service::authz::Transport;
use crate::service::sts::Minted;
use crate::service::sts::saml::assume_role_from_login;
use crate::service::sts::session_policy::SessionPolicies;
use crate::service::sts::web_identity::{WebIdentityRequest, assume_role_with_web_identity};

/// Mints a session of `role_arn` for `person`.
///
/// # Errors
///
/// `NotOffered` for a role the person was not offered (or an IAM user,
/// who is offered none); `Refused` for every STS refusal.
pub async fn pick(
    sso: &Sso,
    person: &Person,
    role_arn: &Arn,
    transport: &Transport,
    request_id: &str,
) -> Result<Issued, SsoError> {
    if !person.roles.contains(role_arn) {
        return Err(SsoError::NotOffered(role_arn.to_string()));
    }
    let minted = match &person.evidence {
        Evidence::Oidc {
            token,
            session_name,
            ..
        } => {
            let request = WebIdentityRequest {
                role_arn: role_arn.clone(),
                session_name: session_name.clone(),
                token: token.clone(),
                duration: sso.settings.role_session_secs,
                policies: SessionPolicies::default(),
                request_id: request_id.to_owned(),
            };
            assume_role_with_web_identity(&sso.sts, &sso.web, transport, request)
                .await?
                .minted
        }
        Evidence::Saml(login) => {
            assume_role_from_login(&sso.sts, transport, login, role_arn, request_id.to_owned())
                .await?
        }
        Evidence::User => return Err(SsoError::NotOffered(role_arn.to_string())),
    };
    Ok(issued(sso, minted, Some(role_arn.clone())))
}

/// What the pages show of a minted session.
pub fn issued(sso: &Sso, minted: Minted, role_arn: Option<Arn>) -> Issued {
    Issued {
        arn: minted.session.arn(&sso.sts.partition).to_string(),
        role_arn,
        access_key_id: minted.session.access_key_id.to_string(),
        secret: minted.session.secret.clone(),
        token: minted.token,
        expires_at: minted.session.expires_at,
    }
}
