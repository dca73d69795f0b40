//! The account alias: CreateAccountAlias, DeleteAccountAlias,
//! ListAccountAliases.
//!
//! Owns: at most one alias per account, unique across the store's
//! accounts (the store's rule for [`Kind::AccountAlias`] records, so it
//! holds across replicas too), mirrored on the account record's `alias`
//! (the name MFA labels and sign-in show) in the same commit. Authorized
//! on `*` (IAM gives these actions no resource type). May import `domain`,
//! `service::authz`, `service::error`, `service::store`.
//!
//! [`Kind::AccountAlias`]: crate::service::store::Kind::AccountAlias

use crate::domain::ids::AccountAlias;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::scan::list_page;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::model::{AccountAliasRecord, AccountRecord};
use crate::service::store::{Key, Timestamp, Transaction, Versioned, commit_with_retry, fetch};

/// Aliases per account.
pub const MAX_ALIASES: usize = 1;

/// AWS's answer for an alias that is taken, by this account or another.
fn taken(alias: &AccountAlias) -> ServiceError {
    ServiceError::new(
        ErrorCode::EntityAlreadyExists,
        format!("The account alias {alias} already exists."),
    )
}

/// The caller's account record.
async fn account_record(
    iam: &Iam,
    caller: &AuthzCaller,
) -> Result<Versioned<AccountRecord>, ServiceError> {
    fetch::<AccountRecord>(&*iam.store, &Key::account(caller.account()))
        .await?
        .ok_or_else(|| ServiceError::internal("the caller's account record is missing"))
}

/// CreateAccountAlias.
///
/// # Errors
///
/// `AccessDenied`; `EntityAlreadyExists` when any account has the alias;
/// `LimitExceeded` when this account has another one (delete it first).
pub async fn create_account_alias(
    iam: &Iam,
    caller: &AuthzCaller,
    alias: AccountAlias,
) -> Result<(), ServiceError> {
    caller.authorize("iam:CreateAccountAlias", "*", &[])?;
    let account = caller.account();
    let alias = &alias;
    let result = commit_with_retry(&*iam.store, move || async move {
        let record = account_record(iam, caller).await?;
        if record.record.alias.as_deref() == Some(alias.as_str())
            || iam.store.account_by_alias(alias).await?.is_some()
        {
            return Err(taken(alias));
        }
        if record.record.alias.is_some() {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                format!("Cannot exceed quota for AccountAliasesPerAccount: {MAX_ALIASES}"),
            ));
        }
        let mut updated = record.record.clone();
        updated.alias = Some(alias.to_string());
        let mut txn = Transaction::new();
        txn.require_unchanged(&record)
            .require_absent(Key::account_alias(account, alias))
            .put(updated)
            .put(AccountAliasRecord {
                account,
                alias: alias.clone(),
                create_date: Timestamp::now(&*iam.clock),
            });
        Ok::<_, ServiceError>((txn, ()))
    })
    .await;
    match result {
        Ok(_) => Ok(()),
        // Another account took it between the check and the commit.
        Err(e) if e.code() == ErrorCode::EntityAlreadyExists => Err(taken(alias)),
        Err(e) => Err(e),
    }
}

/// DeleteAccountAlias.
///
/// # Errors
///
/// `AccessDenied`; `NoSuchEntity` unless the account has this alias.
pub async fn delete_account_alias(
    iam: &Iam,
    caller: &AuthzCaller,
    alias: AccountAlias,
) -> Result<(), ServiceError> {
    caller.authorize("iam:DeleteAccountAlias", "*", &[])?;
    let account = caller.account();
    let alias = &alias;
    commit_with_retry(&*iam.store, move || async move {
        let record = account_record(iam, caller).await?;
        let key = Key::account_alias(account, alias);
        let found = fetch::<AccountAliasRecord>(&*iam.store, &key)
            .await?
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::NoSuchEntity,
                    format!("The account alias {alias} cannot be found."),
                )
            })?;
        let mut updated = record.record.clone();
        updated.alias = None;
        let mut txn = Transaction::new();
        txn.require_unchanged(&record)
            .require_unchanged(&found)
            .put(updated)
            .delete(key);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListAccountAliases (at most one).
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_account_aliases(
    iam: &Iam,
    caller: &AuthzCaller,
    paging: &Paging,
) -> Result<Listing<AccountAlias>, ServiceError> {
    caller.authorize("iam:ListAccountAliases", "*", &[])?;
    let page = list_page::<AccountAliasRecord>(&*iam.store, caller.account(), paging).await?;
    Ok(Listing {
        items: page.items.into_iter().map(|r| r.alias).collect(),
        marker: page.marker,
    })
}
