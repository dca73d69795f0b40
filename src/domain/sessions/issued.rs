//! The record of an issued session.
//!
//! Owns: [`IssuedSession`] (what the broker keeps of every session it
//! mints until the session expires: never its secret or token) and
//! [`SessionFilter`] (which records a listing selects). Pure.

use serde::{Deserialize, Serialize};

use crate::domain::credential::{Session, SessionPrincipal};
use crate::domain::ids::{AccessKeyId, AccountId, Arn, Partition};

use super::rule::{role_name, subject_key};

/// A minted session, as recorded. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSession {
    /// The session's `ASIA…` key id.
    pub access_key_id: AccessKeyId,
    /// The session's account.
    pub account: AccountId,
    /// The session's ARN (assumed-role, federated-user, or the user's /
    /// root's own for GetSessionToken).
    pub principal_arn: Arn,
    /// The role's ARN, for a role session.
    pub role_arn: Option<Arn>,
    /// The source identity.
    pub source_identity: Option<String>,
    /// The federated identity provider's ARN.
    pub provider: Option<String>,
    /// The federated subject (`sub`, SAML `NameID`) as the session
    /// records it.
    pub subject: Option<String>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; gone from the record from this second on.
    pub expires_at: u64,
    /// The id of the request that minted it.
    pub request_id: String,
}

/// Which issued sessions a listing selects: every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this role (by name, case-insensitively, any path).
    pub role_arn: Option<Arn>,
    /// Sessions with this principal ARN (exactly).
    pub principal_arn: Option<Arn>,
    /// Sessions with this source identity.
    pub source_identity: Option<String>,
    /// Sessions of this federated provider ARN.
    pub provider: Option<String>,
    /// Sessions of this federated subject.
    pub subject: Option<String>,
}

// === impl IssuedSession ===

impl IssuedSession {
    /// The record of `session`, minted by request `request_id`.
    pub fn of(session: &Session, partition: &Partition, request_id: &str) -> Self {
        let role_arn = match &session.principal {
            SessionPrincipal::AssumedRole { role_arn, .. } => Some(role_arn.clone()),
            SessionPrincipal::User { .. }
            | SessionPrincipal::Root
            | SessionPrincipal::FederatedUser { .. } => None,
        };
        let subject = session
            .provider
            .as_deref()
            .and_then(subject_key)
            .and_then(|key| {
                session
                    .provider_keys
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            });
        Self {
            access_key_id: session.access_key_id.clone(),
            account: session.account,
            principal_arn: session.arn(partition),
            role_arn,
            source_identity: session.source_identity.clone(),
            provider: session.provider.clone(),
            subject,
            issued_at: session.issued_at,
            expires_at: session.expires_at,
            request_id: request_id.to_owned(),
        }
    }

    /// Whether the session is still live at `now` (unix seconds).
    pub fn is_live(&self, now: u64) -> bool {
        now < self.expires_at
    }
}

// === impl SessionFilter ===

impl SessionFilter {
    /// Whether `s` is selected.
    pub fn matches(&self, s: &IssuedSession) -> bool {
        let role = self.role_arn.as_ref().is_none_or(|want| {
            s.role_arn
                .as_ref()
                .is_some_and(|r| role_name(r).eq_ignore_ascii_case(role_name(want)))
        });
        let same = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        role && self
            .principal_arn
            .as_ref()
            .is_none_or(|p| *p == s.principal_arn)
            && same(&self.source_identity, &s.source_identity)
            && same(&self.provider, &s.provider)
            && same(&self.subject, &s.subject)
    }
}
