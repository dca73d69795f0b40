//! Why a browser sign-in step failed.
//!
//! Owns: [`SsoError`]. The web layer turns each variant into a status and
//! a page (`api::error::web_status`); messages are for the person at the
//! browser and never carry a secret. Imports `service::error`.

use crate::service::error::ServiceError;

/// A refused or failed sign-in step.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The request is malformed: a missing or invalid field, named.
    #[error("{0}")]
    BadRequest(String),
    /// No browser session, or its CSRF token is missing or wrong.
    #[error(
        "the form's CSRF token is missing or does not match this browser's session; reload the page and try again"
    )]
    Csrf,
    /// The login state is unknown, used or expired: start again.
    #[error("this sign-in is unknown, was already used or took too long; start again")]
    LoginExpired,
    /// The browser is not signed in.
    #[error("you are not signed in")]
    NotSignedIn,
    /// The role was not offered to this person.
    #[error("the role {0} is not one you may assume")]
    NotOffered(String),
    /// A wrong account, user name, password or MFA code (one message for
    /// all, so nothing is learnt about which).
    #[error("the account, user name, password or MFA code is not correct")]
    BadCredentials,
    /// The user has an MFA device: its code is needed.
    #[error("enter the code of your MFA device")]
    MfaRequired,
    /// The password must be changed before signing in here.
    #[error("{0}")]
    PasswordChange(String),
    /// The identity provider refused or could not be reached.
    #[error("the identity provider: {0}")]
    Idp(String),
    /// An STS or IAM check refused (the code and message of the API).
    #[error("{}", .0.message())]
    Refused(#[from] ServiceError),
    /// Something failed inside the broker (logged, not shown in detail).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::service::store::StoreError> for SsoError {
    fn from(e: crate::service::store::StoreError) -> Self {
        Self::Refused(e.into())
    }
}
