//! STS request rules that need no I/O.
//!
//! Owns: the per-provider claim mapping of federated identities
//! ([`claims`]), the session-duration rules of every minting action ([`duration`]:
//! bounds, defaults, the root clamp and the role-chaining cap), the
//! session-tag rules ([`tags`]: at most 50, no `aws:` keys, unique keys,
//! transitive keys a subset of the tags, inherited transitive tags never
//! overridden), and the authorization record that a sealed `AccessDenied`
//! message carries and `DecodeAuthorizationMessage` returns ([`record`]).
//! Each rule breaks with one [`StsRuleError`] variant; the service layer
//! turns it into AWS's error code and text.
//!
//! Pure: std, serde_json and thiserror; the policy evaluator's types.
//! Spec: reference sections 1.2, 1.3, 1.6 and 7.

pub mod claims;
pub mod duration;
mod error;
pub mod record;
pub mod tags;

pub use claims::{ClaimError, ClaimMapping, Claims, Mapped};
pub use duration::{role_session_duration, token_duration};
pub use error::StsRuleError;
pub use record::{AuthorizationRecord, StatementRecord};
pub use tags::{SessionTagPlan, plan_session_tags};
