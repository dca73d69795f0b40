//! GetAccessKeyInfo (reference 1.3, 3.2).
//!
//! Owns: the use case — the account that owns an access key id, decoded
//! from the id itself (`AKIA…`/`ASIA…` ids stsd mints carry their account,
//! whatever the key's status, even once deleted), or, for ids that do not
//! carry one (keys supplied by an operator), looked up in the store. The
//! caller must be allowed `sts:GetAccessKeyInfo`; GetSessionToken and
//! federated-user sessions may not call it (reference 1.3). May import
//! `domain`, `service::authn`, `service::authz`, `service::error` and
//! `service::store`.

use crate::domain::ids::{AccessKeyId, AccountId};
use crate::service::authn::Caller;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};

use super::{Sts, refuse_restricted_session};

/// GetAccessKeyInfo: the account owning `id`.
///
/// # Errors
///
/// `AccessDenied`; `InvalidParameterValue` for an id that carries no
/// account and that the store does not know.
pub async fn get_access_key_info(
    sts: &Sts,
    caller: &Caller,
    authz: &AuthzCaller,
    id: &AccessKeyId,
) -> Result<AccountId, ServiceError> {
    refuse_restricted_session(caller, &sts.partition, "sts:GetAccessKeyInfo", "*")?;
    authz.authorize("sts:GetAccessKeyInfo", "*", &[])?;
    if let Some(account) = id.account() {
        return Ok(account);
    }
    if let Some(key) = sts.store.access_key(id).await? {
        return Ok(key.record.account);
    }
    Err(ServiceError::new(
        ErrorCode::InvalidParameterValue,
        format!("The access key ID {id} does not identify an account."),
    ))
}
