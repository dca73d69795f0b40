//! Credential vending: the use cases behind `stsd agent` and
//! `stsd credential-process`.
//!
//! Owns: the ports the agent needs — [`Broker`] (AssumeRole and
//! AssumeRoleWithWebIdentity against the stsd broker) and [`TokenSource`]
//! (the web-identity token file, re-read at every call so a rotated
//! projected token is picked up) — and the two ways of vending:
//! [`RoleSource`] (a sidecar's one role, refreshed ahead of expiry in the
//! background, served from memory) and [`Workloads`] (a node agent's many
//! workloads, each identified by the token it presents). The rules of when
//! to refresh and what may be served are `domain::vending`'s. May use tokio
//! time and tasks; no transport.

mod role;
mod workloads;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::secret::BearerToken;
use crate::domain::vending::VendedCredentials;

pub use role::{Health, HealthStatus, RoleSource};
pub use workloads::{VendError, WorkloadRole, Workloads};

/// What is asked of the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// The role's ARN.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`.
    pub duration_secs: u32,
}

/// Why the broker did not answer credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// No answer: connection, TLS, timeout, or the broker is unavailable.
    /// Worth retrying.
    #[error("the broker is unreachable: {0}")]
    Unreachable(String),
    /// The broker refused, with an AWS error code (`AccessDenied`,
    /// `InvalidIdentityToken`, `ExpiredTokenException`, …).
    #[error("the broker refused: {code}: {message}")]
    Refused {
        /// The AWS error code.
        code: String,
        /// The broker's message.
        message: String,
    },
    /// The web-identity token could not be read (the file is missing or
    /// empty); the broker was not called.
    #[error("the web-identity token cannot be read: {0}")]
    Token(String),
}

/// The broker's STS actions, as the agent calls them.
#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// `AssumeRole`, authenticated by the agent's own long-term key or
    /// client certificate.
    async fn assume_role(&self, request: &RoleRequest) -> Result<VendedCredentials, BrokerError>;

    /// `AssumeRoleWithWebIdentity` with `token` (unsigned).
    async fn assume_role_with_web_identity(
        &self,
        request: &RoleRequest,
        token: &BearerToken,
    ) -> Result<VendedCredentials, BrokerError>;
}

/// Where a web-identity token comes from (a file, re-read at every call).
pub trait TokenSource: Send + Sync + 'static {
    /// The current token.
    ///
    /// # Errors
    ///
    /// Why it cannot be read, naming the file.
    fn read(&self) -> Result<BearerToken, String>;
}

/// How a [`RoleSource`] authenticates to the broker.
#[derive(Clone)]
pub enum Authentication {
    /// AssumeRole with the broker adapter's key or certificate.
    Signed,
    /// AssumeRoleWithWebIdentity with the token the source reads.
    WebIdentity(Arc<dyn TokenSource>),
}

/// A random sample in `[0, 1)`, for jitter (injected so tests are exact).
pub type Unit = Arc<dyn Fn() -> f64 + Send + Sync>;

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Signed => "Signed",
            Self::WebIdentity(_) => "WebIdentity",
        })
    }
}

/// One call to the broker for `request`, authenticated as `auth` says.
async fn call(
    broker: &dyn Broker,
    auth: &Authentication,
    request: &RoleRequest,
) -> Result<VendedCredentials, BrokerError> {
    match auth {
        Authentication::Signed => broker.assume_role(request).await,
        Authentication::WebIdentity(source) => {
            let token = source.read().map_err(BrokerError::Token)?;
            broker.assume_role_with_web_identity(request, &token).await
        }
    }
}

#[cfg(test)]
mod tests;
