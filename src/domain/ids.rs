//! Identifier newtypes: accounts, ARNs, IAM names, STS parameters, tags,
//! access key IDs and unique IDs.
//!
//! Owns: one validated type per identifier (house style 4). Each parses with
//! `FromStr` / `TryFrom<String>` against the constraints of the AWS models
//! (reference 1.2, 3, 5.3 and 12), prints with a `Display` that parses back
//! to the same value, exposes `AsRef<str>`, and is (de)serialised by serde
//! as a plain string that is validated on the way in. Every failure is an
//! [`IdError`] that carries the member name, the value and the broken
//! constraints, so the API layer renders AWS's `ValidationError` text.
//!
//! Pure: may import std, serde, thiserror and data-encoding only. No clock;
//! randomness comes in through [`RandomSource`].
//!
//! Spec: `shared/reference/sts-iam-reference.md` sections 1.2, 3, 5.3, 12.

mod account;
mod arn;
mod error;
mod iam_name;
mod principal;
mod provider;
mod random;
mod spec;
mod sts_param;
mod tag;
mod unique_id;

#[cfg(test)]
mod tests;

pub use account::{AccountAlias, AccountId, Partition, Region};
pub use arn::Arn;
pub use error::{Constraint, IdError};
pub use iam_name::{GroupName, IamPath, MfaDeviceName, PolicyName, RoleName, UserName};
pub use principal::PrincipalKind;
pub use provider::{OidcProviderUrl, SamlProviderName};
pub use random::RandomSource;
pub use sts_param::{ExternalId, FederatedUserName, RoleSessionName, SerialNumber, SourceIdentity};
pub use tag::{TagKey, TagValue};
pub use unique_id::{AccessKeyId, UniqueId, UniqueIdPrefix};
