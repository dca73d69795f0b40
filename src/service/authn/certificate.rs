//! Callers authenticated by an mTLS client certificate.
//!
//! Owns: [`Authenticator::authenticate_certificate`], which turns what the
//! connection's verified client certificate was mapped to at the
//! handshake (`domain::client_cert::ClientMatch`) into a [`Caller`]: the
//! account root as is, a user looked up by name through the
//! [`UserLookup`] port on every request — so a deleted user stops
//! authenticating on its next call — and [`StoreUsers`], that port over
//! the identity store. A certificate caller has no access key
//! (`Caller::access_key_id` is `None`) and no signing region.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Authenticator, Caller, Identity};
use crate::domain::client_cert::{ClientMatch, MappedPrincipal};
use crate::domain::ids::{AccountId, UserName};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::UserRecord;
use crate::service::store::{EntityReader, Key, fetch};

/// Finds an IAM user by name.
#[async_trait]
pub trait UserLookup: Send + Sync {
    /// The user `name` of `account` as an [`Identity::User`], or `None`
    /// when no such user exists.
    ///
    /// # Errors
    ///
    /// The store's error.
    async fn user(
        &self,
        account: AccountId,
        name: &UserName,
    ) -> Result<Option<Identity>, ServiceError>;
}

/// [`UserLookup`] over the identity store.
pub struct StoreUsers<S: ?Sized>(pub Arc<S>);

#[async_trait]
impl<S: EntityReader + ?Sized> UserLookup for StoreUsers<S> {
    async fn user(
        &self,
        account: AccountId,
        name: &UserName,
    ) -> Result<Option<Identity>, ServiceError> {
        let found = fetch::<UserRecord>(self.0.as_ref(), &Key::user(account, name)).await?;
        Ok(found.map(|u| Identity::User {
            name: u.record.name,
            unique_id: u.record.id,
            path: u.record.path,
        }))
    }
}

/// The refusal of a request with neither a signature nor a client
/// certificate.
pub fn missing_authentication() -> ServiceError {
    ServiceError::new(
        ErrorCode::MissingAuthenticationToken,
        "Request is missing Authentication Token.",
    )
}

// === impl Authenticator ===

impl Authenticator {
    /// Uses `users` to find the users client certificates are mapped to.
    /// Without it, a certificate mapped to a user authenticates nobody.
    #[must_use]
    pub fn with_users(mut self, users: Arc<dyn UserLookup>) -> Self {
        self.users = Some(users);
        self
    }

    /// The caller of an unsigned request on a connection whose client
    /// certificate was found to be `client` (`None`: no certificate).
    ///
    /// # Errors
    ///
    /// `MissingAuthenticationToken` without a certificate, or with one
    /// that maps to no principal or to several; `InvalidClientTokenId`
    /// when the mapped user does not exist (any more); the store's error.
    pub async fn authenticate_certificate(
        &self,
        client: Option<&ClientMatch>,
    ) -> Result<Caller, ServiceError> {
        let principal = match client {
            None => return Err(missing_authentication()),
            Some(ClientMatch::Unmapped) => {
                return Err(ServiceError::new(
                    ErrorCode::MissingAuthenticationToken,
                    "The client certificate is not mapped to a principal; sign the request with SigV4 or use a mapped certificate.",
                ));
            }
            Some(ClientMatch::Ambiguous) => {
                return Err(ServiceError::new(
                    ErrorCode::MissingAuthenticationToken,
                    "The client certificate is mapped to more than one principal; sign the request with SigV4 or use a certificate that names one.",
                ));
            }
            Some(ClientMatch::Mapped { principal, .. }) => principal,
        };
        let identity = match principal {
            MappedPrincipal::Root(_) => Identity::Root,
            MappedPrincipal::User(account, name) => {
                let found = match &self.users {
                    Some(users) => users.user(*account, name).await?,
                    None => None,
                };
                found.ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::InvalidClientTokenId,
                        "The user the client certificate is mapped to does not exist.",
                    )
                })?
            }
        };
        Ok(Caller {
            account: principal.account(),
            identity,
            access_key_id: None,
            region: None,
        })
    }
}
