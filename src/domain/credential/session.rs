//! What a session is.
//!
//! Owns: [`Session`] and its parts ([`SessionPrincipal`], [`SessionTag`],
//! [`MfaInfo`]) — everything a sealed session token carries, so any
//! replica can authenticate and authorize a session without a lookup —
//! the invariants every sealed or opened session satisfies
//! ([`Session::check`]), and what the session looks like to the outside:
//! its ARN and user id (reference 1.3, 7.4). Pure: std and `domain::ids`.

use crate::domain::ids::{
    AccessKeyId, AccountId, Arn, FederatedUserName, Partition, PrincipalKind, RoleSessionName,
    SourceIdentity, UniqueId, UserName,
};
use crate::domain::secret::SecretAccessKey;

use super::error::CredentialError;
use super::packed::packed_policy_size;

/// A temporary credential: its key pair and everything needed to
/// authorize the requests it signs.
///
/// `Debug` is safe to print: the secret prints as a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `ASIA…`; encodes `account`, as `GetAccessKeyInfo` decodes it.
    pub access_key_id: AccessKeyId,
    /// 40 characters from the CSPRNG.
    pub secret: SecretAccessKey,
    /// The account whose principal this is (the role's account for a role
    /// session).
    pub account: AccountId,
    /// Who the session acts as.
    pub principal: SessionPrincipal,
    /// The inline session policy (compact JSON), as given.
    pub policy: Option<String>,
    /// Managed session policies (at most 10), resolved to their current
    /// default versions on every request.
    pub policy_arns: Vec<Arn>,
    /// Session tags, inherited transitive ones included.
    pub tags: Vec<SessionTag>,
    /// Keys of `tags` passed on to chained sessions; compared
    /// case-insensitively, stored as given.
    pub transitive_tag_keys: Vec<String>,
    /// The source identity, fixed for the whole chain once set.
    pub source_identity: Option<String>,
    /// `Some` when the session was minted with a valid MFA code, so
    /// `aws:MultiFactorAuthPresent` is `true`.
    pub mfa: Option<MfaInfo>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; the session is expired from this second on.
    pub expires_at: u64,
    /// The federated identity provider (SAML / OIDC sessions, issue 5).
    pub provider: Option<String>,
    /// 0 for a session from a long-term key; +1 per chained AssumeRole.
    pub chain_depth: u8,
    /// The condition keys a federated identity passes on to every request
    /// of its session (`saml:sub`, `<issuer>:sub`, mapped claims …), one
    /// entry per value; empty for other sessions.
    pub provider_keys: Vec<(String, String)>,
}

/// One session tag. Keys are case-insensitive for uniqueness and keep
/// their case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTag {
    /// The key.
    pub key: String,
    /// The value (may be empty).
    pub value: String,
}

/// The MFA device used when the session was minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaInfo {
    /// The device's serial number (the virtual device's ARN).
    pub serial: Arn,
    /// Unix seconds of the accepted code (`aws:MultiFactorAuthAge` counts
    /// from here).
    pub authenticated_at: u64,
}

/// Who a session acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionPrincipal {
    /// AssumeRole* — `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`, user id
    /// `ROLEID:SESSION`.
    AssumedRole {
        /// The role's ARN (with its path).
        role_arn: Arn,
        /// The role's `AROA…` id: a recreated role of the same name is
        /// another role.
        role_id: UniqueId,
        /// The `RoleSessionName`.
        session_name: String,
    },
    /// GetSessionToken by an IAM user — acts as that user (its current
    /// policies).
    User {
        /// The user's ARN.
        user_arn: Arn,
        /// The user's `AIDA…` id.
        user_id: UniqueId,
        /// The user's name.
        name: UserName,
    },
    /// GetSessionToken by root.
    Root,
    /// GetFederationToken — `arn:aws:sts::ACCT:federated-user/NAME`, user
    /// id `ACCT:NAME`.
    FederatedUser {
        /// The `Name` given.
        name: String,
        /// The IAM user (or root) whose key called GetFederationToken.
        caller_arn: Arn,
        /// That caller's user id (`AIDA…`, or the account for root).
        caller_user_id: String,
    },
}

// === impl Session ===

