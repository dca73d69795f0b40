//! Why an AssumeRoleWithSAML assertion was refused.
//!
//! Owns: [`SamlError`], one variant per refusal, and its conversion into
//! the [`ServiceError`] the wire sees: the AWS code of reference 1.7 and 8
//! (`InvalidIdentityToken` for anything wrong with the document,
//! `ExpiredTokenException` for an expired one, `IDPRejectedClaim` when the
//! IdP itself reports a failure) with AWS's message where it has one. The
//! detail (which check, which value) goes to the log only, so a probe
//! learns nothing about why a forged document failed. Imports
//! `service::error` and the siblings' errors.

use super::metadata::MetadataError;
use super::xml::XmlError;
use crate::service::error::{ErrorCode, ServiceError};

/// A refused assertion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SamlError {
    /// `SAMLAssertion` is not base64 of UTF-8 text.
    #[error("the saml assertion is not base64 of utf-8 text")]
    Encoding,
    /// The document is not XML this reader accepts (DTD, entity, …).
    #[error("{0}")]
    Xml(XmlError),
    /// The document's shape is wrong: not a response, several assertions,
    /// a signature in the wrong place, duplicated IDs, …
    #[error("the saml response is malformed: {0}")]
    Shape(&'static str),
    /// No valid signature by a key of the provider covers the assertion.
    #[error("signature check failed: {0}")]
    Signature(String),
    /// An `EncryptedAssertion` that cannot be decrypted.
    #[error("the encrypted assertion cannot be decrypted: {0}")]
    Decryption(String),
    /// The response's status is not Success.
    #[error("the identity provider reported {0}")]
    IdpStatus(String),
    /// `PrincipalArn` names no SAML provider.
    #[error("no saml provider {0}")]
    UnknownProvider(String),
    /// The provider's metadata yields no signing keys.
    #[error("{0}")]
    Metadata(MetadataError),
    /// The assertion's issuer is not the provider's entity ID.
    #[error("issuer {0} is not the provider's entity id")]
    Issuer(String),
    /// No accepted audience in an audience restriction.
    #[error("no accepted audience in the assertion")]
    Audience,
    /// Not exactly one bearer subject confirmation, or it lacks
    /// `NotOnOrAfter` or `Recipient`.
    #[error("bearer subject confirmation: {0}")]
    Confirmation(&'static str),
    /// The recipient is not an accepted endpoint.
    #[error("recipient {0} is not accepted")]
    Recipient(String),
    /// Before `NotBefore` (minus the skew).
    #[error("the assertion is not yet valid")]
    NotYetValid,
    /// At or after `NotOnOrAfter` (plus the skew).
    #[error("the assertion has expired")]
    Expired,
    /// The assertion ID was accepted before.
    #[error("assertion id already used")]
    Replayed,
    /// The subject is missing or unusable.
    #[error("subject: {0}")]
    Subject(&'static str),
    /// No `Role` value pairs the request's `RoleArn` and `PrincipalArn`.
    #[error("the role attribute does not pair the requested role and provider")]
    RoleNotInAssertion,
    /// An AWS attribute is missing or invalid; the message is AWS's.
    #[error("{0}")]
    Attribute(String),
}

impl From<XmlError> for SamlError {
    fn from(e: XmlError) -> Self {
        Self::Xml(e)
    }
}

impl From<MetadataError> for SamlError {
    fn from(e: MetadataError) -> Self {
        Self::Metadata(e)
    }
}

impl From<SamlError> for ServiceError {
    fn from(e: SamlError) -> Self {
        use SamlError as S;
        let (code, message) = match &e {
            S::Encoding | S::Xml(_) | S::Shape(_) => (
                ErrorCode::InvalidIdentityToken,
                "Invalid SAML response: the SAMLAssertion is not a well-formed SAML response"
                    .to_owned(),
            ),
            S::Signature(_) => (
                ErrorCode::InvalidIdentityToken,
                "Response signature invalid".to_owned(),
            ),
            S::Decryption(_) => (
                ErrorCode::InvalidIdentityToken,
                "Unable to decrypt the encrypted assertion".to_owned(),
            ),
            S::IdpStatus(_) => (
                ErrorCode::IdpRejectedClaim,
                "The identity provider rejected the authentication".to_owned(),
            ),
            S::UnknownProvider(arn) => (
                ErrorCode::InvalidIdentityToken,
                format!("Specified provider doesn't exist: principalArn {arn}"),
            ),
            S::Metadata(_) => (
                ErrorCode::InvalidIdentityToken,
                "The metadata of the specified provider has no usable signing certificate"
                    .to_owned(),
            ),
            S::Issuer(_) => (
                ErrorCode::InvalidIdentityToken,
                "Issuer not present in specified provider".to_owned(),
            ),
            S::Audience => (
                ErrorCode::InvalidIdentityToken,
                "Response does not contain the required audience".to_owned(),
            ),
            S::Confirmation(_) => (
                ErrorCode::InvalidIdentityToken,
                "Assertion must contain exactly one bearer SubjectConfirmation with NotOnOrAfter and Recipient".to_owned(),
            ),
            S::Recipient(_) => (
                ErrorCode::InvalidIdentityToken,
                "Recipient of the SubjectConfirmationData is not an accepted endpoint".to_owned(),
            ),
            S::NotYetValid => (
                ErrorCode::InvalidIdentityToken,
                "Assertion is not yet valid".to_owned(),
            ),
            S::Expired => (
                ErrorCode::ExpiredTokenException,
                "Assertion has expired".to_owned(),
            ),
            S::Replayed => (
                ErrorCode::InvalidIdentityToken,
                "Assertion has already been used".to_owned(),
            ),
            S::Subject(_) => (
                ErrorCode::InvalidIdentityToken,
                "Assertion must contain a Subject with a NameID".to_owned(),
            ),
            S::RoleNotInAssertion => (
                ErrorCode::AccessDenied,
                "Not authorized to perform sts:AssumeRoleWithSAML".to_owned(),
            ),
            S::Attribute(m) => (ErrorCode::InvalidIdentityToken, m.clone()),
        };
        tracing::info!(reason = %e, code = code.as_str(), "AssumeRoleWithSAML refused");
        ServiceError::new(code, message)
    }
}
