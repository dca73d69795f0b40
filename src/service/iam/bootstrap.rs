//! Bootstrap: identities declared in files, applied idempotently at start.
//!
//! Owns: reading documents in the JSON shape of
//! `aws iam get-account-authorization-details --output json` into the
//! state they ask for ([`document`], pure), the diff between that state
//! and the store ([`plan`], pure), and running it as the account's root
//! ([`apply()`]). Applying what is already there changes nothing, not even
//! the store's generation, so a restart with the same files is a no-op;
//! what differs is updated in place (paths, trust policies, inline
//! policies, attachments, boundaries, tags, group membership, managed
//! policies' default documents); what is missing is created. Nothing is
//! deleted that the documents do not mention, and no access key is ever
//! created (the shape carries none).
//!
//! IDs and dates in the documents are not kept: stsd issues its own
//! (unique IDs, creation dates and version numbers), so trust policies
//! must name principals by ARN. Reading the files is the caller's job
//! (`app`); this module sees their text.
//!
//! May import `domain`, `service::authz`, `service::error`,
//! `service::store` and the IAM operations. Spec: DESIGN.md
//! "Configuration"; botocore's IAM model for the shape.

mod apply;
pub mod document;
mod error;
pub mod moves;
pub mod plan;

pub use apply::{Report, apply};
pub use document::{Desired, Target};
pub use error::BootstrapError;

#[cfg(test)]
mod tests;
