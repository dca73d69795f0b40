//! Session machinery beyond AWS: revocation and the issued-session log.
//!
//! Owns: [`Sessions`], the operations behind gRPC `Sessions.Revoke` and
//! `Sessions.List` ([`Sessions::revoke`], [`Sessions::list`]: the caller
//! is authorized by the shared evaluator for `stsd:RevokeSessions` /
//! `stsd:ListSessions`, within its own account), and the parts the rest
//! of the service layer uses: the live revocation set consulted on every
//! session authentication ([`Revocations`]), the group-commit writer of
//! issued-session records ([`SessionRecorder`]) and the periodic refresh
//! and purge ([`maintain`]). May import `domain`, `service::authz`,
//! `service::error`, `service::iam` (the entropy port) and
//! `service::store`; tokio for the writer and the maintenance loop.
//! Spec: issue 6 "Sessions"; README "Sessions".

mod list;
mod maintenance;
mod recorder;
mod revocations;
mod revoke;

use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::ids::{AccessKeyId, Arn, Partition, SourceIdentity};
use crate::service::iam::Entropy;
use crate::service::store::IamStore;

pub use list::{DEFAULT_MAX_ITEMS, SessionList};
pub use maintenance::{MaintenanceSettings, maintain};
pub use recorder::{RecorderSettings, SessionRecorder};
pub use revocations::Revocations;

/// The action that allows revoking sessions.
pub const REVOKE_ACTION: &str = "stsd:RevokeSessions";
/// The action that allows listing sessions.
pub const LIST_ACTION: &str = "stsd:ListSessions";

/// The session operations.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// The store: revocation rules and issued sessions.
    pub store: Arc<dyn IamStore>,
    /// The rules this process enforces; a revoke adds to it at once.
    pub revocations: Arc<Revocations>,
    /// Issue times, liveness.
    pub clock: Arc<dyn Clock>,
    /// The partition of resource ARNs.
    pub partition: Partition,
    /// Rule ids.
    pub entropy: Arc<dyn Entropy>,
}

/// What to revoke, in the caller's account. `issued_before` (unix
/// seconds, at most now) defaults to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeTarget {
    /// The session of one `ASIA…` key.
    Session {
        /// The key id.
        access_key_id: AccessKeyId,
    },
    /// Every session of a role issued at or before the time.
    Role {
        /// The role's ARN (any path; matched by name).
        role_arn: Arn,
        /// The cut-off.
        issued_before: Option<u64>,
    },
    /// Every session carrying a source identity.
    SourceIdentity {
        /// The source identity.
        source_identity: SourceIdentity,
        /// The cut-off.
        issued_before: Option<u64>,
    },
    /// Every session of a federated subject.
    Subject {
        /// The IAM OIDC or SAML provider's ARN.
        provider_arn: Arn,
        /// `sub` (OIDC) or the SAML `NameID`, as the session records it.
        subject: String,
        /// The cut-off.
        issued_before: Option<u64>,
    },
    /// Every session of the account.
    Account {
        /// The cut-off.
        issued_before: Option<u64>,
    },
}

#[cfg(test)]
mod tests;
