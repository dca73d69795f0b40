//! The audit records of browser sign-in.
//!
//! Owns: [`sign_in`] — one `ConsoleLogin` record per sign-in attempt
//! (IAM user, OIDC or SAML; success or failure, with `MFAUsed`), and
//! [`role_picked`] — one `SwitchRole` record when a signed-in person's
//! role session is minted (the role, the provider, success or failure), as
//! CloudTrail records the console's. Passwords, codes, tokens and
//! assertions never appear: only who, through what, and the outcome. A
//! record the trail refuses (sync mode, sink failing) is logged; the page
//! has already been decided. Imports `api::audit`, `domain::audit` and
//! the parent module.

use std::net::IpAddr;

use serde_json::json;

use super::WebState;
use crate::api::audit::{Origin, console_login};
use crate::domain::audit::{IdentityType, UserIdentity};
use crate::service::sso::sessions::{Evidence, Issued, Person};

/// Who signed in, as `userIdentity` shows them.
fn identity(person: Option<&Person>, account: &str, user_name: Option<&str>) -> UserIdentity {
    let mut id = UserIdentity::unknown();
    id.account_id = Some(account.to_owned());
    id.user_name = user_name.map(str::to_owned);
    if let Some(p) = person {
        match &p.evidence {
            Evidence::Oidc { provider, .. } => {
                id.kind = IdentityType::WebIdentityUser;
                id.user_name = Some(p.display.clone());
                id.identity_provider = Some(provider.clone());
            }
            Evidence::Saml(login) => {
                id.kind = IdentityType::SamlUser;
                id.user_name = Some(p.display.clone());
                id.identity_provider = Some(login.provider_arn.to_string());
            }
            Evidence::User => id.kind = IdentityType::IamUser,
        }
    }
    id
}

/// Records a sign-in attempt.
#[expect(
    clippy::too_many_arguments,
    reason = "one record's fields, each from its own place"
)]
pub(super) async fn sign_in(
    s: &WebState,
    request_id: &str,
    source_ip: Option<IpAddr>,
    account: &str,
    user_name: Option<&str>,
    person: Option<&Person>,
    issued: Option<&Issued>,
    failure: Option<&str>,
    mfa_used: bool,
) {
    let mut id = identity(person, account, user_name);
    if let Some(issued) = issued {
        id.arn = Some(issued.arn.clone());
    }
    let origin = Origin {
        request_id,
        source_ip,
        user_agent: None,
        partition: &s.sso.sts.partition,
    };
    let event = console_login(
        origin,
        id,
        failure.map_or(Ok(()), Err),
        mfa_used,
        &format!("{}/web", s.sso.settings.public_url),
    );
    if let Err(e) = s.audit.record(event).await {
        tracing::warn!(error = %e.message(), "the sign-in was not recorded in the audit trail");
    }
}

/// Records a role picked by a signed-in person.
pub(super) async fn role_picked(
    s: &WebState,
    request_id: &str,
    source_ip: Option<IpAddr>,
    person: &Person,
    role_arn: &crate::domain::ids::Arn,
    failure: Option<&str>,
) {
    let account = role_arn
        .account_id()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let origin = Origin {
        request_id,
        source_ip,
        user_agent: None,
        partition: &s.sso.sts.partition,
    };
    let mut event = console_login(
        origin,
        identity(Some(person), &account, None),
        failure.map_or(Ok(()), Err),
        false,
        &format!("{}/web/roles", s.sso.settings.public_url),
    );
    event.name = "SwitchRole".into();
    event.response_elements = Some(json!({
        "SwitchRole": if failure.is_none() { "Success" } else { "Failure" }
    }));
    event
        .additional
        .insert("RoleArn".into(), json!(role_arn.as_str()));
    if let Err(e) = s.audit.record(event).await {
        tracing::warn!(error = %e.message(), "the role pick was not recorded in the audit trail");
    }
}