impl Session {
    /// Checks what every sealed and every opened session satisfies: an
    /// `ASIA…` key id that encodes `account`, principal ARNs of the right
    /// kind in `account`, a valid session / federated-user name and source
    /// identity, and `issued_at <= expires_at`.
    ///
    /// # Errors
    ///
    /// [`CredentialError::Invalid`] naming the first offending field.
    pub fn check(&self) -> Result<(), CredentialError> {
        let invalid = |field| Err(CredentialError::Invalid { field });
        if !self.access_key_id.is_temporary() || self.access_key_id.account() != Some(self.account)
        {
            return invalid("access_key_id");
        }
        if self.issued_at > self.expires_at {
            return invalid("expires_at");
        }
        if self
            .source_identity
            .as_deref()
            .is_some_and(|s| s.parse::<SourceIdentity>().is_err())
        {
            return invalid("source_identity");
        }
        let in_account = |arn: &Arn| arn.account_id() == Some(self.account);
        match &self.principal {
            SessionPrincipal::AssumedRole {
                role_arn,
                session_name,
                ..
            } => {
                if !in_account(role_arn)
                    || !matches!(role_arn.principal_kind(), PrincipalKind::Role { .. })
                {
                    return invalid("role_arn");
                }
                if session_name.parse::<RoleSessionName>().is_err() {
                    return invalid("session_name");
                }
            }
            SessionPrincipal::User { user_arn, name, .. } => {
                let named = matches!(user_arn.principal_kind(),
                    PrincipalKind::User { name: n, .. } if n == *name);
                if !in_account(user_arn) || !named {
                    return invalid("user_arn");
                }
            }
            SessionPrincipal::Root => {}
            SessionPrincipal::FederatedUser {
                name,
                caller_arn,
                caller_user_id,
            } => {
                if name.parse::<FederatedUserName>().is_err() {
                    return invalid("name");
                }
                let kind = caller_arn.principal_kind();
                if !in_account(caller_arn)
                    || !matches!(kind, PrincipalKind::User { .. } | PrincipalKind::Root)
                {
                    return invalid("caller_arn");
                }
                if caller_user_id.is_empty() {
                    return invalid("caller_user_id");
                }
            }
        }
        Ok(())
    }

    /// Whether the session has expired at `now` (unix seconds): from
    /// `expires_at` on.
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// The session's ARN, as `GetCallerIdentity` returns it (reference
    /// 1.3): the assumed-role ARN (without the role's path), the
    /// federated-user ARN, or the user's / root's own ARN for a
    /// GetSessionToken session.
    pub fn arn(&self, partition: &Partition) -> Arn {
        match &self.principal {
            SessionPrincipal::AssumedRole {
                role_arn,
                session_name,
                ..
            } => {
                let role_name = role_arn.resource().rsplit('/').next().unwrap_or_default();
                // Valid for every checked session: a role name and a
                // session name in an ARN with a validated partition and
                // account.
                Arn::new_unchecked(format!(
                    "arn:{partition}:sts::{}:assumed-role/{role_name}/{session_name}",
                    self.account
                ))
            }
            SessionPrincipal::User { user_arn, .. } => user_arn.clone(),
            SessionPrincipal::Root => Arn::iam_root(partition, self.account),
            SessionPrincipal::FederatedUser { name, .. } => Arn::new_unchecked(format!(
                "arn:{partition}:sts::{}:federated-user/{name}",
                self.account
            )),
        }
    }

    /// The user id of reference 1.3: `ROLEID:SESSION`, `ACCT:NAME`, or the
    /// underlying user's id / the account for a GetSessionToken session.
    pub fn user_id(&self) -> String {
        match &self.principal {
            SessionPrincipal::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            SessionPrincipal::User { user_id, .. } => user_id.to_string(),
            SessionPrincipal::Root => self.account.to_string(),
            SessionPrincipal::FederatedUser { name, .. } => format!("{}:{name}", self.account),
        }
    }

    /// `aws:PrincipalType` (reference 7.4).
    pub fn principal_type(&self) -> &'static str {
        match &self.principal {
            SessionPrincipal::AssumedRole { .. } => "AssumedRole",
            SessionPrincipal::User { .. } => "User",
            SessionPrincipal::Root => "Account",
            SessionPrincipal::FederatedUser { .. } => "FederatedUser",
        }
    }

    /// [`packed_policy_size`] of this session's policies and tags.
    pub fn packed_policy_size(&self) -> u32 {
        packed_policy_size(self.policy.as_deref(), &self.policy_arns, &self.tags)
    }
}
