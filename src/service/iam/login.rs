//! Console sign-in for IAM users: login profiles, the account password
//! policy and the account alias.
//!
//! Owns: the IAM actions behind the sign-in page — [`profiles`]
//! (Create/Get/Update/DeleteLoginProfile, ChangePassword), [`policy`]
//! (Get/Update/DeleteAccountPasswordPolicy) and [`alias`]
//! (Create/Delete/ListAccountAliases) — and [`hashing`], which runs argon2
//! off the async runtime. Passwords are kept only as argon2id hashes
//! (`domain::password`); the sign-in page itself checks one with
//! [`crate::domain::password::verify_password`]. May import `domain`,
//! `service::authz`, `service::error`, `service::store` and tokio.
//! Spec: reference section 12.

pub mod alias;
pub mod hashing;
pub mod policy;
pub mod profiles;

#[cfg(test)]
mod tests;
