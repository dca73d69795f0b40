//! GetSessionToken (reference 1.3, 10).
//!
//! Owns: the use case — long-term credentials only (a session gets AWS's
//! "Cannot call GetSessionToken with session credentials"); no policy is
//! consulted (it is an authentication step that policies cannot deny);
//! the duration rule (`domain::sts::duration`: 900 s to 36 h, 12 h by
//! default, root one hour at most — longer root requests are clamped); an
//! optional MFA code of one of the caller's devices, which makes the
//! session MFA-authenticated. The session acts as the user (its current
//! policies) or as root. May import `domain`, `service::authn`,
//! `service::error` and the sibling modules.

use crate::domain::credential::{Session, SessionPrincipal};
use crate::domain::sts::token_duration;
use crate::service::authn::{Caller, Identity};
use crate::service::error::ServiceError;

use super::assume_role::device_owner;
use super::mfa::{self, MfaInput};
use super::{Minted, Sts, session_credentials};

/// GetSessionToken's parameters.
#[derive(Debug, Default)]
pub struct GetSessionToken {
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// `SerialNumber` and `TokenCode`.
    pub mfa: MfaInput,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// GetSessionToken: a session acting as `caller`.
///
/// # Errors
///
/// `AccessDenied` for session credentials or a bad MFA code,
/// `ValidationError` for the duration.
pub async fn get_session_token(
    sts: &Sts,
    caller: &Caller,
    input: GetSessionToken,
) -> Result<Minted, ServiceError> {
    let principal = match &caller.identity {
        Identity::Root => SessionPrincipal::Root,
        Identity::User {
            name, unique_id, ..
        } => SessionPrincipal::User {
            user_arn: caller.arn(&sts.partition),
            user_id: unique_id.clone(),
            name: name.clone(),
        },
        Identity::Session(_) => return Err(session_credentials("GetSessionToken")),
    };
    let root = matches!(principal, SessionPrincipal::Root);
    let duration = token_duration(input.duration, root)?;
    let mfa = mfa::check(sts, caller.account, device_owner(caller), &input.mfa).await?;
    let now = sts.now();
    let account = caller.account;
    sts.mint(
        account,
        move |access_key_id, secret| Session {
            access_key_id,
            secret,
            account,
            principal,
            policy: None,
            policy_arns: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            mfa,
            issued_at: now,
            expires_at: now + u64::from(duration),
            provider: None,
            chain_depth: 0,
            provider_keys: Vec::new(),
        },
        None,
        &input.request_id,
    )
    .await
}
