//! Session revocation and the record of issued sessions, as pure rules.
//!
//! Owns: [`RevocationRule`] (what a revocation targets, from when, and how
//! long it must be kept: [`RevocationRule::retain_until`]), the compiled
//! [`RevocationSet`] consulted on every session authentication (hash
//! lookups only), [`IssuedSession`] (what the broker records of every
//! session it mints, kept until the session expires) and [`SessionFilter`]
//! (which issued sessions a listing selects). Pure: std, serde and
//! `domain::{ids, credential, sts}`; time is an input (unix seconds).
//! Spec: DESIGN.md "State" (revocation is a small deny list); issue 6.

mod issued;
mod rule;
mod set;

pub use issued::{IssuedSession, SessionFilter};
pub use rule::{MAX_SUBJECT_LEN, RevocationId, RevocationRule, RevocationTarget, subject_key};
pub use set::{RevocationSet, Revoked};

#[cfg(test)]
mod tests;
