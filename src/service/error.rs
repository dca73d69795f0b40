//! The one error type of the use-case layer.
//!
//! Owns: [`ServiceError`] — an AWS error code ([`ErrorCode`], exhaustive) and
//! a message safe to send to the caller. The only place that turns it into an
//! HTTP status, XML/JSON body or gRPC status is `api/error.rs`, through an
//! exhaustive match on [`ErrorCode`], so a new code breaks the build of every
//! transport until it is mapped. Internal failures keep their cause for the
//! log and show callers a generic message. A policy denial carries the
//! [`AuthorizationRecord`] of its decision, which the transport seals into
//! the message ("Encoded authorization failure message: …",
//! `service::sts::auth_message`). Also the conversion of the STS rule
//! errors into AWS's codes and texts.

use std::fmt;

use crate::domain::sts::{AuthorizationRecord, StsRuleError};

/// Every error code stsd sends. Names are AWS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // --- common (STS and IAM) ---
    /// Policy denial (403).
    AccessDenied,
    /// Unknown `Action` (400).
    InvalidAction,
    /// No `Action` (400).
    MissingAction,
    /// A required parameter is absent (400).
    MissingParameter,
    /// A bad value not covered by `ValidationError` (400).
    InvalidParameterValue,
    /// A parameter violates its constraints (400).
    ValidationError,
    /// Unknown access key or invalid session token (403).
    InvalidClientTokenId,
    /// Session token expired (403).
    ExpiredToken,
    /// Bad signature, or clock skew (403).
    SignatureDoesNotMatch,
    /// Malformed `Authorization` or missing query auth parameters (400).
    IncompleteSignature,
    /// No credentials on a signed action (403).
    MissingAuthenticationToken,
    /// Presigned URL or request timestamp out of range (400).
    RequestExpired,
    /// Rate limited (400).
    Throttling,
    /// Transient unavailability, e.g. the store is unreachable (503).
    ServiceUnavailable,
    /// A server bug or unexpected failure (500).
    InternalFailure,
    /// A policy document is invalid (400).
    MalformedPolicyDocument,
    /// The request body exceeds the configured limit (413).
    RequestEntityTooLarge,
    // --- IAM ---
    /// The entity does not exist (404).
    NoSuchEntity,
    /// The entity already exists (409).
    EntityAlreadyExists,
    /// A quota would be exceeded (409).
    LimitExceeded,
    /// The entity still has subordinate entities (409).
    DeleteConflict,
    /// An input is invalid (400).
    InvalidInput,
    /// A concurrent modification was detected (409).
    ConcurrentModification,
    /// The entity cannot be modified in its state (409), e.g. an MFA device
    /// already enabled.
    EntityTemporarilyUnmodifiable,
    /// Authentication codes of `EnableMFADevice` are wrong (403).
    InvalidAuthenticationCode,
    /// A password or credential report is not ready / not found (404/410).
    ReportNotPresent,
    /// A credential report is older than four hours (410).
    ReportExpired,
    /// A new console password breaks the account password policy (400);
    /// the message names the rules.
    PasswordPolicyViolation,
    /// The caller is not the kind of identity the action is for (400):
    /// `ChangePassword` by anyone but an IAM user.
    InvalidUserType,
    // --- STS ---
    /// Session policies and tags exceed the packed size (400).
    PackedPolicyTooLarge,
    /// STS is not enabled in the region (403).
    RegionDisabledException,
    /// A web-identity token, SAML assertion or context expired (400).
    ExpiredTokenException,
    /// The IdP rejected the claim (403).
    IdpRejectedClaim,
    /// The IdP could not be reached (400, retryable).
    IdpCommunicationError,
    /// A token or assertion failed validation (400).
    InvalidIdentityToken,
    /// `DecodeAuthorizationMessage` input is invalid (400).
    InvalidAuthorizationMessageException,
}

// === impl ErrorCode ===

impl ErrorCode {
    /// The code exactly as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "AccessDenied",
            Self::InvalidAction => "InvalidAction",
            Self::MissingAction => "MissingAction",
            Self::MissingParameter => "MissingParameter",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::ValidationError => "ValidationError",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::ExpiredToken => "ExpiredToken",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::IncompleteSignature => "IncompleteSignature",
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::RequestExpired => "RequestExpired",
            Self::Throttling => "Throttling",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::InternalFailure => "InternalFailure",
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::NoSuchEntity => "NoSuchEntity",
            Self::EntityAlreadyExists => "EntityAlreadyExists",
            Self::LimitExceeded => "LimitExceeded",
            Self::DeleteConflict => "DeleteConflict",
            Self::InvalidInput => "InvalidInput",
            Self::ConcurrentModification => "ConcurrentModification",
            Self::EntityTemporarilyUnmodifiable => "EntityTemporarilyUnmodifiable",
            Self::InvalidAuthenticationCode => "InvalidAuthenticationCode",
            Self::ReportNotPresent => "ReportNotPresent",
            Self::ReportExpired => "ReportExpired",
            Self::PasswordPolicyViolation => "PasswordPolicyViolation",
            Self::InvalidUserType => "InvalidUserType",
            Self::PackedPolicyTooLarge => "PackedPolicyTooLarge",
            Self::RegionDisabledException => "RegionDisabledException",
            Self::ExpiredTokenException => "ExpiredTokenException",
            Self::IdpRejectedClaim => "IDPRejectedClaim",
            Self::IdpCommunicationError => "IDPCommunicationError",
            Self::InvalidIdentityToken => "InvalidIdentityToken",
            Self::InvalidAuthorizationMessageException => "InvalidAuthorizationMessageException",
        }
    }
}

