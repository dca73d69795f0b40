//! Encoded authorization messages: sealing the record of a denial into
//! its `AccessDenied` message, and DecodeAuthorizationMessage.
//!
//! Owns: [`MessageSealer`] — every policy denial the broker returns (the
//! IAM API's and STS's alike: the transport passes each error through
//! [`MessageSealer::encode`]) ends with "Encoded authorization failure
//! message: <blob>", where the blob is the decision's
//! [`AuthorizationRecord`] as JSON, sealed (AES-256-GCM, `domain::seal`)
//! under the decode key for the purpose `authz-message:<account>` of the
//! denied principal's account, then base64url-encoded without padding. AWS
//! adds such a message to some services' denials only; stsd adds it to
//! every denial that comes from a policy decision (refusals that are not
//! policy decisions — root assuming a role, session credentials calling
//! GetSessionToken, MFA failures — carry none). Only the broker can read a
//! blob, and only for a caller of the account the denial was about:
//! [`decode_authorization_message`] requires `sts:DecodeAuthorizationMessage`
//! and answers AWS's `DecodedMessage` JSON (reference 1.3).
//! May import `domain`, `service::authn`, `service::authz`,
//! `service::error` and `service::iam` (the entropy port).

use std::sync::Arc;

use data_encoding::BASE64URL_NOPAD;

use crate::domain::ids::AccountId;
use crate::domain::seal::{self, MasterKey, SealPurpose, SealedBlob};
use crate::domain::sts::AuthorizationRecord;
use crate::service::authn::Caller;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Entropy;

use super::{Sts, refuse_restricted_session};

/// The longest `EncodedMessage` accepted (`encodedMessageType`).
pub const MAX_ENCODED_MESSAGE: usize = 10_240;

/// What precedes the blob in a denial's message.
pub const PREFIX: &str = "Encoded authorization failure message:";

/// Seals denial records and opens them again.
#[derive(Debug, Clone)]
pub struct MessageSealer {
    key: Arc<MasterKey>,
    entropy: Arc<dyn Entropy>,
}

// === impl MessageSealer ===

impl MessageSealer {
    /// A sealer under `key`, nonces from `entropy`.
    pub fn new(key: Arc<MasterKey>, entropy: Arc<dyn Entropy>) -> Self {
        Self { key, entropy }
    }

    /// `error` with its denial record (if any) sealed into its message. A
    /// record that cannot be sealed (the CSPRNG failed) is dropped and
    /// logged: the denial itself still stands.
    pub fn encode(&self, error: ServiceError) -> ServiceError {
        error.seal_denial(|record| match self.seal(record) {
            Ok(blob) => Some(format!("{PREFIX} {blob}")),
            Err(e) => {
                tracing::warn!(error = %e, "cannot seal an authorization message");
                None
            }
        })
    }

    /// The blob of `record`.
    fn seal(&self, record: &AuthorizationRecord) -> Result<String, ServiceError> {
        let account: AccountId = record
            .principal_account
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(ServiceError::internal)?;
        let json = record.to_json();
        let mut failure = None;
        let mut nonces = |buf: &mut [u8]| {
            if let Err(e) = self.entropy.fill(buf) {
                failure = Some(e);
            }
        };
        let purpose = SealPurpose::authorization_message(&account);
        let blob = seal::seal(&self.key, &purpose, json.as_bytes(), &mut nonces);
        if let Some(e) = failure {
            return Err(e);
        }
        let blob = blob.map_err(ServiceError::internal)?;
        Ok(BASE64URL_NOPAD.encode(blob.as_bytes()))
    }

    /// The `DecodedMessage` JSON of `encoded`, if it was sealed about a
    /// principal of `account`.
    ///
    /// # Errors
    ///
    /// `InvalidAuthorizationMessageException` for anything else.
    pub fn open(&self, account: AccountId, encoded: &str) -> Result<String, ServiceError> {
        let invalid = || {
            ServiceError::new(
                ErrorCode::InvalidAuthorizationMessageException,
                "The encoded authorization message is not valid.",
            )
        };
        let bytes = BASE64URL_NOPAD
            .decode(encoded.as_bytes())
            .map_err(|_| invalid())?;
        let blob = SealedBlob::from_bytes(bytes).map_err(|_| invalid())?;
        let purpose = SealPurpose::authorization_message(&account);
        let opened = seal::open(&self.key, &purpose, &blob).map_err(|_| invalid())?;
        String::from_utf8(opened.expose_secret().to_vec()).map_err(|_| invalid())
    }
}

// === impl Sts ===

impl Sts {
    /// The sealer of authorization messages, under [`Sts::decode_key`].
    pub fn messages(&self) -> MessageSealer {
        MessageSealer::new(Arc::clone(&self.decode_key), Arc::clone(&self.entropy))
    }
}

/// DecodeAuthorizationMessage: the decision record sealed in `encoded`.
///
/// # Errors
///
/// `AccessDenied` without `sts:DecodeAuthorizationMessage`,
/// `InvalidAuthorizationMessageException` for a message that does not open
/// (altered, line breaks, another broker's, or about another account).
pub async fn decode_authorization_message(
    sts: &Sts,
    caller: &Caller,
    authz: &AuthzCaller,
    encoded: &str,
) -> Result<String, ServiceError> {
    refuse_restricted_session(
        caller,
        &sts.partition,
        "sts:DecodeAuthorizationMessage",
        "*",
    )?;
    authz.authorize("sts:DecodeAuthorizationMessage", "*", &[])?;
    sts.messages().open(caller.account, encoded)
}
