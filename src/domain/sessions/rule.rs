//! One revocation rule.
//!
//! Owns: [`RevocationRule`], its [`RevocationTarget`], its id
//! ([`RevocationId`]), which sessions it matches
//! ([`RevocationRule::matches`]) and how long it must be kept
//! ([`RevocationRule::retain_until`]: until the longest session it can
//! match has expired). Pure.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::credential::{Session, SessionPrincipal};
use crate::domain::ids::{AccessKeyId, AccountId, Arn, SourceIdentity};
use crate::domain::sts::duration::{MAX_ROLE_DURATION, MAX_TOKEN_DURATION};

/// The longest federated subject (`sub`, SAML `NameID`) a rule names.
pub const MAX_SUBJECT_LEN: usize = 255;

/// The id of a revocation rule: `rv-` and 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RevocationId(String);

/// What a rule revokes, within its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevocationTarget {
    /// The one session of this `ASIA…` key.
    Session {
        /// The session's access key id.
        access_key_id: AccessKeyId,
    },
    /// Every session of the role, matched by the role's name (any path,
    /// case-insensitively, as IAM names are unique).
    Role {
        /// The role's ARN.
        role_arn: Arn,
    },
    /// Every session carrying this source identity (compared exactly).
    SourceIdentity {
        /// The source identity.
        source_identity: SourceIdentity,
    },
    /// Every session of a federated subject: the identity provider (the
    /// IAM OIDC or SAML provider's ARN) and the value of its `sub` key
    /// (`<issuer host/path>:sub`, `saml:sub`) as the session records it.
    Subject {
        /// The provider's ARN.
        provider_arn: Arn,
        /// The subject.
        subject: String,
    },
    /// Every session of the account.
    Account,
}

/// A revocation: sessions of `account` matching `target` and issued at
/// or before `issued_before` are refused from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRule {
    /// The rule's id.
    pub id: RevocationId,
    /// The account whose sessions it revokes.
    pub account: AccountId,
    /// What it revokes.
    pub target: RevocationTarget,
    /// Unix seconds: sessions issued at or before this second are revoked
    /// (for [`RevocationTarget::Session`]: when the rule was made).
    pub issued_before: u64,
    /// Unix seconds when the rule was made.
    pub created_at: u64,
}

// === impl RevocationId ===

impl RevocationId {
    /// The id of 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(35);
        s.push_str("rv-");
        for b in bytes {
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RevocationId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = s.strip_prefix("rv-").is_some_and(|hex| {
            hex.len() == 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(s))
        } else {
            Err(format!("invalid revocation id {s:?}"))
        }
    }
}

impl std::str::FromStr for RevocationId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

impl From<RevocationId> for String {
    fn from(id: RevocationId) -> Self {
        id.0
    }
}

impl fmt::Display for RevocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// === impl RevocationTarget ===

impl RevocationTarget {
    /// The longest lifetime, in seconds, of a session this target can
    /// match: role sessions (every session with a role, a source identity
    /// or a federated subject) live at most 12 h; a single key or the
    /// whole account may be a GetSessionToken / GetFederationToken
    /// session of up to 36 h.
    pub fn longest_session(&self) -> u64 {
        match self {
            Self::Role { .. } | Self::SourceIdentity { .. } | Self::Subject { .. } => {
                u64::from(MAX_ROLE_DURATION)
            }
            Self::Session { .. } | Self::Account => u64::from(MAX_TOKEN_DURATION),
        }
    }

    /// A short name of the kind, for messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Session { .. } => "session",
            Self::Role { .. } => "role",
            Self::SourceIdentity { .. } => "source_identity",
            Self::Subject { .. } => "subject",
            Self::Account => "account",
        }
    }
}

// === impl RevocationRule ===

impl RevocationRule {
    /// Unix seconds until which the rule must be kept: every session it
    /// can match has expired by then (issued at or before
    /// `issued_before`, living at most [`RevocationTarget::longest_session`]).
    pub fn retain_until(&self) -> u64 {
        self.issued_before
            .saturating_add(self.target.longest_session())
    }

    /// Whether the rule revokes `session`.
    pub fn matches(&self, session: &Session) -> bool {
        if let RevocationTarget::Session { access_key_id } = &self.target {
            return session.access_key_id == *access_key_id;
        }
        if session.account != self.account || session.issued_at > self.issued_before {
            return false;
        }
        match &self.target {
            RevocationTarget::Session { .. } | RevocationTarget::Account => true,
            RevocationTarget::Role { role_arn } => session_role_name(session)
                .is_some_and(|n| n.eq_ignore_ascii_case(role_name(role_arn))),
            RevocationTarget::SourceIdentity { source_identity } => {
                session.source_identity.as_deref() == Some(source_identity.as_str())
            }
            RevocationTarget::Subject {
                provider_arn,
                subject,
            } => session_subject(session, provider_arn.as_str()) == Some(subject.as_str()),
        }
    }
}

/// The name of a role ARN: the last segment of its resource.
pub(super) fn role_name(arn: &Arn) -> &str {
    arn.resource().rsplit('/').next().unwrap_or_default()
}

/// The role name of a role session.
pub(super) fn session_role_name(session: &Session) -> Option<&str> {
    match &session.principal {
        SessionPrincipal::AssumedRole { role_arn, .. } => Some(role_name(role_arn)),
        SessionPrincipal::User { .. }
        | SessionPrincipal::Root
        | SessionPrincipal::FederatedUser { .. } => None,
    }
}

/// The condition key holding the subject of sessions from the provider
/// `provider_arn`: `saml:sub` for a SAML provider, `<host/path>:sub` for
/// an OIDC provider; `None` for any other ARN.
pub fn subject_key(provider_arn: &str) -> Option<String> {
    let resource = provider_arn.splitn(6, ':').nth(5)?;
    if resource.starts_with("saml-provider/") {
        return Some("saml:sub".to_owned());
    }
    resource
        .strip_prefix("oidc-provider/")
        .map(|host_path| format!("{host_path}:sub"))
}

/// The subject of `session` if it comes from `provider_arn`.
pub(super) fn session_subject<'s>(session: &'s Session, provider_arn: &str) -> Option<&'s str> {
    if session.provider.as_deref() != Some(provider_arn) {
        return None;
    }
    let key = subject_key(provider_arn)?;
    session
        .provider_keys
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}
