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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::client_cert::San;
    use crate::domain::clock::FixedClock;
    use crate::service::authn::{AuthnSettings, StaticCredentials};

    /// Knows one user, `billing` of 123456789012.
    struct OneUser;

    #[async_trait]
    impl UserLookup for OneUser {
        async fn user(
            &self,
            account: AccountId,
            name: &UserName,
        ) -> Result<Option<Identity>, ServiceError> {
            Ok(
                (account.as_str() == "123456789012" && name.as_str() == "billing").then(|| {
                    Identity::User {
                        name: name.clone(),
                        unique_id: "AIDARTX3GSDSEXAMPLEAB".parse().unwrap(),
                        path: "/".parse().unwrap(),
                    }
                }),
            )
        }
    }

    fn authenticator(users: bool) -> Authenticator {
        let a = Authenticator::new(
            Arc::new(StaticCredentials::new()),
            Arc::new(FixedClock::at_secs(0)),
            AuthnSettings {
                regions: vec!["us-east-1".into()],
                max_skew: Duration::from_secs(900),
                max_presigned_lifetime: Duration::from_secs(900),
            },
        );
        if users {
            a.with_users(Arc::new(OneUser))
        } else {
            a
        }
    }

    fn mapped(principal: MappedPrincipal) -> ClientMatch {
        ClientMatch::Mapped {
            principal,
            san: San::Dns("billing.internal".into()),
        }
    }

    #[tokio::test]
    async fn a_mapped_certificate_is_its_user_or_root_without_a_key() {
        let account: AccountId = "123456789012".parse().unwrap();
        let a = authenticator(true);
        let user = mapped(MappedPrincipal::User(account, "billing".parse().unwrap()));
        let caller = a.authenticate_certificate(Some(&user)).await.unwrap();
        assert_eq!(caller.account, account);
        assert_eq!(caller.user_id(), "AIDARTX3GSDSEXAMPLEAB");
        assert_eq!(caller.access_key_id, None);
        let root = mapped(MappedPrincipal::Root(account));
        let caller = a.authenticate_certificate(Some(&root)).await.unwrap();
        assert_eq!(caller.identity, Identity::Root);
    }

    #[tokio::test]
    async fn no_unmapped_ambiguous_or_unknown_certificates_are_refused() {
        let account: AccountId = "123456789012".parse().unwrap();
        let a = authenticator(true);
        let code = |r: Result<Caller, ServiceError>| r.unwrap_err().code();
        assert_eq!(
            code(a.authenticate_certificate(None).await),
            ErrorCode::MissingAuthenticationToken
        );
        let e = a
            .authenticate_certificate(Some(&ClientMatch::Unmapped))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::MissingAuthenticationToken);
        assert!(e.message().contains("not mapped to a principal"));
        assert_eq!(
            code(
                a.authenticate_certificate(Some(&ClientMatch::Ambiguous))
                    .await
            ),
            ErrorCode::MissingAuthenticationToken
        );
        let gone = mapped(MappedPrincipal::User(account, "alice".parse().unwrap()));
        assert_eq!(
            code(a.authenticate_certificate(Some(&gone)).await),
            ErrorCode::InvalidClientTokenId
        );
        let billing = mapped(MappedPrincipal::User(account, "billing".parse().unwrap()));
        assert_eq!(
            code(
                authenticator(false)
                    .authenticate_certificate(Some(&billing))
                    .await
            ),
            ErrorCode::InvalidClientTokenId
        );
    }
}
