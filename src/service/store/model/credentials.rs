//! Records of credentials and identity providers: access keys, virtual
//! MFA devices, SAML and OIDC providers.
//!
//! Owns: [`AccessKeyRecord`], [`MfaDeviceRecord`], [`SamlProviderRecord`],
//! [`OidcProviderRecord`] and their small enums. Secrets are held only as
//! [`SealedBlob`]s sealed by the IAM layer under the master key
//! (`domain::seal`, purposes `access-key:<id>` and `mfa-seed:<serial>`),
//! so neither the store nor its files ever see plaintext.

use serde::{Deserialize, Serialize};

use super::{Tag, Timestamp};
use crate::domain::ids::{
    AccessKeyId, AccountId, Arn, IamPath, MfaDeviceName, OidcProviderUrl, SamlProviderName,
    UserName,
};
use crate::domain::seal::SealedBlob;

/// Who a long-term credential (access key, MFA device) belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialOwner {
    /// The account's root identity.
    Root,
    /// An IAM user of the account.
    User(UserName),
}

/// The status of an access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    /// Usable for signing.
    Active,
    /// Refused for signing; can be re-activated.
    Inactive,
}

/// A long-term access key. Stored under its account and found by ID alone
/// through [`crate::service::store::AccessKeyIndex`]; last-used data lives
/// in [`crate::service::store::UsageLog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    /// The owning account.
    pub account: AccountId,
    /// The key ID (`AKIA…`), unique across accounts.
    pub id: AccessKeyId,
    /// The root or the user it belongs to.
    pub owner: CredentialOwner,
    /// The secret access key, sealed for `access-key:<id>`.
    pub secret: SealedBlob,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// When it was created.
    pub create_date: Timestamp,
}

/// Who a virtual MFA device is enabled for, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaAssignment {
    /// The root or the user.
    pub owner: CredentialOwner,
    /// When `EnableMFADevice` succeeded.
    pub enable_date: Timestamp,
}

/// A virtual MFA device. Its serial number is its ARN
/// (`arn:aws:iam::<acct>:mfa/<path><name>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaDeviceRecord {
    /// The owning account.
    pub account: AccountId,
    /// The device name, case preserved.
    pub name: MfaDeviceName,
    /// The path.
    pub path: IamPath,
    /// The serial number, which is the device ARN.
    pub serial: Arn,
    /// The Base32 TOTP seed, sealed for `mfa-seed:<serial>`.
    pub seed: SealedBlob,
    /// The user or root it is enabled for; `None` until enabled.
    #[serde(default)]
    pub assignment: Option<MfaAssignment>,
    /// The last TOTP time step accepted by enable or resync. Steps at or
    /// before it are refused; each later step is also spent through
    /// [`crate::service::store::ReplayGuard`] when a session uses it.
    #[serde(default)]
    pub last_accepted_step: Option<u64>,
    /// Steps the device's clock runs ahead of (positive) or behind
    /// (negative) ours, as the last `ResyncMFADevice` found it; code
    /// checks centre their window on now shifted by this. 0 until then.
    #[serde(default)]
    pub drift_steps: i64,
    /// STS `TokenCode` checks of this device since the last accepted one
    /// (`service::sts::mfa`'s brute-force limit): each check counts before
    /// the code is looked at, an accepted code resets it.
    #[serde(default)]
    pub failed_codes: u32,
    /// Until when STS refuses every code of this device, after too many
    /// failed checks.
    #[serde(default)]
    pub locked_until: Option<Timestamp>,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When it was created.
    pub create_date: Timestamp,
}

/// A SAML identity provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlProviderRecord {
    /// The owning account.
    pub account: AccountId,
    /// The name, case preserved.
    pub name: SamlProviderName,
    /// The ARN.
    pub arn: Arn,
    /// The SAML metadata document, as given.
    pub metadata_document: String,
    /// When it was created.
    pub create_date: Timestamp,
    /// The metadata's `validUntil`, if any.
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// An OpenID Connect identity provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcProviderRecord {
    /// The owning account.
    pub account: AccountId,
    /// The issuer URL.
    pub url: OidcProviderUrl,
    /// The ARN.
    pub arn: Arn,
    /// Accepted audiences (`aud`).
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// Server certificate thumbprints (40 hex characters each).
    #[serde(default)]
    pub thumbprints: Vec<String>,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When it was created.
    pub create_date: Timestamp,
}
