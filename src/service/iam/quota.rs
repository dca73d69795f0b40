//! The account-wide entity quotas of reference section 12.
//!
//! Owns: the quota values ([`USERS`], [`GROUPS`], [`ROLES`],
//! [`MANAGED_POLICIES`], [`PROVIDERS`]) and [`check`], which refuses a
//! create with AWS's `LimitExceeded` message once the account holds the
//! quota. The count is read inside the create's commit closure but is not
//! itself a precondition of the commit: two creates racing at the very
//! edge of a quota may both succeed (AWS's own quotas are eventually
//! consistent too). May import `service::store` and `service::error`.

use crate::domain::ids::AccountId;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::scan::list_all;
use crate::service::store::{Entity, EntityReader};

/// `UsersPerAccount` (not adjustable in AWS).
pub const USERS: usize = 5_000;
/// `GroupsPerAccount` (AWS default).
pub const GROUPS: usize = 300;
/// `RolesPerAccount` (AWS default).
pub const ROLES: usize = 1_000;
/// `PoliciesPerAccount`: customer managed policies (AWS default).
pub const MANAGED_POLICIES: usize = 1_500;
/// SAML providers, and OIDC providers, per account.
pub const PROVIDERS: usize = 100;

/// `LimitExceeded` ("Cannot exceed quota for `name`: `limit`") when
/// `account` already holds `limit` records of `T`'s kind.
///
/// # Errors
///
/// `LimitExceeded`, or the store's failure.
pub async fn check<T: Entity>(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    name: &str,
    limit: usize,
) -> Result<(), ServiceError> {
    let held = list_all::<T>(store, account).await?.len();
    if held >= limit {
        return Err(ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for {name}: {limit}"),
        ));
    }
    Ok(())
}