/// An error of a use case: a code and a caller-safe message.
#[derive(Debug)]
pub struct ServiceError {
    code: ErrorCode,
    message: String,
    /// What only the server sees; boxed so the error stays small.
    detail: Option<Box<Detail>>,
}

/// The parts of a [`ServiceError`] never sent as they are.
#[derive(Debug)]
enum Detail {
    /// The internal cause, logged with the request id.
    Cause(Box<dyn std::error::Error + Send + Sync>),
    /// For a policy denial, what decided it; sealed into the message on
    /// the way out.
    Denial(AuthorizationRecord),
}

// === impl ServiceError ===

impl ServiceError {
    /// An error with `code` and a message for the caller.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// An internal failure: the caller sees a generic message; `source` is
    /// kept for the log.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            code: ErrorCode::InternalFailure,
            message: "We encountered an internal error. Please try again.".into(),
            detail: Some(Box::new(Detail::Cause(source.into()))),
        }
    }

    /// The store or another dependency is unreachable; retryable.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            code: ErrorCode::ServiceUnavailable,
            message: "The service is unavailable. Please try again shortly.".into(),
            detail: Some(Box::new(Detail::Cause(source.into()))),
        }
    }

    /// AWS's `1 validation error detected: Value 'x' at 'member' failed to
    /// satisfy constraint: …` form (`member` in lower camel case).
    pub fn validation(value: &str, member: &str, constraint: &str) -> Self {
        Self::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// `NoSuchEntity` with AWS's wording for `what` (`user`, `role`, …).
    pub fn no_such_entity(what: &str, name: &str) -> Self {
        Self::new(
            ErrorCode::NoSuchEntity,
            format!("The {what} with name {name} cannot be found."),
        )
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The internal cause, for logging.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync)> {
        match self.detail.as_deref() {
            Some(Detail::Cause(cause)) => Some(&**cause),
            _ => None,
        }
    }

    /// Attaches the record of the policy decision behind this denial.
    #[must_use]
    pub fn with_denial(mut self, record: AuthorizationRecord) -> Self {
        self.detail = Some(Box::new(Detail::Denial(record)));
        self
    }

    /// The record of the policy decision behind this denial, if any.
    pub fn denial(&self) -> Option<&AuthorizationRecord> {
        match self.detail.as_deref() {
            Some(Detail::Denial(record)) => Some(record),
            _ => None,
        }
    }

    /// Removes the decision record and appends `text` to the message: how
    /// the transport replaces the record with its sealed form.
    pub fn seal_denial(
        mut self,
        seal: impl FnOnce(&AuthorizationRecord) -> Option<String>,
    ) -> Self {
        let Some(Detail::Denial(record)) = self.detail.as_deref() else {
            return self;
        };
        let text = seal(record);
        self.detail = None;
        if let Some(text) = text {
            self.message.push(' ');
            self.message.push_str(&text);
        }
        self
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.detail.as_deref() {
            Some(Detail::Cause(cause)) => Some(&**cause as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl From<crate::domain::policy::PolicyError> for ServiceError {
    fn from(e: crate::domain::policy::PolicyError) -> Self {
        Self::new(ErrorCode::MalformedPolicyDocument, e.to_string())
    }
}

impl From<StsRuleError> for ServiceError {
    /// AWS's codes and texts for the STS request rules (reference 1.3,
    /// 1.6); AWS's own wording where it is known.
    fn from(e: StsRuleError) -> Self {
        use StsRuleError as E;
        match e {
            E::DurationTooShort { requested, min } => Self::validation(
                &requested.to_string(),
                "durationSeconds",
                &format!("Member must have value greater than or equal to {min}"),
            ),
            E::DurationTooLong { requested, max } => Self::validation(
                &requested.to_string(),
                "durationSeconds",
                &format!("Member must have value less than or equal to {max}"),
            ),
            E::ExceedsRoleMaximum { .. } => Self::new(
                ErrorCode::ValidationError,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
            E::ExceedsChainingLimit { .. } => Self::new(
                ErrorCode::ValidationError,
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ),
            E::TooManyTags { what, max, .. } => {
                let member = if what == "tags" {
                    "tags"
                } else {
                    "transitiveTagKeys"
                };
                Self::new(
                    ErrorCode::ValidationError,
                    format!(
                        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
                    ),
                )
            }
            E::ReservedTagKey { .. } => Self::new(
                ErrorCode::InvalidParameterValue,
                "Session tag keys cannot start with 'aws:'.",
            ),
            E::DuplicateTagKey { .. } => Self::new(
                ErrorCode::InvalidParameterValue,
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ),
            E::TransitiveKeyNotInTags { .. } => Self::new(
                ErrorCode::InvalidParameterValue,
                "The specified transitive tag key must be included in the requested tags.",
            ),
            E::OverridesTransitiveTag { key } => Self::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "The session tag key {key} matches a transitive tag key of the calling session; transitive session tags cannot be overridden."
                ),
            ),
        }
    }
}
